package targets

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

// nodeFilter is a node target's selectors: the node label selector,
// podNamespace and optIn.
type nodeFilter struct {
	labels  labels.Selector
	running sets.Set[string] // nil unless podNamespace is set
	optIn   bool
}

func (f nodeFilter) matches(n *Node) bool {
	return f.labels.Matches(n.Labels) &&
		(f.running == nil || f.running.Has(n.Name)) &&
		(!f.optIn || n.Marks.OptIn)
}

// listNodes reads the nodes, sorted by name so that a seed replays, and the
// filter built from the target's selectors.
func (p *Picker) listNodes(ctx context.Context, t config.Target) ([]Node, nodeFilter, error) {
	f := nodeFilter{optIn: t.OptIn}
	var err error
	if f.labels, err = labels.Parse(t.Selector); err != nil {
		return nil, f, fmt.Errorf("parse selector: %w", err)
	}
	nodes, err := p.src.Nodes(ctx)
	if err != nil {
		return nil, f, fmt.Errorf("list nodes: %w", err)
	}
	if t.PodNamespace != "" {
		if f.running, err = p.src.NodesRunning(ctx, t.PodNamespace); err != nil {
			return nil, f, fmt.Errorf("find nodes running pods of %s: %w", t.PodNamespace, err)
		}
	}
	slices.SortFunc(nodes, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return nodes, f, nil
}

// readySchedulable reports whether a node counts towards minReadyNodes and
// keeps its zone alive: Ready, not cordoned, not deleting, and without a
// NoSchedule or NoExecute taint. A tainted node runs only the pods that
// tolerate it; counting it would let every worker be taken while the floor
// still looks met. Tolerations are not weighed: the floor is about capacity
// for workloads in general, and a node only some of them tolerate is not it.
func readySchedulable(n *Node) bool { return n.Ready && !n.Unschedulable && !n.Deleting && !n.Tainted }

// countsForFloor reports whether a node counts towards minReadyNodes now:
// readySchedulable, and not reserved by a concurrent run whose cordon,
// drain or delete may still be in flight.
func (p *Picker) countsForFloor(n *Node) bool {
	return readySchedulable(n) && !p.taken.nodes.Has(n.Name)
}

// floorCost is how many nodes of the minReadyNodes budget taking n uses.
func floorCost(n *Node) int {
	if readySchedulable(n) {
		return 1
	}
	return 0
}

// nodeRule applies the rules that concern a node on its own. Nodes already
// cordoned are not ours to take: chaosd would have to tell its uncordon
// from someone else's.
func (p *Picker) nodeRule(n *Node, policy config.Policy) Reason {
	switch {
	case optedOut(&n.Meta):
		return ReasonOptedOut
	case !policy.AllowControlPlane && isControlPlane(n.Labels):
		return ReasonControlPlane
	case p.ownNode != "" && n.Name == p.ownNode:
		return ReasonOwnNode
	case isHeld(p.held, config.TargetNode, "", n.Name, n.Marks):
		return ReasonHeld
	case n.Deleting:
		return ReasonTerminating
	case n.Unschedulable:
		return ReasonUnschedulable
	case !n.Ready:
		return ReasonNotReady
	}
	return ""
}

func nodeTarget(n *Node) Target { return Target{Kind: config.TargetNode, Name: n.Name} }

func (p *Picker) pickNodes(ctx context.Context, t config.Target, policy config.Policy, rng *rand.Rand) (Result, error) {
	nodes, filter, err := p.listNodes(ctx, t)
	if err != nil {
		return Result{}, err
	}
	pick := &nodePick{budget: nodeBudget{minReady: policy.MinReadyNodes}}
	var res Result
	for i := range nodes {
		n := &nodes[i]
		if p.countsForFloor(n) {
			pick.budget.readySchedulable++
		}
		if !filter.matches(n) {
			continue
		}
		res.Considered++
		if why := p.nodeRule(n, policy); why != "" {
			res.Checked++
			res.reject(nodeTarget(n), why)
			continue
		}
		pick.cands = append(pick.cands, n)
	}
	if err := choose(ctx, pick, t.Mode, rng, p.exhaustive, &res); err != nil {
		return Result{}, err
	}
	return res, nil
}

// nodePick implements candidates for nodes; each candidate is Ready and
// schedulable, so each pick takes one node off the minReadyNodes budget,
// unless a taint keeps it out of that budget anyway.
type nodePick struct {
	cands  []*Node
	budget nodeBudget
}

var _ candidates = (*nodePick)(nil)

func (np *nodePick) Len() int              { return len(np.cands) }
func (np *nodePick) describe(i int) Target { return nodeTarget(np.cands[i]) }

func (np *nodePick) check(_ context.Context, i int) (Reason, error) {
	if !np.budget.fits(floorCost(np.cands[i]), false) {
		return ReasonMinReadyNodes, nil
	}
	return "", nil
}

func (np *nodePick) admit(i int) Reason {
	if !np.budget.fits(floorCost(np.cands[i]), true) {
		return ReasonMinReadyNodes
	}
	return ""
}

func (np *nodePick) take(i int) Target {
	np.budget.used += floorCost(np.cands[i])
	return nodeTarget(np.cands[i])
}
