package targets

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/chaosd/chaosd/internal/config"
)

// world is a randomly generated cluster: the typed objects, indexed for the
// property test's oracle, which reads them directly rather than through
// Meta, Labels or any Source.
type world struct {
	objs       []runtime.Object
	namespaces map[string]*corev1.Namespace
	pods       []*corev1.Pod
	workloads  map[string]metav1.Object // Kind/namespace/name
	desired    map[string]int
	pdbs       []*policyv1.PodDisruptionBudget
	nodes      []*corev1.Node
	vss        []*istionet.VirtualService
}

const ownNS = "chaosd"

var worldNamespaces = []string{"ns-0", "ns-1", "ns-2", "kube-system", ownNS}

func wkey(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func pickOne[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// maybeMarks adds chaosd annotations at random.
func maybeMarks(r *rand.Rand, optIn, optOut, injected float64) []opt {
	var out []opt
	if chance(r, optIn) {
		out = append(out, optedInOpt)
	}
	if chance(r, optOut) {
		out = append(out, optedOutOpt)
	}
	if chance(r, injected) {
		out = append(out, injectedOpt)
	}
	return out
}

// podState gives a pod a random health, age, node and labels.
func podState(r *rand.Rand, nodes int) []opt {
	out := maybeMarks(r, 0.15, 0.05, 0.05)
	out = append(out, withLabels("tier", pickOne(r, "web", "db")), onNode(fmt.Sprintf("n-%d", r.IntN(nodes))))
	switch x := r.Float64(); {
	case x < 0.12:
		out = append(out, notReady())
	case x < 0.17:
		out = append(out, phase(corev1.PodPending))
	case x < 0.22:
		out = append(out, deleting())
	}
	if chance(r, 0.1) {
		out = append(out, created(testNow.Add(-2*time.Minute)))
	}
	return out
}

func genWorld(r *rand.Rand) *world {
	w := &world{namespaces: map[string]*corev1.Namespace{}, workloads: map[string]metav1.Object{}, desired: map[string]int{}}
	add := func(objs ...runtime.Object) { w.objs = append(w.objs, objs...) }
	nNodes := 1 + r.IntN(7)
	for _, ns := range worldNamespaces {
		n := namespace(ns, append(maybeMarks(r, 0.2, 0.1, 0), withLabels("team", pickOne(r, "a", "b")))...)
		w.namespaces[ns] = n
		add(n)
	}
	perPod := func(n int) [][]opt {
		out := make([][]opt, n)
		for i := range out {
			out[i] = podState(r, nNodes)
		}
		return out
	}
	// Workloads, some with fewer pods than desired.
	kinds := []struct {
		kind  string
		count int
		make  func(ns, name string, n int, pp [][]opt, opts ...opt) []runtime.Object
	}{
		{KindDeployment, r.IntN(4), deployment},
		{KindStatefulSet, r.IntN(2), statefulSet},
		{KindDaemonSet, r.IntN(2), daemonSet},
		{KindReplicaSet, r.IntN(2), replicaSet},
	}
	for _, k := range kinds {
		for i := range k.count {
			ns := pickOne(r, worldNamespaces...)
			name := fmt.Sprintf("%s-%d", strings.ToLower(k.kind[:3]), i)
			n := 1 + r.IntN(5)
			objs := k.make(ns, name, n, perPod(n), maybeMarks(r, 0.15, 0.05, 0)...)
			if chance(r, 0.2) {
				objs = objs[:len(objs)-1] // a replica is missing
			}
			add(objs...)
			if k.kind == KindDeployment && chance(r, 0.5) {
				add(pdb(ns, name, name, r.IntN(3)))
			}
		}
	}
	for i := range r.IntN(4) {
		add(pod(pickOne(r, worldNamespaces...), fmt.Sprintf("bare-%d", i), podState(r, nNodes)...))
	}
	if chance(r, 0.3) {
		add(pod(pickOne(r, worldNamespaces...), "job-pod", append(podState(r, nNodes), controlledBy("Job", "nightly"))...))
	}
	if chance(r, 0.5) {
		add(pod(ownNS, "chaosd-0", withLabels("app", "chaosd")))
	}
	for i := range nNodes {
		opts := maybeMarks(r, 0.3, 0.05, 0.05)
		opts = append(opts, inZone(fmt.Sprintf("z-%d", r.IntN(3))), withLabels("pool", pickOne(r, "gp", "gpu")))
		if chance(r, 0.15) {
			opts = append(opts, controlPlaneOpt)
		}
		if chance(r, 0.1) {
			opts = append(opts, cordoned())
		}
		if chance(r, 0.1) {
			opts = append(opts, notReady())
		}
		add(node(fmt.Sprintf("n-%d", i), opts...))
	}
	for i := range r.IntN(5) {
		opts := append(maybeMarks(r, 0.2, 0.1, 0.1), withLabels("tier", pickOne(r, "web", "db")))
		add(virtualService(pickOne(r, worldNamespaces...), fmt.Sprintf("vs-%d", i), opts...))
	}
	w.index()
	return w
}

func (w *world) index() {
	for _, o := range w.objs {
		switch v := o.(type) {
		case *corev1.Pod:
			w.pods = append(w.pods, v)
		case *appsv1.Deployment:
			w.workloads[wkey(KindDeployment, v.Namespace, v.Name)] = v
			w.desired[wkey(KindDeployment, v.Namespace, v.Name)] = int(*v.Spec.Replicas)
		case *appsv1.ReplicaSet:
			w.workloads[wkey(KindReplicaSet, v.Namespace, v.Name)] = v
			w.desired[wkey(KindReplicaSet, v.Namespace, v.Name)] = int(*v.Spec.Replicas)
		case *appsv1.StatefulSet:
			w.workloads[wkey(KindStatefulSet, v.Namespace, v.Name)] = v
			w.desired[wkey(KindStatefulSet, v.Namespace, v.Name)] = int(*v.Spec.Replicas)
		case *appsv1.DaemonSet:
			w.workloads[wkey(KindDaemonSet, v.Namespace, v.Name)] = v
			w.desired[wkey(KindDaemonSet, v.Namespace, v.Name)] = int(v.Status.DesiredNumberScheduled)
		case *policyv1.PodDisruptionBudget:
			w.pdbs = append(w.pdbs, v)
		case *corev1.Node:
			w.nodes = append(w.nodes, v)
		case *istionet.VirtualService:
			w.vss = append(w.vss, v)
		}
	}
}

func genPolicy(r *rand.Rand) config.Policy {
	p := config.Policy{
		MinReadyNodes:     r.IntN(4),
		AllowControlPlane: chance(r, 0.2),
	}
	if chance(r, 0.3) {
		p.MinPodAge = 5 * time.Minute
	}
	if chance(r, 0.3) {
		p.RespectPodDisruptionBudgets = new(false)
	}
	if s := pickOne(r, "", "", "0", "1", "2", "34%", "50%", "100%"); s != "" {
		p.MaxUnavailablePerWorkload = intOrPercent(s)
	}
	if chance(r, 0.3) {
		p.ExcludeNamespaces = []string{pickOne(r, "ns-0", "ns-1")}
	}
	if chance(r, 0.3) {
		p.AllowNamespaces = []string{pickOne(r, "kube-system", ownNS)}
	}
	return p
}

func genTarget(r *rand.Rand) config.Target {
	t := config.Target{
		Kind: pickOne(r, config.TargetPod, config.TargetPod, config.TargetNode, config.TargetZone, config.TargetVirtualService),
		Mode: pickOne(r, mode("one"), mode("all"), mode("count:2"), mode("count:4"), mode("percent:50"), mode("maxPercent:60")),
	}
	if t.Kind == config.TargetZone {
		t.Mode = mode("one") // validation allows nothing else
	}
	switch t.Kind {
	case config.TargetPod, config.TargetVirtualService:
		if chance(r, 0.3) {
			t.Namespaces = []string{pickOne(r, worldNamespaces...), pickOne(r, worldNamespaces...)}
		}
		if chance(r, 0.2) {
			t.NamespaceSelector = pickOne(r, "team=a", "team!=a")
		}
		if chance(r, 0.3) {
			t.Selector = pickOne(r, "tier=web", "tier in (web,db)", "app")
		}
		t.OptIn = chance(r, 0.2)
		if t.Kind == config.TargetPod && chance(r, 0.3) {
			t.OwnerKinds = []string{pickOne(r, KindDeployment, KindStatefulSet, KindDaemonSet, KindReplicaSet, KindPod), pickOne(r, KindDeployment, KindPod)}
		}
		if t.Kind == config.TargetPod && chance(r, 0.2) {
			t.ExcludeOwnerKinds = []string{pickOne(r, KindDeployment, KindStatefulSet, KindDaemonSet, KindReplicaSet, KindPod, "Job")}
		}
	case config.TargetNode, config.TargetZone:
		if chance(r, 0.3) {
			t.Selector = pickOne(r, "pool=gp", "pool!=gpu")
		}
		if chance(r, 0.2) {
			t.PodNamespace = pickOne(r, "ns-0", "ns-1", "ns-2")
		}
		t.OptIn = t.Kind == config.TargetNode && chance(r, 0.2)
		t.Label = config.DefaultZoneLabel
	}
	return t
}

// genHeld books a few targets for another experiment.
func genHeld(r *rand.Rand, w *world) heldSet {
	h := heldSet{}
	for _, p := range w.pods {
		if chance(r, 0.05) {
			h["pod/"+p.Namespace+"/"+p.Name] = true
		}
	}
	for _, n := range w.nodes {
		if chance(r, 0.05) {
			h["node//"+n.Name] = true
		}
	}
	if chance(r, 0.1) {
		h["zone//z-0"] = true
	}
	for _, vs := range w.vss {
		if chance(r, 0.1) {
			h["virtualservice/"+vs.Namespace+"/"+vs.Name] = true
		}
	}
	return h
}
