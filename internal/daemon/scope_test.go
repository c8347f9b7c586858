package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

const (
	inScopeExperiments = `experiments:
  - name: kill
    schedule: "@hourly"
    target: {kind: pod, namespaces: [shop], mode: one}
    action: {type: pod-kill}
`
	inScope    = guarded + inScopeExperiments
	outOfScope = inScope + `  - name: drain
    schedule: "@hourly"
    target: {kind: node, mode: one}
    action: {type: node-drain}
    duration: 1m
`
	drainRefused = "experiments[1].target.kind: target kind node needs cluster-wide access to nodes; it cannot run with --namespaced"
)

func writeConfig(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// In namespaced mode a config aiming outside the watched namespaces stops
// chaosd before it touches the cluster (no clients are even set here); the
// same config is fine cluster-wide.
func TestStartRefusesConfigOutsideScope(t *testing.T) {
	o := Options{ConfigPath: writeConfig(t, outOfScope), WatchNamespaces: []string{"shop"}}
	if err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), drainRefused) {
		t.Errorf("Run: %v, want the scope refusal", err)
	}
	if _, err := Once(context.Background(), o, "kill"); err == nil || !strings.Contains(err.Error(), drainRefused) {
		t.Errorf("Once: %v, want the scope refusal", err)
	}
	o.WatchNamespaces = nil
	if _, err := o.loadConfig(); err != nil {
		t.Errorf("cluster-wide: %v, want the config accepted", err)
	}
}

// A reload aiming outside the watched namespaces is rejected like an
// invalid one: the last good config stays, the status says why.
func TestReloadOutsideScopeKeepsLastGoodConfig(t *testing.T) {
	o := Options{
		ConfigPath: writeConfig(t, inScope), Kube: fake.NewClientset(), Metadata: metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme()),
		Namespace: "chaosd", Identity: "chaosd-0", JournalDir: t.TempDir(), WatchNamespaces: []string{"shop"},
		Clock: clocktesting.NewFakeClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)), Registry: prometheus.NewRegistry(),
	}.withDefaults()
	good, err := o.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := build(ctx, o, good, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.shutdownOnce()

	bad, err := config.Parse("config.yaml", []byte(outOfScope))
	if err != nil {
		t.Fatal(err)
	}
	d.reload(ctx, bad, nil)
	if d.cfg.Load() != good {
		t.Error("the out-of-scope config replaced the last good one")
	}
	if st := d.status(); st.ConfigError != drainRefused {
		t.Errorf("status configError = %q, want %q", st.ConfigError, drainRefused)
	}
}
