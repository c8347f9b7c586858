package targets

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Live reads: what a pick must see as it is now, read only for what it visits.

// PodStatus implements PodSource.
func (s *ClusterSource) PodStatus(ctx context.Context, namespace, name string) (PodStatus, bool, error) {
	pod, err := s.kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return PodStatus{}, false, nil
	}
	if err != nil {
		return PodStatus{}, false, err
	}
	return PodStatusOf(pod), true, nil
}

// WorkloadPods implements PodSource: one GET for the workload, one paged
// LIST of the pods its selector matches, keeping those it controls.
func (s *ClusterSource) WorkloadPods(ctx context.Context, w WorkloadRef) (int, []PodStatus, error) {
	desired, selector, err := s.workloadSpec(ctx, w)
	if apierrors.IsNotFound(err) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return 0, nil, fmt.Errorf("parse selector of %s: %w", w, err)
	}
	if sel.Empty() {
		// The API server rejects empty workload selectors; refuse to read a
		// whole namespace on the word of a malformed object.
		return 0, nil, fmt.Errorf("%s has an empty selector", w)
	}
	var pods []PodStatus
	err = s.eachPage(ctx, metav1.ListOptions{LabelSelector: sel.String()}, func(ctx context.Context, opts metav1.ListOptions) (string, error) {
		list, err := s.kube.CoreV1().Pods(w.Namespace).List(ctx, opts)
		if err != nil {
			return "", err
		}
		for i := range list.Items {
			if s.controls(ctx, w, &list.Items[i]) {
				pods = append(pods, PodStatusOf(&list.Items[i]))
			}
		}
		return list.Continue, nil
	})
	return desired, pods, err
}

// workloadSpec reads a workload's desired replicas and pod selector.
func (s *ClusterSource) workloadSpec(ctx context.Context, w WorkloadRef) (int, *metav1.LabelSelector, error) {
	apps := s.kube.AppsV1()
	get := metav1.GetOptions{}
	switch w.Kind {
	case KindDeployment:
		d, err := apps.Deployments(w.Namespace).Get(ctx, w.Name, get)
		if err != nil {
			return 0, nil, err
		}
		return replicas(d.Spec.Replicas), d.Spec.Selector, nil
	case KindStatefulSet:
		ss, err := apps.StatefulSets(w.Namespace).Get(ctx, w.Name, get)
		if err != nil {
			return 0, nil, err
		}
		return replicas(ss.Spec.Replicas), ss.Spec.Selector, nil
	case KindReplicaSet:
		rs, err := apps.ReplicaSets(w.Namespace).Get(ctx, w.Name, get)
		if err != nil {
			return 0, nil, err
		}
		return replicas(rs.Spec.Replicas), rs.Spec.Selector, nil
	case KindDaemonSet:
		ds, err := apps.DaemonSets(w.Namespace).Get(ctx, w.Name, get)
		if err != nil {
			return 0, nil, err
		}
		return int(ds.Status.DesiredNumberScheduled), ds.Spec.Selector, nil
	}
	return 0, nil, fmt.Errorf("%s has no desired replicas", w)
}

// replicas reads spec.replicas, which defaults to 1.
func replicas(r *int32) int {
	if r == nil {
		return 1
	}
	return int(*r)
}

// controls reports whether w controls pod; a Deployment does so through a
// ReplicaSet it owns, as the ReplicaSet inventory says. A sibling whose
// ReplicaSet the inventory does not know yet is not counted available:
// the budget errs on the safe side.
func (s *ClusterSource) controls(ctx context.Context, w WorkloadRef, pod *corev1.Pod) bool {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return false
	}
	if w.Kind != KindDeployment {
		return ref.Kind == w.Kind && ref.Name == w.Name
	}
	if ref.Kind != KindReplicaSet {
		return false
	}
	rs, err := s.Workload(ctx, KindReplicaSet, pod.Namespace, ref.Name)
	return err == nil && rs != nil && rs.Owner == Owner{Kind: KindDeployment, Name: w.Name}
}

