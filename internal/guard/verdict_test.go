package guard

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDeriveVerdict(t *testing.T) {
	ok := Evaluation{State: StateOK}
	blocked := Evaluation{State: StateBlocked, Alerts: []AlertEvidence{{Name: "HighErrorRate"}}}
	unknown := Evaluation{State: StateUnknown, Problems: []Problem{{Source: SourceAlertmanager, Message: "timed out"}}}
	weaknessHalt := &Halt{Reason: HaltWeakness, Evaluation: blocked, Message: blocked.Summary()}
	unknownHalt := &Halt{Reason: HaltUnknown, Evaluation: unknown, Message: "guard unknown for 3s"}
	injectErr := errors.New("evict pod shop/cart-1: context canceled")
	revertErr := errors.New("remove fault from shop/cart: conflict")

	tests := []struct {
		name       string
		outcome    RunOutcome
		want       Verdict
		wantReason string
	}{
		{name: "passed", outcome: RunOutcome{Preflight: ok, Final: &ok}, want: Passed},
		{name: "preflight blocked", outcome: RunOutcome{Preflight: blocked}, want: Skipped, wantReason: "HighErrorRate"},
		{name: "preflight unknown", outcome: RunOutcome{Preflight: unknown}, want: Skipped, wantReason: "timed out"},
		{name: "preflight never taken", outcome: RunOutcome{Final: &ok}, want: Skipped},
		{name: "halted for a weakness", outcome: RunOutcome{Preflight: ok, Halt: weaknessHalt}, want: Weakness, wantReason: "HighErrorRate"},
		{name: "weakness halt hides the injection it cancelled", outcome: RunOutcome{Preflight: ok, Halt: weaknessHalt, InjectErr: injectErr}, want: Weakness},
		{name: "halted while unknown", outcome: RunOutcome{Preflight: ok, Halt: unknownHalt}, want: Aborted, wantReason: "guard unknown"},
		{name: "halted for a weakness and the revert failed", outcome: RunOutcome{Preflight: ok, Halt: weaknessHalt, RevertErr: revertErr}, want: Weakness, wantReason: "revert failed"},
		{name: "halted while unknown and the revert failed", outcome: RunOutcome{Preflight: ok, Halt: unknownHalt, RevertErr: revertErr}, want: Weakness, wantReason: "revert failed"},
		{name: "revert failure after a clean run", outcome: RunOutcome{Preflight: ok, Final: &ok, RevertErr: revertErr}, want: Error},
		{name: "injection failed", outcome: RunOutcome{Preflight: ok, InjectErr: injectErr, Final: &ok}, want: Error, wantReason: "inject failed"},
		{name: "stopped before the end", outcome: RunOutcome{Preflight: ok}, want: Aborted},
		{name: "weakness after observe", outcome: RunOutcome{Preflight: ok, Final: &blocked}, want: Weakness, wantReason: "after observe"},
		{name: "cannot judge after observe", outcome: RunOutcome{Preflight: ok, Final: &unknown}, want: Error, wantReason: "unknown"},
		{name: "SLI beyond tolerance, no alert", outcome: RunOutcome{Preflight: ok, Final: &ok, SLI: &SLIOutcome{State: SLIBeyond, Summary: "error ratio 0.30 > 0.01"}}, want: AlertGap, wantReason: "error ratio"},
		{name: "SLI beyond tolerance and an alert", outcome: RunOutcome{Preflight: ok, Final: &blocked, SLI: &SLIOutcome{State: SLIBeyond}}, want: Weakness},
		{name: "SLI beyond tolerance although landing unproven", outcome: RunOutcome{Preflight: ok, Final: &ok, SLI: &SLIOutcome{State: SLIBeyond, Summary: "p99"}, Landing: &LandingOutcome{State: TooLittleTraffic}}, want: AlertGap},
		{name: "SLI within, fault did not land", outcome: RunOutcome{Preflight: ok, Final: &ok, SLI: &SLIOutcome{State: SLIWithin}, Landing: &LandingOutcome{State: NotLanded, Summary: "0 of 412 requests had response flag FI"}}, want: NoEffect, wantReason: "response flag"},
		{name: "too little traffic", outcome: RunOutcome{Preflight: ok, Final: &ok, Landing: &LandingOutcome{State: TooLittleTraffic, Summary: "3 requests < 20"}}, want: NoEffect, wantReason: "3 requests"},
		{name: "SLI without data", outcome: RunOutcome{Preflight: ok, Final: &ok, SLI: &SLIOutcome{State: SLINoData, Summary: "error-ratio: no samples"}}, want: NoEffect, wantReason: "no samples"},
		{name: "SLI without data, landing proven", outcome: RunOutcome{Preflight: ok, Final: &ok, SLI: &SLIOutcome{State: SLINoData}, Landing: &LandingOutcome{State: Landed}}, want: Passed},
		{name: "SLI within, landed", outcome: RunOutcome{Preflight: ok, Final: &ok, SLI: &SLIOutcome{State: SLIWithin}, Landing: &LandingOutcome{State: Landed}}, want: Passed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := DeriveVerdict(tt.outcome)
			if got != tt.want {
				t.Errorf("verdict = %s (%s), want %s", got, reason, tt.want)
			}
			if reason == "" || !strings.Contains(reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.wantReason)
			}
		})
	}
}

// TestVerdictFromWatcher wires the pieces together: a real Guard against a
// fake Alertmanager, a Watcher that halts, and the verdict of that halt.
func TestVerdictFromWatcher(t *testing.T) {
	srv := newFakeServer(t, map[string]canned{"/api/v2/alerts": jsonAnswer(mustJSON(t, []any{active(map[string]string{"alertname": "CartDown"})}))})
	g := newAMGuard(t, srv.URL, nil, nil, 0)
	w := NewWatcher(g, g.Config(), WatcherOptions{})

	h, ok := w.Run(context.Background())
	if !ok {
		t.Fatal("watcher did not halt")
	}
	v, reason := DeriveVerdict(RunOutcome{Preflight: Evaluation{State: StateOK}, Halt: &h})
	if v != Weakness || !strings.Contains(reason, "CartDown") {
		t.Errorf("verdict = %s (%s), want weakness naming CartDown", v, reason)
	}
}
