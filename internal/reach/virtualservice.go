package reach

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

// maxNamed bounds the pods an answer names per data plane.
const maxNamed = 3

// VirtualService answers whether the fault action would put on vs can act
// on any request. In order:
//   - its hosts must be served by a Service or ServiceEntry, or nobody
//     calls them through the mesh;
//   - each gateway it is bound to counts when an Istio Gateway of that
//     name selects a live pod;
//   - when bound to "mesh" (or to nothing, which means mesh), every live
//     pod in a namespace it is exported to counts whose data plane applies
//     it: a sidecar, proxyless gRPC, or ambient with a waypoint in front
//     of the destination Service (not when an HTTPRoute is attached to
//     that Service too: Istio leaves that combination undefined);
//   - route faults a data plane ignores (a delay with only the legacy
//     percent, an abort without percentage, a status grpc-go drops) are
//     warnings: chaosd's own faults always carry a percentage.
func VirtualService(vs *istiov1.VirtualService, action config.Action, m Mesh) Answer {
	var a Answer
	spec := &vs.Spec
	if len(spec.Hosts) == 0 {
		a.Reachable = true
		a.reason("delegate VirtualService (no hosts): reach follows its parent, not checked")
		return a
	}
	dests, unserved := resolveHosts(vs, m)
	if len(dests.services) == 0 && !dests.external {
		a.reason(fmt.Sprintf("no Service or ServiceEntry serves its hosts %s: nobody can call them through the mesh", strings.Join(unserved, ", ")))
		return a
	}
	if len(unserved) > 0 {
		a.warning(fmt.Sprintf("no Service or ServiceEntry serves hosts %s", strings.Join(unserved, ", ")))
	}
	gateways := spec.Gateways
	mesh := len(gateways) == 0 || slices.Contains(gateways, "mesh")
	for _, g := range gateways {
		if g == "mesh" {
			continue
		}
		if r, ok := gatewayReach(vs.Namespace, g, m); ok {
			a.Reachable = true
			a.reason(r)
		} else {
			a.reason(r)
		}
	}
	if !mesh {
		a.reason("bound only to gateways " + strings.Join(gateways, ", ") + ": in-mesh calls do not see it")
	} else {
		callers, notes, planes := meshCallers(vs, dests, m)
		if callers > 0 {
			a.Reachable = true
		}
		a.Reasons = append(a.Reasons, notes...)
		a.Warnings = append(a.Warnings, faultWarnings(spec, action, planes, dests, m)...)
	}
	for _, s := range dests.services {
		for _, r := range m.HTTPRoutes {
			if r.attachesTo(s.ns, s.name) {
				a.warning(fmt.Sprintf("HTTPRoute %s/%s is attached to Service %s/%s too: with a VirtualService, Istio leaves the result undefined", r.Namespace, r.Name, s.ns, s.name))
			}
		}
	}
	return a
}

type svcRef struct{ ns, name string }

type destinations struct {
	services []svcRef
	// external: a ServiceEntry or a wildcard serves a host.
	external bool
}

// resolveHosts maps the VirtualService's hosts to the Services behind
// them, as Istio resolves short names: relative to the VirtualService's
// namespace.
func resolveHosts(vs *istiov1.VirtualService, m Mesh) (destinations, []string) {
	var d destinations
	var unserved []string
	for _, h := range vs.Spec.Hosts {
		if h == "*" || strings.HasPrefix(h, "*.") {
			d.external = true
			continue
		}
		ns, name := serviceOfHost(h, vs.Namespace)
		if name != "" && m.service(ns, name) != nil {
			d.services = append(d.services, svcRef{ns, name})
			continue
		}
		if serviceEntryServes(h, m) {
			d.external = true
			continue
		}
		unserved = append(unserved, h)
	}
	return d, unserved
}

// serviceOfHost parses name, name.ns, name.ns.svc and
// name.ns.svc.cluster.local; anything else is no Service ("", "").
func serviceOfHost(host, vsNamespace string) (string, string) {
	parts := strings.Split(strings.TrimSuffix(host, ".cluster.local"), ".")
	switch {
	case len(parts) == 1:
		return vsNamespace, parts[0]
	case len(parts) == 2, len(parts) == 3 && parts[2] == "svc":
		return parts[1], parts[0]
	}
	return "", ""
}

