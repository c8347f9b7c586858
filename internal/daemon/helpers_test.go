package daemon

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
)

// testNow is the fake clock's start in every daemon test.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const (
	testNamespace = "chaosd"
	testConfigMap = "chaosd-config"
)

// guarded is the guard section every test config carries: chaosd refuses
// a config without Alertmanager, Prometheus or an explicit opt-out.
const guarded = `guard:
  alertmanager: {url: "http://alertmanager.invalid:9093"}
`

// testOptions are a daemon's options on fake clients and a fake clock;
// kube and meta may be nil.
func testOptions(t *testing.T, doc string, kube *fake.Clientset, meta *metadatafake.FakeMetadataClient) Options {
	t.Helper()
	if kube == nil {
		kube = fake.NewClientset()
	}
	if meta == nil {
		meta = metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())
	}
	return Options{
		ConfigPath: writeConfig(t, doc), Kube: kube, Metadata: meta, Namespace: testNamespace, Identity: "chaosd-0",
		ConfigMap: testConfigMap, JournalDir: t.TempDir(), Clock: clocktesting.NewFakeClock(testNow), Registry: prometheus.NewRegistry(),
	}.withDefaults()
}

// testDaemon builds a daemon as Run and Once do, without serving or
// campaigning; kube and meta may be nil.
func testDaemon(t *testing.T, doc string, kube *fake.Clientset, meta *metadatafake.FakeMetadataClient, oneShot bool) (*daemon, *clocktesting.FakeClock) {
	t.Helper()
	o := testOptions(t, doc, kube, meta)
	cfg, err := o.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := build(ctx, o, cfg, oneShot)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.journal.Close() })
	return d, o.Clock.(*clocktesting.FakeClock)
}

// chaosdConfigMap is chaosd's own ConfigMap with the given annotations.
func chaosdConfigMap(annotations map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: testConfigMap, Annotations: annotations}}
}

// orphanedCordon is a Node cordoned by a leader that died an hour ago:
// its intent names another replica and expired before testNow.
func orphanedCordon(t *testing.T, name string) *corev1.Node {
	t.Helper()
	in, err := json.Marshal(experiments.Intent{
		Run: "20261125t100000z-cordon-dead", Experiment: "cordon", Action: config.ActionNodeCordon, By: "chaosd-old",
		InjectedAt: testNow.Add(-2 * time.Hour), ExpiresAt: testNow.Add(-time.Hour), Original: json.RawMessage(`{"wasUnschedulable":false}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{experiments.LabelInjected: "true"},
			Annotations: map[string]string{experiments.AnnotationInjection: string(in)}},
		Spec: corev1.NodeSpec{Unschedulable: true},
	}
}
