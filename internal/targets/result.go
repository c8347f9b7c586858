package targets

// Reason says why a candidate was not picked. The strings are stable: they
// appear in run journals, notifications and `chaosd plan --cluster`.
type Reason string

const (
	ReasonNamespaceExcluded Reason = "namespace excluded"
	ReasonOptedOut          Reason = "opted out"
	ReasonOwnPod            Reason = "chaosd's own pod"
	ReasonHeld              Reason = "held by another fault"
	ReasonTerminating       Reason = "terminating"
	ReasonTooYoung          Reason = "younger than minPodAge"
	ReasonGone              Reason = "gone"
	ReasonNotReady          Reason = "not ready"
	ReasonPDB               Reason = "pdb allows no disruption"
	ReasonWorkloadBudget    Reason = "workload at maxUnavailable"
	ReasonControlPlane      Reason = "control-plane node"
	ReasonOwnNode           Reason = "runs chaosd"
	ReasonUnschedulable     Reason = "unschedulable"
	ReasonMinReadyNodes     Reason = "would leave fewer than minReadyNodes"
	ReasonLastZone          Reason = "last zone"
	ReasonNoEligibleNodes   Reason = "no eligible nodes"
)

// MaxRejectionSamples bounds Result.Samples.
const MaxRejectionSamples = 20

// Result is the outcome of one Pick, for the journal and for plans.
//
// Considered counts candidates matching the experiment's selectors. Each is
// either picked, rejected for a reason, or left unchecked: for modes one and
// count:N the picker checks candidates in random order only until it has
// enough (unless Options.Exhaustive), so Eligible is exact only when Checked
// equals Considered. A candidate that passed every rule on its own but was
// blocked by an earlier pick of the same call (a workload or PDB budget, the
// minReadyNodes floor) counts as Eligible and as Rejected.
type Result struct {
	Targets    []Target       `json:"targets"`
	Considered int            `json:"considered"`
	Checked    int            `json:"checked"`
	Eligible   int            `json:"eligible"`
	Rejected   map[Reason]int `json:"rejected,omitempty"`
	// Samples are the first MaxRejectionSamples rejections, in check order.
	Samples []Rejection `json:"samples,omitempty"`
}

// Rejection is one candidate that was not picked, and why.
type Rejection struct {
	Target Target `json:"target"`
	Reason Reason `json:"reason"`
}

// RejectedTotal is the number of rejections over all reasons.
func (r Result) RejectedTotal() int {
	n := 0
	for _, c := range r.Rejected {
		n += c
	}
	return n
}

// reject records a rejection. Callers pass a Target without Owner or Node,
// so that recording stays cheap when 100k pods are rejected.
func (r *Result) reject(t Target, why Reason) {
	if r.Rejected == nil {
		r.Rejected = map[Reason]int{}
	}
	r.Rejected[why]++
	if len(r.Samples) < MaxRejectionSamples {
		r.Samples = append(r.Samples, Rejection{Target: t, Reason: why})
	}
}
