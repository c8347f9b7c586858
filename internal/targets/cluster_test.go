package targets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

func TestClusterSourceRefusesBeforeSync(t *testing.T) {
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	src := NewClusterSource(ClusterOptions{Kube: kubefake.NewClientset(), Metadata: metadatafake.NewSimpleMetadataClient(scheme)})
	ctx := context.Background()
	if _, err := src.Pods(ctx); !errors.Is(err, errNotSynced) {
		t.Errorf("Pods before sync: err = %v, want errNotSynced", err)
	}
	if _, err := src.Namespaces(ctx); !errors.Is(err, errNotSynced) {
		t.Errorf("Namespaces before sync: err = %v, want errNotSynced", err)
	}
	if src.HasSynced() {
		t.Error("HasSynced before Start")
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src.Start(cctx)
	src.Start(cctx) // a second Start is harmless
	waitCtx, cancelWait := context.WithTimeout(cctx, 10*time.Second)
	defer cancelWait()
	if !src.WaitForCacheSync(waitCtx) || !src.HasSynced() {
		t.Error("did not sync")
	}
}

func TestCompactTransform(t *testing.T) {
	in := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: "shop", Name: "web-1", ResourceVersion: "42",
		Labels: map[string]string{"app": "web"},
		Annotations: map[string]string{
			AnnotationEnabled: "true", AnnotationInjection: "x",
			"kubectl.kubernetes.io/last-applied-configuration": `{"huge":"json"}`,
		},
		OwnerReferences: []metav1.OwnerReference{
			{Kind: "Other", Name: "not-controller"},
			{Kind: KindReplicaSet, Name: "web-7d9f", Controller: new(true)},
		},
		ManagedFields:     []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		CreationTimestamp: metav1.NewTime(longAgo),
	}}
	tests := []struct {
		name       string
		withLabels bool
		wantLabels map[string]string
	}{
		{name: "namespaces keep labels", withLabels: true, wantLabels: map[string]string{"app": "web"}},
		{name: "without labels", withLabels: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := compactTransform(tc.withLabels)
			out, err := tr(in)
			if err != nil {
				t.Fatal(err)
			}
			c := out.(*cachedMeta)
			want := Meta{Namespace: "shop", Name: "web-1", Labels: NewLabels(tc.wantLabels), Created: longAgo,
				Owner: Owner{Kind: KindReplicaSet, Name: "web-7d9f"}, Marks: Marks{OptIn: true, Injected: true}}
			if c.Meta != want || c.resourceVersion != "42" {
				t.Errorf("got %+v (rv %s), want %+v", c.Meta, c.resourceVersion, want)
			}
			if again, _ := tr(out); again != out {
				t.Error("transform is not idempotent")
			}
			tomb := cache.DeletedFinalStateUnknown{Key: "shop/web-1", Obj: out}
			if got, _ := tr(tomb); got != any(tomb) {
				t.Error("tombstone changed")
			}
			key, err := cache.MetaNamespaceKeyFunc(out)
			if err != nil || key != "shop/web-1" {
				t.Errorf("key = %q, %v", key, err)
			}
		})
	}
}

