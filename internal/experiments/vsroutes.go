package experiments

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1 "istio.io/api/networking/v1"

	"github.com/chaosd/chaosd/internal/config"
)

// routeFault is chaosd's record of one HTTP route it changed: how to find
// the route again, what its fault was before, and what chaosd put there.
type routeFault struct {
	Index int    `json:"index"`
	Name  string `json:"name,omitempty"`
	// Fingerprint identifies an unnamed route by everything but its fault.
	Fingerprint string                           `json:"fingerprint"`
	Original    *networkingv1.HTTPFaultInjection `json:"original"`
	Injected    *networkingv1.HTTPFaultInjection `json:"injected"`
}

func (rf routeFault) label() string {
	if rf.Name != "" {
		return fmt.Sprintf("%q", rf.Name)
	}
	return fmt.Sprintf("#%d", rf.Index)
}

// vsOriginal is the Intent.Original of an HTTP fault.
type vsOriginal struct {
	Routes []routeFault `json:"routes"`
}

// injectRoutes sets the fault on every route the selector matches (all
// routes when sel is nil) and returns what it changed. An existing fault on
// a route is kept and only the parts chaosd injects (abort, delay) replaced.
func injectRoutes(routes []*networkingv1.HTTPRoute, namespace string, abort *config.AbortSpec, delay *config.DelaySpec, sel *config.RouteSelector) []routeFault {
	var changed []routeFault
	for i, r := range routes {
		if r.Delegate != nil || !routeMatches(r, namespace, sel) {
			continue
		}
		rf := routeFault{Index: i, Name: r.Name, Fingerprint: fingerprint(r), Original: cloneFault(r.Fault)}
		r.Fault = faultFor(r.Fault, abort, delay)
		rf.Injected = cloneFault(r.Fault)
		changed = append(changed, rf)
	}
	return changed
}

// restoreRoutes puts back each recorded route's original fault. Where
// someone else changed the fault since, chaosd's part is told apart per
// part (abort, delay): a part still exactly as chaosd injected it is
// reverted, a part another writer changed is theirs now and survives, and
// is listed in out.Left (its Object and ChangedBy are the caller's to
// fill). It reports whether any route changed.
func restoreRoutes(routes []*networkingv1.HTTPRoute, recorded []routeFault, out *Outcome) bool {
	claimed := map[int]bool{}
	changed := false
	for _, rf := range recorded {
		i := findRoute(routes, rf, claimed)
		if i < 0 {
			out.note("route %s no longer carries chaosd's fault; left as is", rf.label())
			continue
		}
		claimed[i] = true
		cur := routes[i].Fault
		if proto.Equal(cur, rf.Injected) {
			routes[i].Fault = cloneFault(rf.Original)
			changed = true
			continue
		}
		if cur == nil {
			out.note("route %s: fault removed since injection; nothing of chaosd's left", rf.label())
			continue
		}
		next, left := revertParts(cur, rf.Original, rf.Injected)
		if !proto.Equal(next, cur) {
			routes[i].Fault = next
			changed = true
			out.note("route %s: fault changed since injection; chaosd's unchanged part reverted", rf.label())
		}
		if len(left) > 0 {
			out.Left = append(out.Left, LeftFault{Route: rf.label(), Parts: left})
		}
	}
	return changed
}

// revertParts reverts the parts of cur (abort, delay) that still are
// exactly what chaosd injected, and names the parts chaosd injected that
// another writer changed since; a part chaosd did not inject, or that was
// removed since, is not chaosd's and stays as it is.
func revertParts(cur, orig, injected *networkingv1.HTTPFaultInjection) (*networkingv1.HTTPFaultInjection, []string) {
	next := cloneFault(cur)
	var left []string
	if inj := injected.GetAbort(); inj != nil && cur.GetAbort() != nil {
		if proto.Equal(cur.GetAbort(), inj) {
			next.Abort = cloneFault(orig).GetAbort()
		} else {
			left = append(left, "abort")
		}
	}
	if inj := injected.GetDelay(); inj != nil && cur.GetDelay() != nil {
		if proto.Equal(cur.GetDelay(), inj) {
			next.Delay = cloneFault(orig).GetDelay()
		} else {
			left = append(left, "delay")
		}
	}
	if next.GetAbort() == nil && next.GetDelay() == nil {
		return nil, left
	}
	return next, left
}

