package score

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func ptr(v float64) *float64 { return &v }

var vsCheckout = targets.Target{Kind: config.TargetVirtualService, Namespace: "shop", Name: "checkout"}

// rec is a finished run of experiment "abort" on shop/checkout, started
// i minutes after t0.
func rec(i int, v journal.Verdict) journal.Record {
	return journal.Record{RunID: fmt.Sprintf("run-%02d", i), Experiment: "abort", StartedAt: t0.Add(time.Duration(i) * time.Minute),
		Verdict: v, Selection: journal.Selection{Chosen: []targets.Target{vsCheckout}}}
}

// sliResult is an SLI that gets worse upwards (or downwards), with one
// held window.
func sliResult(worse string, baseline, median, bound float64) journal.SLIResult {
	return journal.SLIResult{Name: "errors", State: guard.SLIWithin, Worse: worse,
		Held: &journal.SLIComparison{State: guard.SLIWithin, BaselineMedian: ptr(baseline), Median: ptr(median), Bound: ptr(bound)}}
}

func TestRunOf(t *testing.T) {
	withSLIs := func(v journal.Verdict, slis ...journal.SLIResult) journal.Record {
		r := rec(0, v)
		r.SLIs = slis
		return r
	}
	dry := rec(0, guard.Passed)
	dry.DryRun = true
	tests := []struct {
		name    string
		rec     journal.Record
		counted bool
		passed  bool
		credit  float64
	}{
		{name: "passed, no SLIs", rec: rec(0, guard.Passed), counted: true, passed: true, credit: 1},
		{name: "weakness", rec: rec(0, guard.Weakness), counted: true, credit: 0},
		{name: "alert-gap", rec: withSLIs(guard.AlertGap, sliResult(journal.WorseHigher, 0.01, 0.2, 0.02)), counted: true, credit: 0},
		{name: "no-effect never counts", rec: rec(0, guard.NoEffect)},
		{name: "skipped never counts", rec: rec(0, guard.Skipped)},
		{name: "aborted never counts", rec: rec(0, guard.Aborted)},
		{name: "error never counts", rec: rec(0, guard.Error)},
		{name: "dry run never counts, even passed", rec: dry},
		{name: "SLI used half its tolerance", rec: withSLIs(guard.Passed, sliResult(journal.WorseHigher, 0.01, 0.015, 0.02)),
			counted: true, passed: true, credit: 0.75},
		{name: "SLI used all of it: the floor", rec: withSLIs(guard.Passed, sliResult(journal.WorseHigher, 0.01, 0.02, 0.02)),
			counted: true, passed: true, credit: MinPassCredit},
		{name: "median beyond the bound but no different from baseline: clipped to the floor",
			rec:     withSLIs(guard.Passed, sliResult(journal.WorseHigher, 0.01, 0.05, 0.02)),
			counted: true, passed: true, credit: MinPassCredit},
		{name: "lower is worse: availability fell a quarter of its tolerance",
			rec:     withSLIs(guard.Passed, sliResult(journal.WorseLower, 1, 0.99, 0.96)),
			counted: true, passed: true, credit: 0.875},
		{name: "an SLI that got better uses nothing", rec: withSLIs(guard.Passed, sliResult(journal.WorseHigher, 0.01, 0.001, 0.02)),
			counted: true, passed: true, credit: 1},
		{name: "the worst SLI decides", rec: withSLIs(guard.Passed,
			sliResult(journal.WorseHigher, 0.01, 0.0125, 0.02), sliResult(journal.WorseLower, 1, 0.97, 0.96)),
			counted: true, passed: true, credit: 0.625},
		{name: "direction not recorded: no reduction", rec: withSLIs(guard.Passed, sliResult("", 0.01, 0.02, 0.02)),
			counted: true, passed: true, credit: 1},
		{name: "baseline already beyond its bound: no tolerance to use", rec: withSLIs(guard.Passed, sliResult(journal.WorseHigher, 0.08, 0.06, 0.05)),
			counted: true, passed: true, credit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RunOf(tt.rec)
			if got.Counted != tt.counted || got.Passed != tt.passed || math.Abs(got.Credit-tt.credit) > 1e-9 {
				t.Errorf("counted %t passed %t credit %g, want %t %t %g", got.Counted, got.Passed, got.Credit, tt.counted, tt.passed, tt.credit)
			}
			if len(got.Workloads) != 1 || got.Workloads[0] != "shop/checkout" {
				t.Errorf("workloads %v, want [shop/checkout]", got.Workloads)
			}
		})
	}
}

func TestSLIUseReadsBothWindows(t *testing.T) {
	s := sliResult(journal.WorseHigher, 0.01, 0.011, 0.02)
	s.Observed = &journal.SLIComparison{BaselineMedian: ptr(0.01), Median: ptr(0.018), Bound: ptr(0.02)}
	if got := SLIUse([]journal.SLIResult{s}); math.Abs(got-0.8) > 1e-9 {
		t.Errorf("use %g, want 0.8 (the observe window's)", got)
	}
	s.Observed.Median = nil // no samples after the revert
	if got := SLIUse([]journal.SLIResult{s}); math.Abs(got-0.1) > 1e-9 {
		t.Errorf("use %g, want 0.1 (the hold window's)", got)
	}
}