// The typed informers' transforms keep what a pick reads of each kind and
// nothing else, and pass through what they already transformed.
func TestTypedTransforms(t *testing.T) {
	three := int32(3)
	om := metav1.ObjectMeta{Namespace: "shop", Name: "web", ResourceVersion: "7", Labels: map[string]string{"app": "web"},
		Annotations: map[string]string{AnnotationExclude: "true", "other": "x"}, CreationTimestamp: metav1.NewTime(longAgo)}
	workloadMeta := Meta{Namespace: "shop", Name: "web", Created: longAgo, Marks: Marks{OptOut: true}}
	tests := []struct {
		name        string
		transform   cache.TransformFunc
		in          runtime.Object
		wantMeta    Meta
		wantState   *cachedPod
		wantDesired int
	}{
		{name: "a ready pod keeps labels, phase, readiness and node", transform: podTransform,
			in:        pod("shop", "web-0", onNode("n1"), withLabels("tier", "front")),
			wantMeta:  Meta{Namespace: "shop", Name: "web-0", Labels: NewLabels(map[string]string{"tier": "front"}), Created: longAgo},
			wantState: &cachedPod{phase: corev1.PodRunning, node: "n1", ready: true}},
		{name: "a pending pod is not ready", transform: podTransform,
			in:        pod("shop", "web-1", phase(corev1.PodPending), notReady()),
			wantMeta:  Meta{Namespace: "shop", Name: "web-1", Created: longAgo},
			wantState: &cachedPod{phase: corev1.PodPending, node: "node-1"}},
		{name: "a terminating pod", transform: podTransform,
			in:        pod("shop", "web-2", deleting()),
			wantMeta:  Meta{Namespace: "shop", Name: "web-2", Created: longAgo, Deleting: true},
			wantState: &cachedPod{phase: corev1.PodRunning, node: "node-1", ready: true}},
		{name: "Deployment: spec.replicas", transform: workloadTransform,
			in: &appsv1.Deployment{ObjectMeta: om, Spec: appsv1.DeploymentSpec{Replicas: &three}}, wantMeta: workloadMeta, wantDesired: 3},
		{name: "StatefulSet: spec.replicas defaults to 1", transform: workloadTransform,
			in: &appsv1.StatefulSet{ObjectMeta: om}, wantMeta: workloadMeta, wantDesired: 1},
		{name: "ReplicaSet: spec.replicas", transform: workloadTransform,
			in: &appsv1.ReplicaSet{ObjectMeta: om, Spec: appsv1.ReplicaSetSpec{Replicas: &three}}, wantMeta: workloadMeta, wantDesired: 3},
		{name: "DaemonSet: status.desiredNumberScheduled", transform: workloadTransform,
			in: &appsv1.DaemonSet{ObjectMeta: om, Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 5}}, wantMeta: workloadMeta, wantDesired: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.transform(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := out.(*cachedMeta)
			if !ok {
				t.Fatalf("transformed into %T", out)
			}
			if c.Meta != tc.wantMeta || c.desired != tc.wantDesired {
				t.Errorf("got %+v desired %d, want %+v desired %d", c.Meta, c.desired, tc.wantMeta, tc.wantDesired)
			}
			if (c.pod == nil) != (tc.wantState == nil) || c.pod != nil && *c.pod != *tc.wantState {
				t.Errorf("pod state %+v, want %+v", c.pod, tc.wantState)
			}
			if again, _ := tc.transform(out); again != out {
				t.Error("transform is not idempotent")
			}
			if key, err := cache.MetaNamespaceKeyFunc(out); err != nil || key != tc.wantMeta.Namespace+"/"+tc.wantMeta.Name {
				t.Errorf("key = %q, %v", key, err)
			}
		})
	}
}

func TestPDBTransform(t *testing.T) {
	fresh := pdb("shop", "fresh", "web", 2)
	stale := pdb("shop", "stale", "web", 2)
	stale.Generation, stale.Status.ObservedGeneration = 2, 1
	broken := pdb("shop", "broken", "web", 1)
	broken.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}
	web := NewLabels(map[string]string{"app": "web"})
	tests := []struct {
		in          *policyv1.PodDisruptionBudget
		wantAllowed int
		wantMatch   bool
		wantErr     bool
	}{
		{in: fresh, wantAllowed: 2, wantMatch: true},
		{in: stale, wantAllowed: 0, wantMatch: true},
		{in: broken, wantAllowed: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in.Name, func(t *testing.T) {
			out, err := pdbTransform(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			c := out.(*cachedPDB)
			if c.DisruptionsAllowed != tc.wantAllowed || c.Selector.Matches(web) != tc.wantMatch || (c.err != nil) != tc.wantErr {
				t.Errorf("allowed %d, matches %v, err %v; want %d, %v, err %v", c.DisruptionsAllowed, c.Selector.Matches(web), c.err, tc.wantAllowed, tc.wantMatch, tc.wantErr)
			}
			if again, _ := pdbTransform(out); again != out {
				t.Error("transform is not idempotent")
			}
		})
	}
}

