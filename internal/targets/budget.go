package targets

import "github.com/chaosd/chaosd/internal/config"

// workloadBudget is how many more of one workload's pods may go down: the
// policy's maxUnavailablePerWorkload of its desired replicas, minus the pods
// unavailable right now, minus this call's picks.
type workloadBudget struct {
	allowed int // before this call's picks
	used    int
	pods    map[string]PodStatus
}

// newWorkloadBudget counts a workload's available pods. More available pods
// than desired (a surge during a rollout) leaves nothing unavailable.
func newWorkloadBudget(maxUnavailable config.IntOrPercent, desired int, pods []PodStatus) *workloadBudget {
	b := &workloadBudget{pods: make(map[string]PodStatus, len(pods))}
	available := 0
	for _, st := range pods {
		b.pods[st.Name] = st
		if st.Available() {
			available++
		}
	}
	unavailable := max(0, desired-available)
	b.allowed = maxUnavailable.Of(desired) - unavailable
	return b
}

func (b *workloadBudget) left() int { return b.allowed - b.used }

// pdbBudget is how many more pods one PodDisruptionBudget lets this call
// take: its status.disruptionsAllowed, minus this call's picks under it.
type pdbBudget struct {
	pdb  PDB
	used int
}

func (b *pdbBudget) left() int { return b.pdb.DisruptionsAllowed - b.used }

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