func serviceEntryServes(host string, m Mesh) bool {
	for _, se := range m.ServiceEntries {
		for _, h := range se.Spec.Hosts {
			if h == host || (strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:])) {
				return true
			}
		}
	}
	return false
}

// gatewayReach resolves a gateway reference (name or namespace/name,
// relative to the VirtualService) to an Istio Gateway and the live pods
// its selector picks.
func gatewayReach(vsNamespace, ref string, m Mesh) (string, bool) {
	ns, name := vsNamespace, ref
	if i := strings.Index(ref, "/"); i >= 0 {
		ns, name = ref[:i], ref[i+1:]
	}
	var gw *istiov1.Gateway
	for _, g := range m.Gateways {
		if g.Namespace == ns && g.Name == name {
			gw = g
		}
	}
	if gw == nil {
		return fmt.Sprintf("gateway %s/%s: no such Gateway", ns, name), false
	}
	if len(gw.Spec.Selector) == 0 {
		return fmt.Sprintf("gateway %s/%s selects no workload", ns, name), false
	}
	sel := labels.SelectorFromSet(gw.Spec.Selector)
	var pods []string
	for i := range m.Pods {
		p := &m.Pods[i]
		if live(p) && sel.Matches(labels.Set(p.Labels)) {
			pods = append(pods, p.Namespace+"/"+p.Name)
		}
	}
	if len(pods) == 0 {
		return fmt.Sprintf("gateway %s/%s: no live pod matches its selector %s", ns, name, sel), false
	}
	return fmt.Sprintf("gateway %s/%s runs on %s", ns, name, named(pods)), true
}

// meshCallers counts the live pods, in the namespaces vs is exported to,
// whose data plane applies it, and says per data plane who they are.
func meshCallers(vs *istiov1.VirtualService, d destinations, m Mesh) (int, []string, sets.Set[DataPlane]) {
	exported := exportedTo(vs)
	byPlane := map[DataPlane][]string{}
	for i := range m.Pods {
		p := &m.Pods[i]
		if !live(p) || (exported != nil && !exported.Has(p.Namespace)) {
			continue
		}
		plane := DataPlaneOf(p, m.namespace(p.Namespace))
		if plane == NoDataPlane && m.NamespacesUnread && p.Labels[keySidecarInject] != "false" && p.Annotations[keySidecarInject] != "false" {
			plane = UnknownDataPlane
		}
		byPlane[plane] = append(byPlane[plane], p.Namespace+"/"+p.Name)
	}
	var notes []string
	planes := sets.New[DataPlane]()
	n := 0
	for _, plane := range []DataPlane{Sidecar, ProxylessGRPC, UnknownDataPlane} {
		if pods := byPlane[plane]; len(pods) > 0 {
			n += len(pods)
			planes.Insert(plane)
			notes = append(notes, fmt.Sprintf("%d caller(s) with %s: %s", len(pods), plane, named(pods)))
		}
	}
	if pods := byPlane[Ambient]; len(pods) > 0 {
		via, why := waypointFor(d, m)
		switch {
		case via != "" && why == "":
			n += len(pods)
			planes.Insert(Ambient)
			notes = append(notes, fmt.Sprintf("%d ambient caller(s) through waypoint %s: %s", len(pods), via, named(pods)))
		default:
			notes = append(notes, fmt.Sprintf("%d ambient caller(s) not counted, %s: %s", len(pods), why, named(pods)))
		}
	}
	if n == 0 {
		scope := "any namespace"
		if exported != nil {
			scope = "namespaces " + strings.Join(sets.List(exported), ", ")
		}
		notes = append([]string{fmt.Sprintf("no live pod in %s runs a data plane that applies it (sidecar, proxyless gRPC, or ambient with a waypoint)", scope)}, notes...)
	}
	return n, notes, planes
}

