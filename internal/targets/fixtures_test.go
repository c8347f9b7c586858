package targets

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/chaosd/chaosd/internal/config"
)

// Fixtures build typed objects, so one cluster description feeds both the
// fake clientsets (ClusterSource) and the plain-slice staticSource.

var (
	testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	longAgo = testNow.Add(-24 * time.Hour)
)

// opt changes one object of any kind; pod- and node-only options ignore
// other kinds.
type opt func(runtime.Object)

func objMeta(o runtime.Object) *metav1.ObjectMeta {
	switch v := o.(type) {
	case *corev1.Pod:
		return &v.ObjectMeta
	case *corev1.Node:
		return &v.ObjectMeta
	case *corev1.Namespace:
		return &v.ObjectMeta
	case *appsv1.Deployment:
		return &v.ObjectMeta
	case *appsv1.ReplicaSet:
		return &v.ObjectMeta
	case *appsv1.StatefulSet:
		return &v.ObjectMeta
	case *appsv1.DaemonSet:
		return &v.ObjectMeta
	case *policyv1.PodDisruptionBudget:
		return &v.ObjectMeta
	case *istionet.VirtualService:
		return &v.ObjectMeta
	}
	panic(fmt.Sprintf("no fixture support for %T", o))
}

func apply(o runtime.Object, opts []opt) runtime.Object {
	for _, f := range opts {
		f(o)
	}
	return o
}

func withLabels(kv ...string) opt {
	return func(o runtime.Object) {
		m := objMeta(o)
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Labels[kv[i]] = kv[i+1]
		}
	}
}

func annotated(k, v string) opt {
	return func(o runtime.Object) {
		m := objMeta(o)
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[k] = v
	}
}

var (
	optedInOpt  = annotated(AnnotationEnabled, "true")
	optedOutOpt = annotated(AnnotationExclude, "true")
	injectedOpt = annotated(AnnotationInjection, `{"experiment":"other"}`)
)

func created(t time.Time) opt {
	return func(o runtime.Object) { objMeta(o).CreationTimestamp = metav1.NewTime(t) }
}

func deleting() opt {
	return func(o runtime.Object) {
		m := objMeta(o)
		m.DeletionTimestamp = ptr.To(metav1.NewTime(testNow))
		m.Finalizers = []string{"example.com/hold"}
	}
}

func notReady() opt {
	return func(o runtime.Object) {
		switch v := o.(type) {
		case *corev1.Pod:
			v.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
		case *corev1.Node:
			v.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}
		}
	}
}

func phase(p corev1.PodPhase) opt {
	return func(o runtime.Object) { o.(*corev1.Pod).Status.Phase = p }
}

func onNode(n string) opt {
	return func(o runtime.Object) { o.(*corev1.Pod).Spec.NodeName = n }
}

func cordoned() opt {
	return func(o runtime.Object) { o.(*corev1.Node).Spec.Unschedulable = true }
}

// tainted adds a node taint with the given effect.
func tainted(key string, effect corev1.TaintEffect) opt {
	return func(o runtime.Object) {
		n := o.(*corev1.Node)
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect})
	}
}

func controlledBy(kind, name string) opt {
	return func(o runtime.Object) {
		apiVersion := "apps/v1"
		if kind == "Job" {
			apiVersion = "batch/v1"
		}
		objMeta(o).OwnerReferences = []metav1.OwnerReference{{
			APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-" + kind + "-" + name), Controller: ptr.To(true),
		}}
	}
}

func namespace(name string, opts ...opt) *corev1.Namespace {
	return apply(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(longAgo)}}, opts).(*corev1.Namespace)
}

// pod is a healthy bare pod, Running and Ready on node-1 since long ago.
func pod(ns, name string, opts ...opt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(longAgo)},
		Spec:       corev1.PodSpec{NodeName: "node-1"},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	return apply(p, opts).(*corev1.Pod)
}

func selectorFor(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// podsOf returns n healthy pods named name-0.. labelled app=app, each with
// the options given for its index, then the shared ones.
func podsOf(ns, prefix, app string, n int, perPod [][]opt, shared ...opt) []runtime.Object {
	var out []runtime.Object
	for i := range n {
		opts := append([]opt{withLabels("app", app)}, shared...)
		if i < len(perPod) {
			opts = append(opts, perPod[i]...)
		}
		out = append(out, pod(ns, fmt.Sprintf("%s-%d", prefix, i), opts...))
	}
	return out
}

// deployment returns a Deployment with its ReplicaSet and replicas pods.
func deployment(ns, name string, replicas int, perPod [][]opt, opts ...opt) []runtime.Object {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(replicas)), Selector: selectorFor(name)},
	}
	rsName := name + "-7d9f"
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rsName},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(replicas)), Selector: selectorFor(name)},
	}
	controlledBy("Deployment", name)(rs)
	out := []runtime.Object{apply(d, opts), rs}
	return append(out, podsOf(ns, rsName, name, replicas, perPod, controlledBy("ReplicaSet", rsName))...)
}