// The inventory follows the cluster: pods created after the sync appear,
// deleted ones disappear.
func TestClusterSourceFollowsChanges(t *testing.T) {
	fc := newFakeCluster(t, cluster(pod("shop", "a")))
	pods := fc.kube.CoreV1().Pods("shop")
	if _, err := pods.Create(context.Background(), pod("shop", "b"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(context.Background(), "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"b"}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		got = nil
		if idx, err := fc.Pods(context.Background()); err == nil {
			for _, m := range idx.view(nil).pods {
				got = append(got, m.Name)
			}
		}
		if slices.Equal(got, want) {
			return
		}
	}
	t.Errorf("pods = %v, want %v", got, want)
}

func TestClusterSourceWorkloadPods(t *testing.T) {
	// A rollout: pods of an old and a new ReplicaSet, plus a pod that
	// matches the selector but belongs to someone else.
	objs := cluster(deployment("shop", "web", 3, [][]opt{{notReady()}}),
		replicaSet("shop", "web-old", 1, nil, controlledBy(KindDeployment, "web"), withLabels("app", "web")),
		pod("shop", "impostor", withLabels("app", "web"), controlledBy(KindStatefulSet, "web")))
	// replicaSet() labels its pods app=web-old; relabel them to the Deployment's selector.
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Labels["app"] == "web-old" {
			p.Labels["app"] = "web"
		}
	}
	fc := newFakeCluster(t, objs)
	desired, pods, err := fc.WorkloadPods(context.Background(), WorkloadRef{Kind: KindDeployment, Namespace: "shop", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	available := 0
	for _, p := range pods {
		got = append(got, p.Name)
		if p.Available() {
			available++
		}
	}
	slices.Sort(got)
	want := []string{"web-7d9f-0", "web-7d9f-1", "web-7d9f-2", "web-old-0"}
	if desired != 3 || !slices.Equal(got, want) || available != 3 {
		t.Errorf("desired %d, pods %v (%d available); want 3, %v (3 available)", desired, got, available, want)
	}

	desired, pods, err = fc.WorkloadPods(context.Background(), WorkloadRef{Kind: KindStatefulSet, Namespace: "shop", Name: "gone"})
	if err != nil || desired != 0 || pods != nil {
		t.Errorf("missing workload: %d, %v, %v; want 0, nil, nil", desired, pods, err)
	}
}

func TestClusterSourcePDBs(t *testing.T) {
	stale := pdb("shop", "stale", "web", 2)
	stale.Generation, stale.Status.ObservedGeneration = 2, 1
	nilSelector := pdb("shop", "nothing", "web", 1)
	nilSelector.Spec.Selector = nil
	fc := newFakeCluster(t, cluster(pdb("shop", "fresh", "web", 2), stale, nilSelector))
	list, err := fc.PDBs(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	web := NewLabels(map[string]string{"app": "web"})
	for _, p := range list {
		got[p.Name] = fmt.Sprintf("%d %v", p.DisruptionsAllowed, p.Selector.Matches(web))
	}
	want := map[string]string{"fresh": "2 true", "stale": "0 true", "nothing": "1 false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Live lists follow continue tokens, a page at a time.
func TestClusterSourcePages(t *testing.T) {
	kube := kubefake.NewClientset()
	var limits []int64
	kube.PrependReactor("list", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).GetListOptions()
		limits = append(limits, opts.Limit)
		page := map[string]struct{ name, next string }{"": {"n1", "p2"}, "p2": {"n2", "p3"}, "p3": {"n3", ""}}[opts.Continue]
		return true, &corev1.NodeList{ListMeta: metav1.ListMeta{Continue: page.next}, Items: []corev1.Node{*node(page.name)}}, nil
	})
	src := NewClusterSource(ClusterOptions{Kube: kube, PageSize: 2})
	nodes, err := src.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nodes {
		got = append(got, n.Name)
	}
	if !slices.Equal(got, []string{"n1", "n2", "n3"}) || !slices.Equal(limits, []int64{2, 2, 2}) {
		t.Errorf("nodes %v with limits %v", got, limits)
	}
}

func TestClusterSourceWithoutIstio(t *testing.T) {
	src := NewClusterSource(ClusterOptions{Kube: kubefake.NewClientset()})
	if _, err := src.VirtualServices(context.Background(), ""); !errors.Is(err, errNoIstio) {
		t.Errorf("err = %v, want errNoIstio", err)
	}
}
