package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/control"
)

// TestPrintStatusPauseReasons: a manual pause is printed once, from the live
// record; a resume the leader has not published yet reads as running; other
// pause reasons are printed as they are.
func TestPrintStatusPauseReasons(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	manual := control.ManualPauseReason + " by alice: maintenance"
	cooldown := "weakness found by kill (until 2026-12-06T12:10:00Z)"
	live := &control.ManualPause{Mode: "true", By: "alice", Reason: "maintenance", At: now.Add(-time.Minute)}
	status := func(state string, reasons ...string) control.Status {
		return control.Status{UpdatedAt: now.Add(-3 * time.Second), Leader: "chaosd-0", State: state, PauseReasons: reasons}
	}
	tests := []struct {
		name   string
		st     control.Status
		mp     *control.ManualPause
		want   []string
		absent []string
	}{
		{name: "manual pause is printed once", st: status("paused", manual), mp: live,
			want:   []string{"state:   paused (leader chaosd-0, updated 3s ago)", "manual pause: true by alice at 2026-12-06T11:59:00Z: maintenance"},
			absent: []string{"paused:  "}},
		{name: "resumed, leader not yet published", st: status("paused", manual),
			want:   []string{"state:   running (resumed; leader chaosd-0's status from 3s ago still says paused)"},
			absent: []string{"paused:  ", "manual pause:", "state:   paused"}},
		{name: "resumed but still cooling down", st: status("paused", manual, cooldown),
			want:   []string{"state:   paused (leader chaosd-0, updated 3s ago)", "paused:  " + cooldown},
			absent: []string{"manual pause:", control.ManualPauseReason}},
		{name: "cooldown and manual pause", st: status("paused", manual, cooldown), mp: live,
			want: []string{"manual pause: true by alice", "paused:  " + cooldown}},
		{name: "running", st: status("running"), want: []string{"state:   running (leader chaosd-0, updated 3s ago)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			printStatus(&out, tt.st, tt.mp, now)
			for _, w := range tt.want {
				if strings.Count(out.String(), w) != 1 {
					t.Errorf("want %q exactly once in:\n%s", w, &out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("want no %q in:\n%s", a, &out)
				}
			}
			if n := strings.Count(out.String(), "maintenance"); n > 1 {
				t.Errorf("the manual pause reason is printed %d times:\n%s", n, &out)
			}
		})
	}
}

// TestPrintStatusGuard: chaosd status shows what the status page's guard
// panel shows, from the same published GuardState.
func TestPrintStatusGuard(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		guard  *control.GuardState
		want   []string
		absent []string
	}{
		{name: "no guard state prints nothing", absent: []string{"guard:"}},
		{name: "not asked yet", guard: &control.GuardState{Alertmanager: &control.AlertmanagerGuard{}},
			want: []string{"guard:   not asked yet", "alertmanager not asked yet: blocks on any active alert: 0 alerts now"}},
		{name: "blocked by an alert, a check without data", guard: &control.GuardState{State: "blocked", Mode: "poll",
			EvaluatedAt: now.Add(-2 * time.Second), Problems: []string{"prometheus_pending: boom"},
			Alertmanager: &control.AlertmanagerGuard{State: "blocked", Block: []string{`severity="critical"`}, Ignore: []string{`team="x"`},
				Alerts: []control.GuardAlert{{Name: "DemoDown", State: "active", Since: now.Add(-time.Minute), Labels: `severity="critical"`}}},
			Prometheus: &control.PrometheusGuard{State: "unknown", Checks: []control.GuardCheck{
				{Name: "healthy", Bound: "≥ 1", State: "ok", Value: "1"},
				{Name: "errors", Bound: "≤ 0.05", State: "unknown", Reason: "no data"},
			}}},
			want: []string{"guard:   blocked (poll, 2s ago)", "  problem: prometheus_pending: boom",
				`alertmanager blocked: blocks on severity="critical" (ignoring team="x"): 1 alerts now`,
				`    DemoDown active since 2026-12-06T11:59:00Z severity="critical"`,
				"prometheus checks unknown:", "healthy                  ok       1 (must be ≥ 1)",
				"errors                   unknown  no data (must be ≤ 0.05): no data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			printStatus(&out, control.Status{UpdatedAt: now, State: "running", Guard: tt.guard}, nil, now)
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("want %q in:\n%s", w, &out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("want no %q in:\n%s", a, &out)
				}
			}
		})
	}
}

// TestPrintStatusScores: chaosd status shows the resiliency scores, and
// "no data" where no run counted.
func TestPrintStatusScores(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	ratio := 0.75
	var out bytes.Buffer
	printStatus(&out, control.Status{UpdatedAt: now, State: "running", Scores: []control.Score{
		{Experiment: "abort", Workload: "shop/checkout", Ratio: &ratio, Counted: 4, Passed: 3, Excluded: 1, Window: 20},
		{Experiment: "kill", Workload: "web/web", Excluded: 2, Window: 20},
	}}, nil, now)
	for _, w := range []string{
		"resiliency score (last 20 runs of each experiment against each workload):",
		"  abort                    shop/checkout                    75%      4 counted (3 passed), 1 not counted",
		"  kill                     web/web                          no data  0 counted (0 passed), 2 not counted",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("want %q in:\n%s", w, &out)
		}
	}
	out.Reset()
	printStatus(&out, control.Status{UpdatedAt: now, State: "running"}, nil, now)
	if strings.Contains(out.String(), "resiliency") {
		t.Errorf("scores printed without any:\n%s", &out)
	}
}
