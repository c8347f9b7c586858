package targets

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/chaosd/chaosd/internal/config"
)

// syntheticPodMeta is a pod as the API server sends it to a metadata
// informer: labels, a controller, managedFields and the annotations real
// clusters carry.
func syntheticPodMeta(i int) *metav1.PartialObjectMetadata {
	ns, app := fmt.Sprintf("ns-%03d", (i/5)%100), fmt.Sprintf("app-%05d", i/5)
	rs := app + "-5d8f7c9b4"
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: fmt.Sprintf("%s-%05d", rs, i), UID: "2c3f0a64-1f5e-4c8e-9a53-6d1c2f8b7e10",
			ResourceVersion: fmt.Sprint(1000000 + i), CreationTimestamp: metav1.NewTime(longAgo),
			Labels: map[string]string{"app": app, "pod-template-hash": "5d8f7c9b4", "tier": []string{"web", "db"}[i%2]},
			Annotations: map[string]string{
				"kubectl.kubernetes.io/restartedAt":   "2026-11-01T10:00:00Z",
				"prometheus.io/scrape":                "true",
				"cni.projectcalico.org/podIP":         "10.12.34.56/32",
				"kubernetes.io/psp":                   "restricted",
				"checksum/config":                     "3b1f4c9e2a7d5f60c8b9e1a2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2",
				"cluster-autoscaler.kubernetes.io/sa": "false",
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: "9f1e2d3c", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: make([]byte, 1200)}}},
		},
	}
}

// syntheticPod is a Running pod as the API server sends it to the pod
// informer: syntheticPodMeta's metadata, a node, and the Ready condition
// (false for one pod in 17). The spec and status fields a pick does not read
// are left out: the transform drops them before the store keeps anything.
func syntheticPod(i int) *corev1.Pod {
	ready := corev1.ConditionTrue
	if i%17 == 0 {
		ready = corev1.ConditionFalse
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: syntheticPodMeta(i).ObjectMeta,
		Spec:       corev1.PodSpec{NodeName: fmt.Sprintf("node-%04d", i/30)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: ready},
		}},
	}
}

// syntheticSource is a cluster of n pods: Deployments of 5 replicas spread
// over 100 namespaces, one node per 30 pods, a PDB per 10 Deployments.
func syntheticSource(n int) *staticSource {
	s := newStaticSource()
	for ns := range 100 {
		s.namespaces = append(s.namespaces, &Meta{Name: fmt.Sprintf("ns-%03d", ns)})
	}
	for i := range n {
		pod := syntheticPod(i)
		obj, _ := podTransform(pod)
		m := &obj.(*cachedMeta).Meta
		if i%5 == 0 {
			app := fmt.Sprintf("app-%05d", i/5)
			s.addWorkload(KindDeployment, &Meta{Namespace: m.Namespace, Name: app}, 5)
			s.addWorkload(KindReplicaSet, &Meta{Namespace: m.Namespace, Name: m.Owner.Name, Owner: Owner{Kind: KindDeployment, Name: app}}, 5)
			if i%50 == 0 {
				sel := labels.SelectorFromSet(labels.Set{"app": app})
				s.pdbs[m.Namespace] = append(s.pdbs[m.Namespace], PDB{Namespace: m.Namespace, Name: app, Selector: sel, DisruptionsAllowed: 1})
			}
		}
		s.addPod(m, PodStatusOf(pod))
	}
	for i := range n/30 + 1 {
		s.nodes = append(s.nodes, Node{Meta: Meta{Name: fmt.Sprintf("node-%04d", i)}, Ready: true})
	}
	return s.index()
}

// BenchmarkPick measures Pick on the pure selection layer at 10k and 100k
// pods. "one" walks every pod's metadata (no selector) then reads one
// workload; the others narrow the candidates first, as real experiments do.
func BenchmarkPick(b *testing.B) {
	cases := []struct {
		name       string
		target     config.Target
		exhaustive bool
	}{
		{name: "one", target: config.Target{Kind: config.TargetPod, Mode: mode("one")}},
		{name: "count:3-selector", target: config.Target{Kind: config.TargetPod, Mode: mode("count:3"), Selector: "tier=web"}},
		{name: "percent:10-namespace", target: config.Target{Kind: config.TargetPod, Mode: mode("percent:10"), Namespaces: []string{"ns-042"}}},
		{name: "all-app", target: config.Target{Kind: config.TargetPod, Mode: mode("all"), Selector: "app=app-00420"}},
		{name: "one-exhaustive", target: config.Target{Kind: config.TargetPod, Mode: mode("one")}, exhaustive: true},
	}
	policy := config.Policy{MaxUnavailablePerWorkload: intOrPercent("34%"), MinPodAge: time.Minute}
	for _, size := range []int{10_000, 100_000} {
		src := syntheticSource(size)
		for _, tc := range cases {
			b.Run(fmt.Sprintf("%dk/%s", size/1000, tc.name), func(b *testing.B) {
				p := NewPicker(Options{Source: src, Clock: clocktesting.NewFakePassiveClock(testNow), Exhaustive: tc.exhaustive})
				rng := newRand(1)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.Pick(context.Background(), experiment(tc.target), policy, rng); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkInventoryMemory fills an informer-style store with 100k pods
// through podTransform, as the ClusterSource's pod informer does, and
// reports the heap it holds per pod (keys included): the Meta and the
// cachedPod.
func BenchmarkInventoryMemory(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
		for i := range n {
			obj, err := podTransform(syntheticPod(i))
			if err != nil {
				b.Fatal(err)
			}
			if err := store.Add(obj); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/pod")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB/100k")
		// The PodIndex the pod informer's handlers keep next to the store,
		// with one selector counted, as after a pick.
		var idx PodIndex
		for _, obj := range store.List() {
			idx.Upsert(&obj.(*cachedMeta).Meta)
		}
		idx.viewMatching(labels.SelectorFromSet(labels.Set{"tier": "web"}), nil)
		var indexed runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&indexed)
		b.ReportMetric(float64(indexed.HeapAlloc-after.HeapAlloc)/n, "index-heap-bytes/pod")
		runtime.KeepAlive(store)
		runtime.KeepAlive(&idx)
	}
}
