package experiments

import "github.com/chaosd/chaosd/internal/config"

// A zone outage is not an action kind of its own: node-cordon and node-drain
// aimed at a zone target act on every node of the zone (targets.Target.Nodes)
// as one fault with one revert. Cordoning is all-or-nothing: if one node
// fails, the nodes already cordoned are uncordoned before Inject returns, so
// a zone is never left half-down by an injection that reported failure.

// nodesOf lists the nodes a node action hits.
func nodesOf(s Spec) []string {
	if s.Target.Kind == config.TargetZone {
		return s.Target.Nodes
	}
	return []string{s.Target.Name}
}
