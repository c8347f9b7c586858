package targets

import (
	"context"
	"reflect"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiofake "istio.io/client-go/pkg/clientset/versioned/fake"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// fakeCluster is a ClusterSource over the fake clientsets, started and synced.
type fakeCluster struct {
	*ClusterSource
	kube  *kubefake.Clientset
	meta  *metadatafake.FakeMetadataClient
	istio *istiofake.Clientset
}

func newFakeCluster(t testing.TB, objs []runtime.Object) *fakeCluster {
	t.Helper()
	var kubeObjs, metaObjs, istioObjs []runtime.Object
	for _, o := range objs {
		if _, ok := o.(*istionet.VirtualService); ok {
			istioObjs = append(istioObjs, o)
			continue
		}
		kubeObjs = append(kubeObjs, o)
		if pm := partialMeta(o); pm != nil {
			metaObjs = append(metaObjs, pm)
		}
	}
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	fc := &fakeCluster{
		kube:  kubefake.NewClientset(kubeObjs...),
		meta:  metadatafake.NewSimpleMetadataClient(scheme, metaObjs...),
		istio: istiofake.NewSimpleClientset(istioObjs...),
	}
	fc.ClusterSource = NewClusterSource(ClusterOptions{Kube: fc.kube, Metadata: fc.meta, Istio: fc.istio})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fc.Start(ctx)
	// Poll faster than WaitForCacheSync's 100ms: hundreds of tests start a cluster.
	for deadline := time.Now().Add(10 * time.Second); !fc.HasSynced(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("informers did not sync")
		}
	}
	return fc
}

// partialMeta is the metadata-only view the metadata client serves, for the
// kinds the ClusterSource watches.
func partialMeta(o runtime.Object) *metav1.PartialObjectMetadata {
	var apiVersion, kind string
	switch o.(type) {
	case *corev1.Pod:
		apiVersion, kind = "v1", "Pod"
	case *corev1.Namespace:
		apiVersion, kind = "v1", "Namespace"
	case *appsv1.Deployment:
		apiVersion, kind = "apps/v1", KindDeployment
	case *appsv1.ReplicaSet:
		apiVersion, kind = "apps/v1", KindReplicaSet
	case *appsv1.StatefulSet:
		apiVersion, kind = "apps/v1", KindStatefulSet
	case *appsv1.DaemonSet:
		apiVersion, kind = "apps/v1", KindDaemonSet
	default:
		return nil
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: *objMeta(o).DeepCopy(),
	}
}

// pickBoth picks with the same seed from a staticSource and a fake-backed
// ClusterSource built from the same objects, requires identical results,
// and returns one.
func pickBoth(t *testing.T, objs []runtime.Object, exp config.Experiment, policy config.Policy, o Options, seed uint64) Result {
	t.Helper()
	o.Clock = clocktesting.NewFakePassiveClock(testNow)
	var results [2]Result
	for i, src := range []Source{staticFrom(objs), newFakeCluster(t, objs)} {
		o.Source = src
		res, err := NewPicker(o).Pick(context.Background(), exp, policy, newRand(seed))
		if err != nil {
			t.Fatalf("Pick with %T: %v", src, err)
		}
		results[i] = res
	}
	if !reflect.DeepEqual(results[0], results[1]) {
		t.Fatalf("static and cluster sources disagree:\nstatic:  %+v\ncluster: %+v", results[0], results[1])
	}
	return results[0]
}

// names lists the picked targets' String()s.
func names(r Result) []string {
	var out []string
	for _, t := range r.Targets {
		out = append(out, t.String())
	}
	return out
}
