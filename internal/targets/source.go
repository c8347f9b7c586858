package targets

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

// Source is everything the Picker knows about the cluster. The selection
// logic sees only this interface, so it is tested on plain slices; the
// ClusterSource implements it against the API server. Every method may be
// called many times during one Pick and must be safe for concurrent use.
type Source interface {
	PodSource
	NodeSource
	VirtualServiceSource
}

// NamespaceSource lists namespaces with their labels and chaosd annotations.
type NamespaceSource interface {
	Namespaces(ctx context.Context) ([]*Meta, error)
}

// PodSource is a cheap inventory of every pod and workload, plus the reads
// that check the candidates actually sampled (ClusterSource answers them
// from its informers' caches).
type PodSource interface {
	NamespaceSource
	// Pods returns the inventory's pods, kept current by the inventory
	// itself: a pick reads it without copying it.
	Pods(ctx context.Context) (*PodIndex, error)
	// Workload returns the metadata of a Deployment, StatefulSet, DaemonSet
	// or ReplicaSet, or nil when it is not known.
	Workload(ctx context.Context, kind, namespace, name string) (*Meta, error)
	// PodStatus reads one pod's status; found is false once it is gone.
	PodStatus(ctx context.Context, namespace, name string) (status PodStatus, found bool, err error)
	// WorkloadPods reads a workload's desired replicas and the status of
	// every pod it controls now (for a Deployment, through its ReplicaSets).
	// A workload that no longer exists has no pods and desires none.
	WorkloadPods(ctx context.Context, w WorkloadRef) (desired int, pods []PodStatus, err error)
	// PDBs lists the PodDisruptionBudgets of one namespace.
	PDBs(ctx context.Context, namespace string) ([]PDB, error)
}

// NodeSource reads nodes live: node faults are rare and their safety rules
// (minReadyNodes, the last zone) must see the cluster as it is now.
type NodeSource interface {
	Nodes(ctx context.Context) ([]Node, error)
	// NodesRunning returns the names of nodes running a pod of a namespace.
	NodesRunning(ctx context.Context, namespace string) (sets.Set[string], error)
}

// VirtualServiceSource lists Istio VirtualServices.
type VirtualServiceSource interface {
	NamespaceSource
	// VirtualServices lists one namespace's VirtualServices ("" for all).
	VirtualServices(ctx context.Context, namespace string) ([]*Meta, error)
}

// Held reports targets on which another experiment holds an active fault.
// chaosd allows at most one active fault per target; objects annotated with
// chaosd.io/injection count as held as well.
type Held interface {
	IsHeld(kind config.TargetKind, namespace, name string) bool
}

// Workload kinds a pod can be owned by, as config.Target.OwnerKinds spells them.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindReplicaSet  = "ReplicaSet"
	// KindPod stands for a bare pod, owned by no controller.
	KindPod = "Pod"
)

// WorkloadRef names the workload a pod belongs to: its controller, except
// that a ReplicaSet owned by a Deployment counts as that Deployment. A bare
// pod's workload is itself, with Kind "Pod".
type WorkloadRef struct {
	Kind      string
	Namespace string
	Name      string
}

func (w WorkloadRef) String() string { return w.Kind + "/" + w.Name }

// budgeted reports whether maxUnavailablePerWorkload applies: only these
// kinds declare desired replicas. Pods of other controllers (Jobs, custom
// resources) and bare pods have no workload budget.
func (w WorkloadRef) budgeted() bool {
	switch w.Kind {
	case KindDeployment, KindStatefulSet, KindDaemonSet, KindReplicaSet:
		return true
	}
	return false
}

// PodStatus is what metadata lacks about a pod.
type PodStatus struct {
	Name        string
	Phase       corev1.PodPhase
	Ready       bool // the Ready condition is True
	Terminating bool // has a deletionTimestamp
	Node        string
}

// Available reports whether the pod counts as up: Running, Ready and not
// terminating.
func (s PodStatus) Available() bool {
	return s.Phase == corev1.PodRunning && s.Ready && !s.Terminating
}

// PodStatusOf reduces a pod to its PodStatus.
func PodStatusOf(p *corev1.Pod) PodStatus {
	st := PodStatus{
		Name:        p.Name,
		Phase:       p.Status.Phase,
		Terminating: p.DeletionTimestamp != nil,
		Node:        p.Spec.NodeName,
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			st.Ready = c.Status == corev1.ConditionTrue
		}
	}
	return st
}

// PDB is a PodDisruptionBudget reduced to what pod selection checks.
type PDB struct {
	Namespace string
	Name      string
	// Selector matches the pods it protects (labels.Nothing for a nil selector).
	Selector labels.Selector
	// DisruptionsAllowed is status.disruptionsAllowed.
	DisruptionsAllowed int
}

// Node is a node reduced to what node and zone selection checks.
type Node struct {
	Meta
	Ready         bool // the Ready condition is True
	Unschedulable bool // spec.unschedulable (cordoned)
	// Tainted is set when the node has a NoSchedule or NoExecute taint, so
	// only pods that tolerate it run there (control-plane nodes, for one).
	Tainted bool
}

// NodeOf reduces a node to a Node.
func NodeOf(n *corev1.Node) Node {
	out := Node{Meta: compactMeta(&n.ObjectMeta, true), Unschedulable: n.Spec.Unschedulable}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			out.Tainted = true
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			out.Ready = c.Status == corev1.ConditionTrue
		}
	}
	return out
}