// findRoute locates a recorded route: by name when it had one (names are
// unique within a VirtualService), else by index and fingerprint, so routes
// inserted or removed by someone else don't mislead it, else as the one
// unnamed route still carrying exactly the injected fault.
func findRoute(routes []*networkingv1.HTTPRoute, rf routeFault, claimed map[int]bool) int {
	if rf.Name != "" {
		for i, r := range routes {
			if r.Name == rf.Name && !claimed[i] {
				return i
			}
		}
		return -1
	}
	ours := func(i int) bool {
		return i >= 0 && i < len(routes) && !claimed[i] && routes[i].Name == "" && proto.Equal(routes[i].Fault, rf.Injected)
	}
	if ours(rf.Index) && fingerprint(routes[rf.Index]) == rf.Fingerprint {
		return rf.Index
	}
	for i := range routes {
		if ours(i) && fingerprint(routes[i]) == rf.Fingerprint {
			return i
		}
	}
	if ours(rf.Index) { // edited in place by someone, still carrying our fault
		return rf.Index
	}
	// In place, its fault changed by someone: restoreRoutes tells chaosd's
	// part apart.
	if i := rf.Index; i >= 0 && i < len(routes) && !claimed[i] && routes[i].Name == "" && fingerprint(routes[i]) == rf.Fingerprint {
		return i
	}
	// Moved by an inserted or removed route and edited too: still ours if
	// it is the only unnamed route carrying exactly chaosd's fault.
	found := -1
	for i := range routes {
		if ours(i) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// faultFor returns existing with chaosd's abort and/or delay set.
func faultFor(existing *networkingv1.HTTPFaultInjection, abort *config.AbortSpec, delay *config.DelaySpec) *networkingv1.HTTPFaultInjection {
	f := cloneFault(existing)
	if f == nil {
		f = &networkingv1.HTTPFaultInjection{}
	}
	if abort != nil {
		f.Abort = &networkingv1.HTTPFaultInjection_Abort{
			ErrorType:  &networkingv1.HTTPFaultInjection_Abort_HttpStatus{HttpStatus: int32(abort.Status)},
			Percentage: &networkingv1.Percent{Value: abort.Percent},
		}
	}
	if delay != nil {
		f.Delay = &networkingv1.HTTPFaultInjection_Delay{
			HttpDelayType: &networkingv1.HTTPFaultInjection_Delay_FixedDelay{FixedDelay: durationpb.New(delay.Delay)},
			Percentage:    &networkingv1.Percent{Value: delay.Percent},
		}
	}
	return f
}

func cloneFault(f *networkingv1.HTTPFaultInjection) *networkingv1.HTTPFaultInjection {
	if f == nil {
		return nil
	}
	return proto.Clone(f).(*networkingv1.HTTPFaultInjection)
}

// routeMatches reports whether any destination of r matches sel.
func routeMatches(r *networkingv1.HTTPRoute, namespace string, sel *config.RouteSelector) bool {
	if sel == nil {
		return true
	}
	for _, d := range r.Route {
		dst := d.GetDestination()
		if dst == nil || !sameHost(dst.Host, sel.Host, namespace) {
			continue
		}
		if sel.Subset == "" || dst.Subset == sel.Subset {
			return true
		}
	}
	return false
}

// sameHost compares service hosts the way Istio resolves them: a short name
// lives in the VirtualService's namespace, and "svc", "svc.cluster.local"
// suffixes don't change the service.
func sameHost(a, b, namespace string) bool {
	return canonicalHost(a, namespace) == canonicalHost(b, namespace)
}

func canonicalHost(h, namespace string) string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if !strings.Contains(h, ".") {
		return h + "." + namespace
	}
	if i := strings.Index(h, ".svc"); i > 0 && (len(h) == i+4 || h[i+4] == '.') {
		return h[:i]
	}
	return h
}

// fingerprint identifies a route by everything except its fault.
func fingerprint(r *networkingv1.HTTPRoute) string {
	c := proto.Clone(r).(*networkingv1.HTTPRoute)
	c.Fault = nil
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
