package reach

import (
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Mesh is what the VirtualService rules read: plain cluster objects.
type Mesh struct {
	// Namespaces with their labels; a namespace missing here (namespaced
	// mode cannot read them) counts as unlabelled.
	Namespaces []corev1.Namespace
	// NamespacesUnread is set when namespace labels could not be read
	// (namespaced mode): a pod whose own labels do not decide then counts
	// as a caller of unknown data plane, so the check does not refuse
	// every VirtualService there; landing remains the proof.
	NamespacesUnread bool
	Pods             []corev1.Pod
	Services         []corev1.Service
	ServiceEntries   []*istiov1.ServiceEntry
	Gateways         []*istiov1.Gateway
	// HTTPRoutes are Gateway API routes, reduced to their parents.
	HTTPRoutes []HTTPRoute
}

// HTTPRoute is a Gateway API HTTPRoute reduced to what reach reads: the
// objects it attaches to. chaosd does not depend on the Gateway API
// module; the reader lists HTTPRoutes as unstructured objects.
type HTTPRoute struct {
	Namespace, Name string
	Parents         []ParentRef
}

// ParentRef is one spec.parentRefs entry; Namespace defaults to the
// route's.
type ParentRef struct {
	Group, Kind, Namespace, Name string
}

// HTTPRouteOf reduces an unstructured HTTPRoute.
func HTTPRouteOf(u *unstructured.Unstructured) HTTPRoute {
	r := HTTPRoute{Namespace: u.GetNamespace(), Name: u.GetName()}
	refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "parentRefs")
	for _, ref := range refs {
		m, ok := ref.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		p := ParentRef{Group: str("group"), Kind: str("kind"), Namespace: str("namespace"), Name: str("name")}
		if p.Kind == "" {
			p.Kind, p.Group = "Gateway", "gateway.networking.k8s.io"
		}
		if p.Namespace == "" {
			p.Namespace = r.Namespace
		}
		r.Parents = append(r.Parents, p)
	}
	return r
}

// attachesTo reports whether the route's parent is the Service ns/name
// (GAMMA: a route for mesh traffic to that Service).
func (r HTTPRoute) attachesTo(ns, name string) bool {
	for _, p := range r.Parents {
		if p.Kind == "Service" && (p.Group == "" || p.Group == "core") && p.Namespace == ns && p.Name == name {
			return true
		}
	}
	return false
}

func (m Mesh) namespace(name string) *corev1.Namespace {
	for i := range m.Namespaces {
		if m.Namespaces[i].Name == name {
			return &m.Namespaces[i]
		}
	}
	return nil
}

func (m Mesh) service(ns, name string) *corev1.Service {
	for i := range m.Services {
		if m.Services[i].Namespace == ns && m.Services[i].Name == name {
			return &m.Services[i]
		}
	}
	return nil
}

func nsLabels(ns *corev1.Namespace) map[string]string {
	if ns == nil {
		return nil
	}
	return ns.Labels
}