func replicaSet(ns, name string, replicas int, perPod [][]opt, opts ...opt) []runtime.Object {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(replicas)), Selector: selectorFor(name)},
	}
	return append([]runtime.Object{apply(rs, opts)}, podsOf(ns, name, name, replicas, perPod, controlledBy("ReplicaSet", name))...)
}

func statefulSet(ns, name string, replicas int, perPod [][]opt, opts ...opt) []runtime.Object {
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To(int32(replicas)), Selector: selectorFor(name)},
	}
	return append([]runtime.Object{apply(ss, opts)}, podsOf(ns, name, name, replicas, perPod, controlledBy("StatefulSet", name))...)
}

func daemonSet(ns, name string, desired int, perPod [][]opt, opts ...opt) []runtime.Object {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.DaemonSetSpec{Selector: selectorFor(name)},
		Status:     appsv1.DaemonSetStatus{DesiredNumberScheduled: int32(desired)},
	}
	return append([]runtime.Object{apply(ds, opts)}, podsOf(ns, name, name, desired, perPod, controlledBy("DaemonSet", name))...)
}

func pdb(ns, name, app string, allowed int) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: selectorFor(app), MinAvailable: ptr.To(intstr.FromInt32(1))},
		Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: int32(allowed)},
	}
}

// node is a Ready, schedulable worker node.
func node(name string, opts ...opt) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(longAgo)},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
	return apply(n, opts).(*corev1.Node)
}

func inZone(z string) opt { return withLabels(config.DefaultZoneLabel, z) }

var controlPlaneOpt = withLabels(LabelControlPlane, "")

func virtualService(ns, name string, opts ...opt) *istionet.VirtualService {
	vs := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(longAgo)}}
	return apply(vs, opts).(*istionet.VirtualService)
}

// cluster flattens objects and slices of objects, adding a plain namespace
// for every namespace used but not declared.
func cluster(parts ...any) []runtime.Object {
	var out []runtime.Object
	declared, used := map[string]bool{}, map[string]bool{}
	add := func(o runtime.Object) {
		out = append(out, o)
		if n, ok := o.(*corev1.Namespace); ok {
			declared[n.Name] = true
		} else if ns := objMeta(o).Namespace; ns != "" {
			used[ns] = true
		}
	}
	for _, p := range parts {
		switch v := p.(type) {
		case runtime.Object:
			add(v)
		case []runtime.Object:
			for _, o := range v {
				add(o)
			}
		default:
			panic(fmt.Sprintf("cluster: unexpected %T", p))
		}
	}
	for ns := range used {
		if !declared[ns] {
			out = append(out, namespace(ns))
		}
	}
	return out
}

func mode(s string) config.Mode {
	var m config.Mode
	if err := m.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return m
}

func intOrPercent(s string) config.IntOrPercent {
	var v config.IntOrPercent
	if err := v.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return v
}

func experiment(t config.Target) config.Experiment {
	if t.Mode.Kind == "" {
		t.Mode = mode("one")
	}
	return config.Experiment{Name: "test", Target: t}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// heldSet is a Held backed by a set of "kind/namespace/name".
type heldSet map[string]bool

func (h heldSet) IsHeld(kind config.TargetKind, namespace, name string) bool {
	return h[string(kind)+"/"+namespace+"/"+name]
}

// ruleCase is one row of a table test of the blast-radius rules.
type ruleCase struct {
	name       string
	objs       []runtime.Object
	target     config.Target
	policy     config.Policy
	opts       Options
	want       []string // picked, sorted; or:
	picks      int      // how many were picked, when the choice is random,
	pool       []string // and among which
	considered int
	rejected   map[Reason]int
}

// runRuleCases picks for every row from both sources (see pickBoth).
func runRuleCases(t *testing.T, tests []ruleCase, seed uint64) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := pickBoth(t, tc.objs, experiment(tc.target), tc.policy, tc.opts, seed)
			got := names(res)
			slices.Sort(got)
			checkPicked(t, got, tc.want, tc.picks, tc.pool)
			checkCounts(t, res, tc.considered, tc.rejected)
		})
	}
}

// checkCounts compares how many candidates were considered and why the
// rejected ones were rejected (an empty want means none were).
func checkCounts(t *testing.T, res Result, considered int, rejected map[Reason]int) {
	t.Helper()
	if res.Considered != considered {
		t.Errorf("considered %d, want %d", res.Considered, considered)
	}
	if (len(res.Rejected) > 0 || len(rejected) > 0) && !reflect.DeepEqual(res.Rejected, rejected) {
		t.Errorf("rejected %v, want %v", res.Rejected, rejected)
	}
}
