package targets

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiofake "istio.io/client-go/pkg/clientset/versioned/fake"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
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

// newFakeCluster serves objs from fake clientsets. With watched
// namespaces the source runs in namespaced mode, and the fakes answer 403
// to any request outside them, as the chart's per-namespace Roles make the
// API server do.
func newFakeCluster(t testing.TB, objs []runtime.Object, watched ...string) *fakeCluster {
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
	if len(watched) > 0 {
		for _, f := range []*k8stesting.Fake{&fc.kube.Fake, &fc.meta.Fake, &fc.istio.Fake} {
			f.PrependReactor("*", "*", forbidOutside(watched))
			f.PrependWatchReactor("*", forbidWatchOutside(watched))
		}
	}
	fc.ClusterSource = NewClusterSource(ClusterOptions{Kube: fc.kube, Metadata: fc.meta, Istio: fc.istio, Namespaces: watched})
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

// forbidOutside refuses, as RBAC with Roles only in watched would, every
// request outside those namespaces, cluster-scoped ones included.
func forbidOutside(watched []string) k8stesting.ReactionFunc {
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		if slices.Contains(watched, a.GetNamespace()) {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(a.GetResource().GroupResource(), "", errors.New("no Role here"))
	}
}

func forbidWatchOutside(watched []string) k8stesting.WatchReactionFunc {
	return func(a k8stesting.Action) (bool, watch.Interface, error) {
		_, _, err := forbidOutside(watched)(a)
		return err != nil, nil, err
	}
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
