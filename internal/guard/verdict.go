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
)

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
//  10. otherwise                       → Passed
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
	}
	return Passed, "guard ok throughout"
}
