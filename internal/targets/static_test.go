package targets

import (
	"context"
	"fmt"
	"sync/atomic"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
)

// staticSource is a Source over plain slices: the pure selection layer's
// test double, and the synthetic inventory of the benchmarks. It counts the
// live reads a real source would make.
type staticSource struct {
	namespaces []*Meta
	pods       []*Meta
	podIndex   PodIndex
	statuses   map[string]PodStatus // by namespace/name
	workloads  map[WorkloadRef]*Meta
	desired    map[WorkloadRef]int
	byWorkload map[WorkloadRef][]PodStatus
	pdbs       map[string][]PDB
	nodes      []Node
	running    map[string]sets.Set[string] // namespace -> nodes
	vss        []*Meta

	statusReads, workloadReads atomic.Int64
}

var _ Source = (*staticSource)(nil)

func newStaticSource() *staticSource {
	return &staticSource{
		statuses:   map[string]PodStatus{},
		workloads:  map[WorkloadRef]*Meta{},
		desired:    map[WorkloadRef]int{},
		byWorkload: map[WorkloadRef][]PodStatus{},
		pdbs:       map[string][]PDB{},
		running:    map[string]sets.Set[string]{},
	}
}

// addWorkload registers a workload's metadata and desired replicas.
func (s *staticSource) addWorkload(kind string, m *Meta, desired int) {
	ref := WorkloadRef{Kind: kind, Namespace: m.Namespace, Name: m.Name}
	s.workloads[ref] = m
	s.desired[ref] = desired
}

// addPod registers a pod; call index once every pod and workload is added.
func (s *staticSource) addPod(m *Meta, st PodStatus) {
	s.pods = append(s.pods, m)
	s.podIndex.Upsert(m)
	st.Name = m.Name
	s.statuses[m.Namespace+"/"+m.Name] = st
	if st.Node != "" && st.Phase != corev1.PodSucceeded && st.Phase != corev1.PodFailed {
		if s.running[m.Namespace] == nil {
			s.running[m.Namespace] = sets.New[string]()
		}
		s.running[m.Namespace].Insert(st.Node)
	}
}

// index groups pods by the workload controlling them, as WorkloadPods reports.
func (s *staticSource) index() *staticSource {
	clear(s.byWorkload)
	for _, m := range s.pods {
		if m.Owner.Kind == "" {
			continue
		}
		ref := WorkloadRef{Kind: m.Owner.Kind, Namespace: m.Namespace, Name: m.Owner.Name}
		if rs := s.workloads[ref]; ref.Kind == KindReplicaSet && rs != nil && rs.Owner.Kind == KindDeployment {
			ref = WorkloadRef{Kind: KindDeployment, Namespace: m.Namespace, Name: rs.Owner.Name}
		}
		s.byWorkload[ref] = append(s.byWorkload[ref], s.statuses[m.Namespace+"/"+m.Name])
	}
	return s
}

// staticFrom builds a staticSource from typed fixtures.
func staticFrom(objs []runtime.Object) *staticSource {
	s := newStaticSource()
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Namespace:
			s.namespaces = append(s.namespaces, MetaOf(&v.ObjectMeta, true))
		case *corev1.Pod:
			s.addPod(MetaOf(&v.ObjectMeta, true), PodStatusOf(v))
		case *appsv1.Deployment:
			s.addWorkload(KindDeployment, MetaOf(&v.ObjectMeta, false), replicas(v.Spec.Replicas))
		case *appsv1.ReplicaSet:
			s.addWorkload(KindReplicaSet, MetaOf(&v.ObjectMeta, false), replicas(v.Spec.Replicas))
		case *appsv1.StatefulSet:
			s.addWorkload(KindStatefulSet, MetaOf(&v.ObjectMeta, false), replicas(v.Spec.Replicas))
		case *appsv1.DaemonSet:
			s.addWorkload(KindDaemonSet, MetaOf(&v.ObjectMeta, false), int(v.Status.DesiredNumberScheduled))
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(v.Spec.Selector)
			if err != nil {
				panic(err)
			}
			s.pdbs[v.Namespace] = append(s.pdbs[v.Namespace], PDB{Namespace: v.Namespace, Name: v.Name, Selector: sel, DisruptionsAllowed: int(v.Status.DisruptionsAllowed)})
		case *corev1.Node:
			s.nodes = append(s.nodes, NodeOf(v))
		case *istionet.VirtualService:
			s.vss = append(s.vss, MetaOf(&v.ObjectMeta, true))
		default:
			panic(fmt.Sprintf("staticFrom: unexpected %T", o))
		}
	}
	return s.index()
}

func (s *staticSource) Namespaces(context.Context) ([]*Meta, error) { return s.namespaces, nil }

func (s *staticSource) Pods(context.Context) (*PodIndex, error) { return &s.podIndex, nil }

func (s *staticSource) Workload(_ context.Context, kind, namespace, name string) (*Meta, error) {
	return s.workloads[WorkloadRef{Kind: kind, Namespace: namespace, Name: name}], nil
}

func (s *staticSource) PodStatus(_ context.Context, namespace, name string) (PodStatus, bool, error) {
	s.statusReads.Add(1)
	st, ok := s.statuses[namespace+"/"+name]
	return st, ok, nil
}

func (s *staticSource) WorkloadPods(_ context.Context, w WorkloadRef) (int, []PodStatus, error) {
	s.workloadReads.Add(1)
	if _, ok := s.workloads[w]; !ok {
		return 0, nil, nil
	}
	return s.desired[w], s.byWorkload[w], nil
}

func (s *staticSource) PDBs(_ context.Context, namespace string) ([]PDB, error) {
	return s.pdbs[namespace], nil
}

func (s *staticSource) Nodes(context.Context) ([]Node, error) {
	return append([]Node(nil), s.nodes...), nil
}

func (s *staticSource) NodesRunning(_ context.Context, namespace string) (sets.Set[string], error) {
	if r := s.running[namespace]; r != nil {
		return r, nil
	}
	return sets.New[string](), nil
}

func (s *staticSource) VirtualServices(_ context.Context, namespace string) ([]*Meta, error) {
	var out []*Meta
	for _, vs := range s.vss {
		if namespace == "" || vs.Namespace == namespace {
			out = append(out, vs)
		}
	}
	return out, nil
}
