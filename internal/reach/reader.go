package reach

import (
	"context"
	"fmt"

	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

// httpRoutes is the Gateway API's HTTPRoute resource.
var httpRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// Reader reads what the rules need from the API server, once per check:
// a run asks once, before injecting.
type Reader struct {
	Kube kubernetes.Interface
	// Istio may be nil when Istio's CRDs are not installed; then no
	// VirtualService fault can be checked.
	Istio istioclient.Interface
	// Dynamic lists Gateway API HTTPRoutes; nil (or the CRD missing)
	// reads none, and the answer says so.
	Dynamic dynamic.Interface
	// Namespaces limits every read to these (namespaced mode); Namespace
	// objects, cluster-scoped, are then not read.
	Namespaces []string
}

// Check answers for one chosen target of exp; nil when the action has no
// reach rule (cordon, delete, zones, load bursts).
func (r Reader) Check(ctx context.Context, cfg *config.Config, exp config.Experiment, t targets.Target) (*Answer, error) {
	switch exp.Action.Type {
	case config.ActionPodKill:
		a := PodKill(t.Owner)
		return &a, nil
	case config.ActionNodeDrain:
		if t.Kind != config.TargetNode {
			return nil, nil
		}
		return r.drain(ctx, cfg, exp, t.Name)
	case config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault:
		return r.virtualService(ctx, exp, t)
	}
	return nil, nil
}

func (r Reader) virtualService(ctx context.Context, exp config.Experiment, t targets.Target) (*Answer, error) {
	if r.Istio == nil {
		return nil, fmt.Errorf("check reach of virtualservice %s/%s: no Istio client", t.Namespace, t.Name)
	}
	vs, err := r.Istio.NetworkingV1().VirtualServices(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("check reach: get virtualservice %s/%s: %w", t.Namespace, t.Name, err)
	}
	m, notes, err := r.mesh(ctx)
	if err != nil {
		return nil, fmt.Errorf("check reach of virtualservice %s/%s: %w", t.Namespace, t.Name, err)
	}
	a := VirtualService(vs, exp.Action, m)
	a.Warnings = append(a.Warnings, notes...)
	return &a, nil
}

// mesh lists every object the VirtualService rules read. notes say what
// could not be read and was left out.
func (r Reader) mesh(ctx context.Context) (Mesh, []string, error) {
	var m Mesh
	var notes []string
	if len(r.Namespaces) == 0 {
		nss, err := r.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return m, nil, fmt.Errorf("list namespaces: %w", err)
		}
		m.Namespaces = nss.Items
	} else {
		m.NamespacesUnread = true
		notes = append(notes, "namespaced mode: namespace labels (injection, ambient, waypoint) not read")
	}
	for _, ns := range r.scopes() {
		pods, err := r.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return m, nil, fmt.Errorf("list pods: %w", err)
		}
		m.Pods = append(m.Pods, pods.Items...)
		svcs, err := r.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return m, nil, fmt.Errorf("list services: %w", err)
		}
		m.Services = append(m.Services, svcs.Items...)
		ses, err := r.Istio.NetworkingV1().ServiceEntries(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return m, nil, fmt.Errorf("list serviceentries: %w", err)
		}
		m.ServiceEntries = append(m.ServiceEntries, ses.Items...)
		gws, err := r.Istio.NetworkingV1().Gateways(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return m, nil, fmt.Errorf("list gateways: %w", err)
		}
		m.Gateways = append(m.Gateways, gws.Items...)
		if r.Dynamic == nil {
			continue
		}
		routes, err := r.Dynamic.Resource(httpRoutes).Namespace(ns).List(ctx, metav1.ListOptions{})
		switch {
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
			// No Gateway API installed: no HTTPRoute can attach.
		case err != nil:
			return m, nil, fmt.Errorf("list httproutes: %w", err)
		default:
			for i := range routes.Items {
				m.HTTPRoutes = append(m.HTTPRoutes, HTTPRouteOf(&routes.Items[i]))
			}
		}
	}
	if r.Dynamic == nil {
		notes = append(notes, "HTTPRoutes not read")
	}
	return m, notes, nil
}

// scopes are the namespaces to list in; "" is all of them.
func (r Reader) scopes() []string {
	if len(r.Namespaces) == 0 {
		return []string{metav1.NamespaceAll}
	}
	return r.Namespaces
}

func (r Reader) drain(ctx context.Context, cfg *config.Config, exp config.Experiment, node string) (*Answer, error) {
	pods, err := r.Kube.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("check reach of node %s: list its pods: %w", node, err)
	}
	var svcs []corev1.Service
	for _, ns := range r.scopes() {
		l, err := r.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("check reach of node %s: list services: %w", node, err)
		}
		svcs = append(svcs, l.Items...)
	}
	a := NodeDrain(node, pods.Items, svcs, Monitors(cfg.Guard), exp.Action.IgnoreDaemonSets == nil || *exp.Action.IgnoreDaemonSets)
	return &a, nil
}

// Monitors are the guard's endpoints a fault must not take down unnoticed.
func Monitors(g config.Guard) []Monitor {
	var out []Monitor
	if g.Prometheus != nil {
		out = append(out, Monitor{Role: "the guard's Prometheus", URL: g.Prometheus.URL})
	}
	if g.Alertmanager != nil {
		out = append(out, Monitor{Role: "the guard's Alertmanager", URL: g.Alertmanager.URL})
	}
	return out
}
