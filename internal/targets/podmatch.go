package targets

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/chaosd/chaosd/internal/config"
)

// podMatcher applies an experiment's selectors (namespaces, namespace
// selector, label selector, owner kinds, optIn) to pods, resolving each
// controller at most once per Pick.
type podMatcher struct {
	t      config.Target
	sel    targetSelectors
	nss    map[string]*Meta
	owners ownerResolver
}

// namespaceFilter returns the namespace part of the selectors, or nil when
// every namespace passes.
func (pm *podMatcher) namespaceFilter() func(namespace string) bool {
	if pm.sel.namespaces.Len() == 0 && pm.sel.namespace == nil {
		return nil
	}
	nsOnly := targetSelectors{namespaces: pm.sel.namespaces, namespace: pm.sel.namespace, labels: labels.Everything()}
	return func(namespace string) bool {
		return matchesSelectors(nsOnly, pm.nss[namespace], &Meta{Namespace: namespace})
	}
}

// namespaceDecides reports whether the namespace alone decides a match, so
// that counting the matches needs no look at the pods.
func (pm *podMatcher) namespaceDecides() bool {
	return pm.sel.labels.Empty() && !pm.needsOwner()
}

// needsOwner reports whether matching a pod needs its controller.
func (pm *podMatcher) needsOwner() bool {
	return len(pm.t.OwnerKinds) > 0 || len(pm.t.ExcludeOwnerKinds) > 0 || pm.t.OptIn
}

// selects reports whether a pod matches the selectors. It resolves the
// pod's controller only when the owner kinds or optIn need it.
func (pm *podMatcher) selects(ctx context.Context, m *Meta) (bool, error) {
	ns := pm.nss[m.Namespace]
	if !matchesSelectors(pm.sel, ns, m) {
		return false, nil
	}
	if !pm.needsOwner() {
		return true, nil
	}
	own, err := pm.owners.resolve(ctx, m)
	if err != nil {
		return false, err
	}
	kind := (podMatch{meta: m, own: own}).workload().Kind
	if len(pm.t.OwnerKinds) > 0 && !slices.Contains(pm.t.OwnerKinds, kind) || slices.Contains(pm.t.ExcludeOwnerKinds, kind) {
		return false, nil
	}
	return !pm.t.OptIn || optedIn(m, own.controllerMeta(), own.topMeta(), ns), nil
}

// match returns a pod as a candidate when it matches the selectors.
func (pm *podMatcher) match(ctx context.Context, m *Meta) (podMatch, bool, error) {
	ok, err := pm.selects(ctx, m)
	if err != nil || !ok {
		return podMatch{}, false, err
	}
	own, err := pm.owners.resolve(ctx, m)
	if err != nil {
		return podMatch{}, false, err
	}
	return podMatch{meta: m, own: own}, true, nil
}

// all returns every pod of the spans that matches, in namespace/name order.
func (pm *podMatcher) all(ctx context.Context, view podView, set spanSet) ([]podMatch, error) {
	var matched []podMatch
	for _, sp := range set.spans {
		for _, m := range view.pods[sp.from:sp.to] {
			c, ok, err := pm.match(ctx, m)
			if err != nil {
				return nil, err
			}
			if ok {
				matched = append(matched, c)
			}
		}
	}
	return matched, nil
}

// count returns a view of the index and how many of its pods match: the
// size of the namespaces in scope when the namespace decides; the index's
// running count when a label selector decides with it; else the sum over
// the groups the selectors match (one look per group, not per pod), as the
// owner kinds and optIn depend on workloads and namespaces the pod index
// does not watch.
func (pm *podMatcher) count(ctx context.Context, idx *PodIndex) (podView, int, error) {
	if pm.namespaceDecides() {
		view := idx.view(nil)
		return view, view.spans(pm.namespaceFilter()).Len(), nil
	}
	if !pm.needsOwner() {
		view, n := idx.viewMatching(pm.sel.labels, pm.namespaceFilter())
		return view, n, nil
	}
	var (
		n       int
		err     error
		scratch Meta // one stand-in reused for every group: counting allocates nothing per group
	)
	view := idx.view(func(g podGroup, pods int) {
		if err != nil {
			return
		}
		scratch = g.meta()
		var ok bool
		if ok, err = pm.selects(ctx, &scratch); ok {
			n += pods
		}
	})
	if err != nil {
		return podView{}, 0, fmt.Errorf("list pods: %w", err)
	}
	return view, n, nil
}
