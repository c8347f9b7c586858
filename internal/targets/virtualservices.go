package targets

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

// pickVirtualServices selects Istio VirtualServices. They are few and carry
// no budgets: every rule is answered from the listing.
func (p *Picker) pickVirtualServices(ctx context.Context, t config.Target, policy config.Policy, rng *rand.Rand) (Result, error) {
	sel, err := parseSelectors(t)
	if err != nil {
		return Result{}, fmt.Errorf("parse selectors: %w", err)
	}
	nss, err := namespaceIndex(ctx, p.src)
	if err != nil {
		return Result{}, err
	}
	var all []*Meta
	scopes := sets.List(sel.namespaces) // sorted
	if len(scopes) == 0 {
		scopes = []string{""}
	}
	for _, ns := range scopes {
		list, err := p.src.VirtualServices(ctx, ns)
		if err != nil {
			return Result{}, fmt.Errorf("list virtualservices: %w", err)
		}
		all = append(all, list...)
	}
	slices.SortFunc(all, func(a, b *Meta) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})

	var res Result
	pick := &vsPick{}
	excluded := p.excluded(policy)
	for _, vs := range all {
		ns := nss[vs.Namespace]
		if !matchesSelectors(sel, ns, vs) || (t.OptIn && !optedIn(vs, ns)) {
			continue
		}
		res.Considered++
		var why Reason
		switch {
		case excluded.Has(vs.Namespace):
			why = ReasonNamespaceExcluded
		case optedOut(vs, ns):
			why = ReasonOptedOut
		case isHeld(p.held, config.TargetVirtualService, vs.Namespace, vs.Name, vs.Marks):
			why = ReasonHeld
		case vs.Deleting:
			why = ReasonTerminating
		}
		if why != "" {
			res.Checked++
			res.reject(vsTarget(vs), why)
			continue
		}
		pick.cands = append(pick.cands, vs)
	}
	if err := choose(ctx, pick, t.Mode, rng, p.exhaustive, &res); err != nil {
		return Result{}, err
	}
	return res, nil
}

func vsTarget(m *Meta) Target {
	return Target{Kind: config.TargetVirtualService, Namespace: m.Namespace, Name: m.Name, Host: m.Host}
}

// vsPick implements candidates for VirtualServices: nothing is left to check.
type vsPick struct{ cands []*Meta }

var _ candidates = (*vsPick)(nil)

func (vp *vsPick) Len() int                                   { return len(vp.cands) }
func (vp *vsPick) describe(i int) Target                      { return vsTarget(vp.cands[i]) }
func (vp *vsPick) check(context.Context, int) (Reason, error) { return "", nil }
func (vp *vsPick) admit(int) Reason                           { return "" }
func (vp *vsPick) take(i int) Target                          { return vsTarget(vp.cands[i]) }
