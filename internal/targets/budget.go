package targets

import "github.com/chaosd/chaosd/internal/config"

// workloadBudget is how many more of one workload's pods may go down: the
// policy's maxUnavailablePerWorkload of its desired replicas, minus the pods
// unavailable right now or reserved by a concurrent run, minus this call's
// picks.
type workloadBudget struct {
	allowed int // before this call's picks
	used    int
	pods    map[string]PodStatus
}

// newWorkloadBudget counts a workload's available pods. More available pods
// than desired (a surge during a rollout) leaves nothing unavailable. A pod
// a concurrent run reserved counts as unavailable: its kill may still be in
// flight. Once it is gone it is not counted twice.
func newWorkloadBudget(maxUnavailable config.IntOrPercent, desired int, pods []PodStatus, reserved func(pod string) bool) *workloadBudget {
	b := &workloadBudget{pods: make(map[string]PodStatus, len(pods))}
	available := 0
	for _, st := range pods {
		b.pods[st.Name] = st
		if st.Available() && !reserved(st.Name) {
			available++
		}
	}
	unavailable := max(0, desired-available)
	b.allowed = maxUnavailable.Of(desired) - unavailable
	return b
}

func (b *workloadBudget) left() int { return b.allowed - b.used }

// pdbBudget is how many more pods one PodDisruptionBudget lets this call
// take: its status.disruptionsAllowed, minus the pods it selects that
// concurrent runs reserved, minus this call's picks under it. The status
// lags a kill (the disruption controller updates it), so a reserved pod is
// subtracted while the inventory still lists it, even if the status has
// caught up: the budget errs on the safe side.
type pdbBudget struct {
	pdb      PDB
	reserved int
	used     int
}

// allowed is what the budget allows before this call's picks.
func (b *pdbBudget) allowed() int { return b.pdb.DisruptionsAllowed - b.reserved }

func (b *pdbBudget) left() int { return b.allowed() - b.used }

// nodeBudget is how many more Ready, schedulable, untainted nodes this call
// may take without leaving fewer than minReadyNodes (see readySchedulable).
type nodeBudget struct {
	readySchedulable int // in the whole cluster, before this call
	minReady         int
	used             int
}

// fits reports whether taking n more Ready schedulable nodes (beyond this
// call's picks so far when withPicks is set) keeps the floor.
func (b *nodeBudget) fits(n int, withPicks bool) bool {
	left := b.readySchedulable - n
	if withPicks {
		left -= b.used
	}
	return left >= b.minReady
}
