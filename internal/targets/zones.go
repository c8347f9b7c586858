package targets

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"

	"github.com/chaosd/chaosd/internal/config"
)

// zone is every node sharing one value of the zone label.
type zone struct {
	name string
	all  []*Node // every node with the label value
	// members are the nodes the outage takes: those matching the target's
	// selectors that chaosd may touch. Control-plane (unless allowed),
	// opted-out, already cordoned nodes and chaosd's own node stay up.
	members  []*Node
	selected bool // some node matched the target's selectors
	ready    int  // members counting towards minReadyNodes
	alive    bool // some node of the zone counts towards minReadyNodes
}

// pickZones takes whole zones: all selected nodes sharing a value of
// Target.Label. An outage must leave another zone with Ready schedulable
// nodes, and at least minReadyNodes of them in the cluster.
func (p *Picker) pickZones(ctx context.Context, t config.Target, policy config.Policy, rng *rand.Rand) (Result, error) {
	nodes, filter, err := p.listNodes(ctx, t)
	if err != nil {
		return Result{}, err
	}
	label := t.Label
	if label == "" {
		label = config.DefaultZoneLabel
	}
	pick := &zonePick{budget: nodeBudget{minReady: policy.MinReadyNodes}, taken: map[string]bool{}}
	byName := map[string]*zone{}
	for i := range nodes {
		n := &nodes[i]
		if p.countsForFloor(n) {
			pick.budget.readySchedulable++
		}
		value, ok := n.Labels.Lookup(label)
		if !ok {
			continue
		}
		z := byName[value]
		if z == nil {
			z = &zone{name: value}
			byName[value] = z
			pick.all = append(pick.all, z)
		}
		z.all = append(z.all, n)
		z.alive = z.alive || p.countsForFloor(n)
		if !filter.matches(n) {
			continue
		}
		z.selected = true
		if p.zoneMemberRule(n, policy) == "" {
			z.members = append(z.members, n)
			z.ready += floorCost(n)
		}
	}
	slices.SortFunc(pick.all, func(a, b *zone) int { return cmp.Compare(a.name, b.name) })

	var res Result
	for _, z := range pick.all {
		if !z.selected {
			continue
		}
		res.Considered++
		if why := p.zoneRule(z); why != "" {
			res.Checked++
			res.reject(zoneTarget(z, false), why)
			continue
		}
		pick.cands = append(pick.cands, z)
	}
	if err := choose(ctx, pick, t.Mode, rng, p.exhaustive, &res); err != nil {
		return Result{}, err
	}
	return res, nil
}

// zoneMemberRule says whether a selected node joins its zone's outage.
func (p *Picker) zoneMemberRule(n *Node, policy config.Policy) Reason {
	switch {
	case optedOut(&n.Meta):
		return ReasonOptedOut
	case !policy.AllowControlPlane && isControlPlane(n.Labels):
		return ReasonControlPlane
	case p.ownNode != "" && n.Name == p.ownNode:
		return ReasonOwnNode
	case n.Unschedulable || n.Deleting:
		return ReasonUnschedulable
	}
	return ""
}

// zoneRule rejects zones another fault holds, in part or whole, and zones
// left with nothing to take.
func (p *Picker) zoneRule(z *zone) Reason {
	if isHeld(p.held, config.TargetZone, "", z.name, Marks{}) {
		return ReasonHeld
	}
	for _, n := range z.all {
		if isHeld(p.held, config.TargetNode, "", n.Name, n.Marks) {
			return ReasonHeld
		}
	}
	if len(z.members) == 0 {
		return ReasonNoEligibleNodes
	}
	return ""
}

func zoneTarget(z *zone, withNodes bool) Target {
	t := Target{Kind: config.TargetZone, Name: z.name, Zone: z.name}
	if withNodes {
		for _, n := range z.members {
			t.Nodes = append(t.Nodes, n.Name)
		}
	}
	return t
}

// zonePick implements candidates for zones.
type zonePick struct {
	all    []*zone // every labelled zone, for the last-zone rule
	cands  []*zone
	taken  map[string]bool
	budget nodeBudget
}

var _ candidates = (*zonePick)(nil)

func (zp *zonePick) Len() int              { return len(zp.cands) }
func (zp *zonePick) describe(i int) Target { return zoneTarget(zp.cands[i], false) }

func (zp *zonePick) check(_ context.Context, i int) (Reason, error) {
	return zp.rule(zp.cands[i], false), nil
}

func (zp *zonePick) admit(i int) Reason { return zp.rule(zp.cands[i], true) }

// rule applies the cluster-wide floors: another zone must stay alive, and
// minReadyNodes must hold, before or after this call's earlier picks.
func (zp *zonePick) rule(z *zone, withPicks bool) Reason {
	otherAlive := false
	for _, o := range zp.all {
		if o != z && o.alive && !(withPicks && zp.taken[o.name]) {
			otherAlive = true
			break
		}
	}
	if !otherAlive {
		return ReasonLastZone
	}
	if !zp.budget.fits(z.ready, withPicks) {
		return ReasonMinReadyNodes
	}
	return ""
}

func (zp *zonePick) take(i int) Target {
	z := zp.cands[i]
	zp.taken[z.name] = true
	zp.budget.used += z.ready
	return zoneTarget(z, true)
}