// exportedTo is the set of namespaces vs is visible in; nil means all.
// A mesh-wide defaultVirtualServiceExportTo is not read: it is in the
// mesh config, not in any object.
func exportedTo(vs *istiov1.VirtualService) sets.Set[string] {
	if len(vs.Spec.ExportTo) == 0 || slices.Contains(vs.Spec.ExportTo, "*") {
		return nil
	}
	out := sets.New[string]()
	for _, e := range vs.Spec.ExportTo {
		if e == "." {
			e = vs.Namespace
		}
		out.Insert(e)
	}
	return out
}

// waypointFor names the waypoint in front of the destination Services
// (istio.io/use-waypoint on the Service, else on its namespace); why says
// what keeps ambient callers from applying the route, "" when nothing.
func waypointFor(d destinations, m Mesh) (via, why string) {
	if len(d.services) == 0 {
		return "", "the hosts are no Service a waypoint could serve"
	}
	for _, s := range d.services {
		svc := m.service(s.ns, s.name)
		wp := svc.Labels[labelUseWaypoint]
		if wp == "" {
			wp = nsLabels(m.namespace(s.ns))[labelUseWaypoint]
		}
		if wp == "" || wp == "none" {
			continue
		}
		for _, r := range m.HTTPRoutes {
			if r.attachesTo(s.ns, s.name) {
				return wp, fmt.Sprintf("HTTPRoute %s/%s on Service %s/%s makes the waypoint's routing undefined", r.Namespace, r.Name, s.ns, s.name)
			}
		}
		return wp, ""
	}
	return "", "no waypoint serves the destination (istio.io/use-waypoint), and ztunnel ignores HTTP routes"
}

// faultWarnings names route faults a data plane of the callers ignores,
// after chaosd's fault is merged in: chaosd replaces the abort, the delay
// or both, and keeps what it does not inject.
func faultWarnings(spec *networkingv1.VirtualService, action config.Action, planes sets.Set[DataPlane], d destinations, m Mesh) []string {
	if !planes.Has(ProxylessGRPC) {
		return nil
	}
	abort, delay := action.HTTPFault()
	var out []string
	for i, r := range spec.Http {
		f := r.GetFault()
		if f == nil {
			continue
		}
		route := fmt.Sprintf("route #%d", i)
		if r.Name != "" {
			route = fmt.Sprintf("route %q", r.Name)
		}
		if delay == nil && f.Delay != nil && f.Delay.Percentage == nil {
			out = append(out, route+": its delay has no percentage (legacy percent only): proxyless gRPC applies it to 0 % of calls")
		}
		if abort == nil && f.Abort != nil && f.Abort.Percentage == nil {
			out = append(out, route+": its abort has no percentage: proxyless gRPC applies it to 0 % of calls")
		}
	}
	if abort != nil {
		switch {
		case abort.Status < 200 || abort.Status >= 600:
			out = append(out, fmt.Sprintf("abort status %d: gRPC callers ignore statuses outside 200-599", abort.Status))
		case grpcCodeOf(abort.Status) == "UNKNOWN":
			out = append(out, fmt.Sprintf("abort status %d reaches proxyless gRPC callers as UNKNOWN", abort.Status))
		}
	}
	if !grpcPort(d, m) {
		out = append(out, "no destination Service has a gRPC port: proxyless gRPC callers apply routes only to gRPC calls")
	}
	return out
}

// grpcCodeOf is gRPC's mapping of an HTTP status to a code (grpc-go's
// HTTP-to-gRPC table), as proxyless callers see an aborted call.
func grpcCodeOf(status int) string {
	switch status {
	case 400:
		return "INTERNAL"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "UNIMPLEMENTED"
	case 429, 502, 503, 504:
		return "UNAVAILABLE"
	}
	return "UNKNOWN"
}

func grpcPort(d destinations, m Mesh) bool {
	for _, s := range d.services {
		for _, p := range m.service(s.ns, s.name).Spec.Ports {
			if strings.HasPrefix(p.Name, "grpc") || (p.AppProtocol != nil && strings.HasPrefix(*p.AppProtocol, "grpc")) {
				return true
			}
		}
	}
	return len(d.services) == 0
}

// named lists up to maxNamed pods, sorted, and how many more.
func named(pods []string) string {
	sort.Strings(pods)
	if len(pods) <= maxNamed {
		return strings.Join(pods, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(pods[:maxNamed], ", "), len(pods)-maxNamed)
}