// PDBs implements PodSource. A budget whose status predates its spec
// (observedGeneration behind) allows no disruption, as the Eviction API
// decides too.
func (s *ClusterSource) PDBs(ctx context.Context, namespace string) ([]PDB, error) {
	var out []PDB
	err := s.eachPage(ctx, metav1.ListOptions{}, func(ctx context.Context, opts metav1.ListOptions) (string, error) {
		list, err := s.kube.PolicyV1().PodDisruptionBudgets(namespace).List(ctx, opts)
		if err != nil {
			return "", err
		}
		for _, p := range list.Items {
			sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			if err != nil {
				return "", fmt.Errorf("parse selector of PodDisruptionBudget %s/%s: %w", p.Namespace, p.Name, err)
			}
			allowed := int(p.Status.DisruptionsAllowed)
			if p.Status.ObservedGeneration < p.Generation {
				allowed = 0
			}
			out = append(out, PDB{Namespace: p.Namespace, Name: p.Name, Selector: sel, DisruptionsAllowed: allowed})
		}
		return list.Continue, nil
	})
	return out, err
}

// ErrNamespaced is returned for what namespaced mode cannot read: nodes are
// cluster-scoped, and its Roles grant nothing outside the watched namespaces.
var ErrNamespaced = errors.New("not readable in namespaced mode")

// Nodes implements NodeSource.
func (s *ClusterSource) Nodes(ctx context.Context) ([]Node, error) {
	if s.watched != nil {
		return nil, fmt.Errorf("list nodes: %w: nodes are cluster-scoped", ErrNamespaced)
	}
	var out []Node
	err := s.eachPage(ctx, metav1.ListOptions{}, func(ctx context.Context, opts metav1.ListOptions) (string, error) {
		list, err := s.kube.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return "", err
		}
		for i := range list.Items {
			out = append(out, NodeOf(&list.Items[i]))
		}
		return list.Continue, nil
	})
	return out, err
}

// NodesRunning implements NodeSource: nodes with a pod of the namespace
// that has not finished.
func (s *ClusterSource) NodesRunning(ctx context.Context, namespace string) (sets.Set[string], error) {
	if s.watched != nil {
		return nil, fmt.Errorf("find the nodes running %s: %w: nodes are cluster-scoped", namespace, ErrNamespaced)
	}
	out := sets.New[string]()
	opts := metav1.ListOptions{FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"}
	err := s.eachPage(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (string, error) {
		list, err := s.kube.CoreV1().Pods(namespace).List(ctx, opts)
		if err != nil {
			return "", err
		}
		for _, p := range list.Items {
			if p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				out.Insert(p.Spec.NodeName)
			}
		}
		return list.Continue, nil
	})
	return out, err
}

// errNoIstio is returned when VirtualServices are listed without an Istio client.
var errNoIstio = errors.New("no Istio client configured")

// VirtualServices implements VirtualServiceSource. In namespaced mode ""
// lists each watched namespace, and any other namespace is refused.
func (s *ClusterSource) VirtualServices(ctx context.Context, namespace string) ([]*Meta, error) {
	if s.istio == nil {
		return nil, errNoIstio
	}
	if s.watched == nil {
		return s.listVirtualServices(ctx, namespace)
	}
	if namespace != metav1.NamespaceAll {
		if !slices.Contains(s.watched, namespace) {
			return nil, fmt.Errorf("list virtualservices in %s: %w: not a watched namespace", namespace, ErrNamespaced)
		}
		return s.listVirtualServices(ctx, namespace)
	}
	var out []*Meta
	for _, ns := range s.watched {
		list, err := s.listVirtualServices(ctx, ns)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// listVirtualServices lists one namespace's VirtualServices ("" for all).
func (s *ClusterSource) listVirtualServices(ctx context.Context, namespace string) ([]*Meta, error) {
	var out []*Meta
	err := s.eachPage(ctx, metav1.ListOptions{}, func(ctx context.Context, opts metav1.ListOptions) (string, error) {
		list, err := s.istio.NetworkingV1().VirtualServices(namespace).List(ctx, opts)
		if err != nil {
			return "", err
		}
		for _, vs := range list.Items {
			m := MetaOf(&vs.ObjectMeta, true)
			if hosts := vs.Spec.GetHosts(); len(hosts) > 0 {
				m.Host = hosts[0]
			}
			out = append(out, m)
		}
		return list.Continue, nil
	})
	return out, err
}

// eachPage calls list with PageSize-limited options until the server
// returns no continue token. An expired token fails the pick, which is
// retried at the next activation.
func (s *ClusterSource) eachPage(ctx context.Context, opts metav1.ListOptions, list func(context.Context, metav1.ListOptions) (string, error)) error {
	opts.Limit = s.pageSize
	for {
		next, err := list(ctx, opts)
		if err != nil || next == "" {
			return err
		}
		opts.Continue = next
	}
}