func TestWorkload(t *testing.T) {
	tests := []struct {
		target targets.Target
		want   string
	}{
		{targets.Target{Kind: config.TargetPod, Namespace: "web", Name: "web-7d9f-abcde", Owner: "Deployment/web"}, "web/web"},
		{targets.Target{Kind: config.TargetPod, Namespace: "web", Name: "bare"}, "web/bare"},
		{vsCheckout, "shop/checkout"},
		{targets.Target{Kind: config.TargetNode, Name: "node-1"}, "node/node-1"},
		{targets.Target{Kind: config.TargetZone, Name: "zone-a", Zone: "zone-a", Nodes: []string{"n1"}}, "zone/zone-a"},
		{targets.Target{Kind: config.TargetURL, URL: "http://api.shop.svc/healthz"}, "http://api.shop.svc/healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Workload(tt.target); got != tt.want {
				t.Errorf("Workload(%v) = %q, want %q", tt.target, got, tt.want)
			}
		})
	}
}

func TestCompute(t *testing.T) {
	runs := func(vs ...journal.Verdict) []journal.Record {
		out := make([]journal.Record, len(vs))
		for i, v := range vs {
			out[i] = rec(i, v)
		}
		return out
	}
	tests := []struct {
		name   string
		recs   []journal.Record
		window int
		want   []Score // Ratio checked only when Known
	}{
		{name: "no runs, no scores", recs: nil, window: 5, want: []Score{}},
		{name: "only no-effect runs: no data, never 100", recs: runs(guard.NoEffect, guard.NoEffect), window: 5,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Excluded: 2, Window: 5}}},
		{name: "every kind of excluded run", recs: runs(guard.Skipped, guard.Aborted, guard.Error, guard.NoEffect), window: 5,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Excluded: 4, Window: 5}}},
		{name: "three passes", recs: runs(guard.Passed, guard.Passed, guard.Passed), window: 5,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Ratio: 1, Counted: 3, Passed: 3, Window: 5}}},
		{name: "no-effect is left out, not a pass", recs: runs(guard.Passed, guard.NoEffect, guard.Weakness, guard.NoEffect), window: 5,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Ratio: 0.5, Counted: 2, Passed: 1, Excluded: 2, Window: 5}}},
		{name: "alert-gap counts as a failure", recs: runs(guard.Passed, guard.Passed, guard.Passed, guard.AlertGap), window: 5,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Ratio: 0.75, Counted: 4, Passed: 3, Window: 5}}},
		{name: "the window keeps the newest runs", recs: runs(guard.Weakness, guard.Weakness, guard.Passed, guard.NoEffect, guard.Passed), window: 3,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Ratio: 1, Counted: 2, Passed: 2, Excluded: 1, Window: 3}}},
		{name: "a window of excluded runs hides older passes", recs: runs(guard.Passed, guard.NoEffect, guard.NoEffect), window: 2,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Excluded: 2, Window: 2}}},
		{name: "in-progress records are left out", recs: runs(guard.Passed, ""), window: 5,
			want: []Score{{Experiment: "abort", Workload: "shop/checkout", Ratio: 1, Counted: 1, Passed: 1, Window: 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromRecords(tt.recs, tt.window)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Known() != w.Known() || (w.Known() && math.Abs(g.Ratio-w.Ratio) > 1e-9) {
					t.Errorf("score %d: known %t ratio %g, want known %t ratio %g", i, g.Known(), g.Ratio, w.Known(), w.Ratio)
				}
				g.Ratio, w.Ratio = 0, 0
				if g != w {
					t.Errorf("score %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestComputeKeys: a run counts for each workload it hit, once; experiments
// and workloads are scored apart and listed in order; runs without targets
// (skipped before the pick) belong to no workload.
func TestComputeKeys(t *testing.T) {
	web := func(pod string) targets.Target {
		return targets.Target{Kind: config.TargetPod, Namespace: "web", Name: pod, Owner: "Deployment/web"}
	}
	twoPods := journal.Record{RunID: "a", Experiment: "kill", StartedAt: t0, Verdict: guard.Passed,
		Selection: journal.Selection{Chosen: []targets.Target{web("web-1"), web("web-2"), {Kind: config.TargetPod, Namespace: "api", Name: "api-1", Owner: "StatefulSet/api"}}}}
	weak := journal.Record{RunID: "b", Experiment: "kill", StartedAt: t0.Add(time.Minute), Verdict: guard.Weakness,
		Selection: journal.Selection{Chosen: []targets.Target{web("web-3")}}}
	noTarget := journal.Record{RunID: "c", Experiment: "kill", StartedAt: t0.Add(2 * time.Minute), Verdict: guard.Skipped}
	other := rec(3, guard.Passed)
	got := FromRecords([]journal.Record{other, noTarget, weak, twoPods}, 10)
	want := []struct {
		experiment, workload string
		ratio                float64
		counted              int
	}{
		{"abort", "shop/checkout", 1, 1},
		{"kill", "api/api", 1, 1},
		{"kill", "web/web", 0.5, 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %d scores", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Experiment != w.experiment || g.Workload != w.workload || g.Ratio != w.ratio || g.Counted != w.counted || g.Excluded != 0 {
			t.Errorf("score %d: %+v, want %+v", i, g, w)
		}
	}
}
