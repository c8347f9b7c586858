//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/chaosd/chaosd/test/cluster"
)

// importChaosMeshSchedule is a Chaos Mesh Schedule as its users write them
// (the shape of chaos-mesh's examples/web-show/pod-kill.yaml), selecting
// the go-demo-8 API pods: release=primary also labels the repeater, which
// the expression selector leaves out, and the database has neither.
const importChaosMeshSchedule = `apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata:
  name: kill-api
  namespace: chaos-mesh
spec:
  schedule: '@every 10m'
  type: PodChaos
  historyLimit: 5
  concurrencyPolicy: Forbid
  podChaos:
    action: pod-kill
    mode: one
    selector:
      namespaces: [go-demo-8]
      labelSelectors: {release: primary}
      expressionSelectors:
      - {key: app, operator: NotIn, values: [repeater]}
`

// importSourceSelector is the source's selector, built here independently
// of the importer, to judge what the converted config killed.
var importSourceSelector = func() labels.Selector {
	sel, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{
		MatchLabels:      map[string]string{"release": "primary"},
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"repeater"}}},
	})
	if err != nil {
		panic(err)
	}
	return sel
}()

// TestImportChaosMeshPodKill proves `chaosd import chaos-mesh`: the config
// it writes from a Chaos Mesh Schedule runs under `chaosd once` on the real
// control plane and kills a pod the source selector matches, while pods it
// does not match survive.
func TestImportChaosMeshPodKill(t *testing.T) {
	opts := cluster.FullOptions()
	opts.DemoExporter, opts.Prometheus.Enabled = false, false // the import writes an Alertmanager guard only
	c := expStart(t, opts)

	dir := t.TempDir()
	src := filepath.Join(dir, "schedule.yaml")
	if err := os.WriteFile(src, []byte(importChaosMeshSchedule), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "chaosd.yaml")
	imp := exec.Command(chaosdBinary(t), "import", "chaos-mesh", src, "-o", out)
	if b, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("chaosd import chaos-mesh: %v\n%s", err, b)
	}
	converted, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// What the import's notes tell the user to do: point the guard at their
	// Alertmanager (N003) and turn dry run off (N004). Nothing else is edited.
	cfgText := string(converted)
	for old, repl := range map[string]string{"http://alertmanager.monitoring:9093": c.AlertmanagerURL, "dryRun: true": "dryRun: false"} {
		if !strings.Contains(cfgText, old) {
			t.Fatalf("converted config lacks %q:\n%s", old, cfgText)
		}
		cfgText = strings.ReplaceAll(cfgText, old, repl)
	}
	cfg := newConfigDir(t, cfgText)

	before, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	matching, other := map[string]bool{}, map[string]bool{}
	for _, p := range before.Items {
		if importSourceSelector.Matches(labels.Set(p.Labels)) {
			matching[p.Name] = true
		} else {
			other[p.Name] = true
		}
	}
	if len(matching) == 0 || len(other) == 0 {
		t.Fatalf("want pods on both sides of the source selector, got matching %v, other %v", matching, other)
	}

	r := expOnce(t, c, cfg.Path, "kill-api")
	expWantVerdict(t, r, 0, "passed")
	killed := expChosenPod(t, r)
	if !matching[killed] {
		t.Fatalf("killed pod %s does not match the source selector %s (matching: %v)", killed, importSourceSelector, matching)
	}
	for _, p := range before.Items {
		if p.Name == killed {
			expWantPodGone(t, c, killed, p.UID)
		}
	}
	// The run has ended (verdict above), so a pod outside the selector that
	// is still there with its UID and no deletion mark was never touched.
	for _, p := range before.Items {
		if !other[p.Name] {
			continue
		}
		now, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).Get(context.Background(), p.Name, metav1.GetOptions{})
		if err != nil || now.UID != p.UID || now.DeletionTimestamp != nil {
			t.Errorf("pod %s outside the source selector did not survive: %v", p.Name, err)
		}
	}
	expWaitDemoAvailable(t, c, 2*time.Minute)
}
