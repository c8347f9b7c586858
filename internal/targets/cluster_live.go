package targets

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Live reads, in pages, at pick time: nodes and VirtualServices. Node faults
// are rare and their safety floors (minReadyNodes, the last zone) must see
// the cluster as it is now; Node objects are too large to cache whole.

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
