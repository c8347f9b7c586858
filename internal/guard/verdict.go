package guard

import "fmt"

// Verdict is the final judgement of one run; the whole project uses it.
type Verdict string

const (
	// Passed: the fault was held and the system stayed healthy throughout
	// and after the observe window.
	Passed Verdict = "passed"
	// Weakness: an alert or a check proved something broke; the evidence is
	// in the halt's or the final evaluation.
	Weakness Verdict = "weakness"
	// Skipped: nothing was injected because the preflight was not OK (or
	// the scheduler decided not to run: paused, outside a window, no target).
	Skipped Verdict = "skipped"
	// Aborted: the run was stopped early and reverted without evidence of a
	// weakness: the guard stayed unknown too long, or chaosd was stopped.
	Aborted Verdict = "aborted"
	// Error: chaosd itself failed (injection or revert), or the run could
	// not be judged at the end.
	Error Verdict = "error"
	// AlertGap: the fault moved a service level indicator beyond its
	// tolerance, yet no blocking alert fired: a hole in the alerting.
	AlertGap Verdict = "alert-gap"
	// NoEffect: the fault demonstrably did not reach traffic, or the target
	// carried too little traffic to tell. Never counted as resilience.
	NoEffect Verdict = "no-effect"
)

// Verdicts lists every verdict, worst first: the order in which
// docs/verdicts.md ranks them and reports sort them.
func Verdicts() []Verdict {
	return []Verdict{Error, Weakness, AlertGap, NoEffect, Aborted, Skipped, Passed}
}

// SLIState is how a run's service level indicators compared, baseline
// against fault.
type SLIState string

const (
	// SLIWithin: every SLI stayed within its tolerance.
	SLIWithin SLIState = "within"
	// SLIBeyond: at least one SLI moved beyond its tolerance.
	SLIBeyond SLIState = "beyond"
	// SLINoData: an SLI had too few samples to compare. Never "within":
	// missing data must not look healthy.
	SLINoData SLIState = "no-data"
)

// SLIOutcome is the comparison of a run's SLIs; the summary names the SLI
// that decided it.
type SLIOutcome struct {
	State   SLIState
	Summary string
}

// LandingState is what the evidence says about a fault reaching traffic.
type LandingState string

const (
	// Landed: evidence shows the fault acted on requests (or pods, nodes).
	Landed LandingState = "landed"
	// NotLanded: traffic flowed, and none of it was touched by the fault.
	NotLanded LandingState = "not-landed"
	// TooLittleTraffic: less traffic than the configured minimum to judge.
	TooLittleTraffic LandingState = "too-little-traffic"
	// LandingUnknown: the evidence could not be read (a query failed):
	// the fault is not proven to have landed, so the run never passes.
	LandingUnknown LandingState = "unknown"
)

// LandingOutcome is the evidence that the fault took effect.
type LandingOutcome struct {
	State   LandingState
	Summary string
}

// RunOutcome is what happened during one run, as far as judging goes.
type RunOutcome struct {
	// Preflight is the evaluation taken before injecting.
	Preflight Evaluation
	// Halt is the Watcher's decision, nil when the run was not halted.
	Halt *Halt
	// InjectErr is the error of injecting the fault, if any.
	InjectErr error
	// RevertErr is the error of reverting it, if any.
	RevertErr error
	// Final is the evaluation after the observe window; nil when the run
	// never got there (halted, or chaosd stopped).
	Final *Evaluation
	// SLI compares the run's SLIs, baseline against fault; nil when the
	// experiment has none.
	SLI *SLIOutcome
	// Landing is the evidence that the fault took effect; nil when the
	// fault kind has no landing check.
	Landing *LandingOutcome
}

// DeriveVerdict judges a run. The first rule that applies wins:
//  1. preflight not OK                 → Skipped (nothing was injected)
//  2. halted and the revert failed     → Weakness, whatever the halt's reason:
//     the worst case (an unhealthy or unseen system that may still carry the
//     fault) must get at least a weakness's self-pause, alert and
//     notifications; the reason says the revert failed
//  3. the revert failed otherwise      → Error (a fault may still be active;
//     someone must look)
//  4. halted for a weakness            → Weakness (an injection error caused
//     by the halt cancelling the injection must not hide the evidence)
//  5. halted because the guard stayed unknown → Aborted
//  6. the injection failed             → Error
//  7. no final evaluation              → Aborted (chaosd stopped mid-run)
//  8. final evaluation Blocked         → Weakness
//  9. final evaluation Unknown         → Error (the run cannot be judged)
//  10. an SLI moved beyond tolerance   → AlertGap (it hurt, no alert said so)
//  11. the fault did not land, or too little traffic to tell → NoEffect
//  12. an SLI had no data and nothing proved the fault landed → NoEffect
//     (missing data is never healthy)
//  13. otherwise                       → Passed
//
// The returned string explains the verdict in one line.
func DeriveVerdict(o RunOutcome) (Verdict, string) {
	switch {
	case o.Preflight.State != StateOK:
		return Skipped, "preflight " + o.Preflight.Summary()
	case o.Halt != nil && o.RevertErr != nil:
		return Weakness, fmt.Sprintf("halted (%s), then the revert failed, the fault may still be active: %v", o.Halt.Message, o.RevertErr)
	case o.RevertErr != nil:
		return Error, fmt.Sprintf("revert failed: %v", o.RevertErr)
	case o.Halt != nil && o.Halt.Reason == HaltWeakness:
		return Weakness, "halted: " + o.Halt.Evaluation.Summary()
	case o.Halt != nil:
		return Aborted, "halted: " + o.Halt.Message
	case o.InjectErr != nil:
		return Error, fmt.Sprintf("inject failed: %v", o.InjectErr)
	case o.Final == nil:
		return Aborted, "run ended before the final evaluation"
	case o.Final.State == StateBlocked:
		return Weakness, "after observe " + o.Final.Summary()
	case o.Final.State != StateOK:
		return Error, "after observe " + o.Final.Summary()
	case o.SLI != nil && o.SLI.State == SLIBeyond:
		return AlertGap, "no blocking alert fired, yet " + o.SLI.Summary
	case o.Landing != nil && o.Landing.State != Landed:
		return NoEffect, "the fault did not take effect: " + o.Landing.Summary
	case o.SLI != nil && o.SLI.State == SLINoData && o.Landing == nil:
		return NoEffect, "not enough data to judge: " + o.SLI.Summary
	}
	return Passed, "guard ok throughout"
}
