package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

var scoreMetrics = []string{"chaosd_resiliency_score_ratio", "chaosd_resiliency_score_counted_runs", "chaosd_resiliency_score_excluded_runs"}

// TestScoreFollowsTheJournal: after each finished run the daemon exports
// the resiliency score the journal implies, over guard.scoreWindow runs:
// nothing before any run, run counts but no score while only a no-effect
// run is known (no data is never 100), then the mean credit. The status
// carries the same numbers.
func TestScoreFollowsTheJournal(t *testing.T) {
	d, _ := testDaemon(t, guarded+"  scoreWindow: 4\n", nil, nil, false)
	reg := d.o.Registry
	finish := func(i int, v journal.Verdict) {
		t.Helper()
		rec := journal.Record{SchemaVersion: journal.SchemaVersion, RunID: fmt.Sprintf("run-%d", i), Experiment: "abort",
			StartedAt: testNow.Add(time.Duration(i) * time.Minute), FinishedAt: testNow.Add(time.Duration(i)*time.Minute + 30*time.Second),
			Verdict: v, Selection: journal.Selection{Chosen: []targets.Target{{Kind: config.TargetVirtualService, Namespace: "shop", Name: "checkout"}}}}
		if err := d.journal.Write(rec); err != nil {
			t.Fatal(err)
		}
		runObserver{d}.DispatchFinished(rec)
	}
	expect := func(step, want string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), scoreMetrics...); err != nil {
			t.Errorf("%s: %v", step, err)
		}
	}

	d.refreshScores()
	if n, err := testutil.GatherAndCount(reg, scoreMetrics...); err != nil || n != 0 {
		t.Errorf("before any run: %d score series (%v), want none", n, err)
	}

	finish(0, journal.VerdictNoEffect)
	expect("after a no-effect run", `
# HELP chaosd_resiliency_score_counted_runs Runs in the resiliency score's window that count: passed, weakness or alert-gap.
# TYPE chaosd_resiliency_score_counted_runs gauge
chaosd_resiliency_score_counted_runs{experiment="abort",workload="shop/checkout"} 0
# HELP chaosd_resiliency_score_excluded_runs Runs in the resiliency score's window that say nothing about resilience and do not count: error, no-effect, aborted, skipped, dry runs.
# TYPE chaosd_resiliency_score_excluded_runs gauge
chaosd_resiliency_score_excluded_runs{experiment="abort",workload="shop/checkout"} 1
`)
	if st := d.status().Scores; len(st) != 1 || st[0].Ratio != nil || st[0].Percent() != "no data" || st[0].Excluded != 1 {
		t.Errorf("status after a no-effect run: %+v, want one score without data", st)
	}

	finish(1, journal.VerdictPassed)
	finish(2, journal.VerdictPassed)
	finish(3, journal.VerdictPassed)
	expect("after three passes", scoreText(1, 3, 1))

	// The window is four runs: the no-effect run drops out.
	finish(4, journal.VerdictWeakness)
	expect("after a weakness", scoreText(0.75, 4, 0))
	st := d.status().Scores
	if len(st) != 1 || st[0].Ratio == nil || *st[0].Ratio != 0.75 || st[0].Counted != 4 || st[0].Passed != 3 || st[0].Window != 4 || st[0].Percent() != "75%" {
		t.Errorf("status after a weakness: %+v", st)
	}
}

func scoreText(ratio float64, counted, excluded int) string {
	return fmt.Sprintf(`
# HELP chaosd_resiliency_score_counted_runs Runs in the resiliency score's window that count: passed, weakness or alert-gap.
# TYPE chaosd_resiliency_score_counted_runs gauge
chaosd_resiliency_score_counted_runs{experiment="abort",workload="shop/checkout"} %d
# HELP chaosd_resiliency_score_excluded_runs Runs in the resiliency score's window that say nothing about resilience and do not count: error, no-effect, aborted, skipped, dry runs.
# TYPE chaosd_resiliency_score_excluded_runs gauge
chaosd_resiliency_score_excluded_runs{experiment="abort",workload="shop/checkout"} %d
# HELP chaosd_resiliency_score_ratio Resiliency score of an experiment against a workload, 0 to 1: the mean credit of the counted runs in the window (passed 1, or down to 0.5 as an SLI used up its tolerance; weakness and alert-gap 0). Absent when no run counted.
# TYPE chaosd_resiliency_score_ratio gauge
chaosd_resiliency_score_ratio{experiment="abort",workload="shop/checkout"} %g
`, counted, excluded, ratio)
}

// TestScoreForgetsRunsRetentionRemoved: the score covers the runs the
// journal still holds.
func TestScoreForgetsRunsRetentionRemoved(t *testing.T) {
	d, _ := testDaemon(t, guarded, nil, nil, false)
	j := &fakeRunJournal{recs: map[string]journal.Record{}}
	for i, v := range []journal.Verdict{journal.VerdictWeakness, journal.VerdictPassed} {
		id := fmt.Sprintf("run-%d", i)
		j.recs[id] = journal.Record{RunID: id, Experiment: "kill", StartedAt: testNow.Add(time.Duration(i) * time.Minute), Verdict: v,
			Selection: journal.Selection{Chosen: []targets.Target{{Kind: config.TargetPod, Namespace: "web", Name: "web-1", Owner: "Deployment/web"}}}}
	}
	d.scores.refresh(j, 20)
	if s := d.scores.scores(); len(s) != 1 || s[0].Ratio != 0.5 || s[0].Workload != "web/web" {
		t.Fatalf("scores %+v, want web/web at 0.5", s)
	}
	delete(j.recs, "run-0") // retention removed the weakness
	d.scores.refresh(j, 20)
	if s := d.scores.scores(); len(s) != 1 || s[0].Ratio != 1 || s[0].Counted != 1 {
		t.Errorf("scores %+v, want web/web at 1 from one run", s)
	}
	delete(j.recs, "run-1")
	d.scores.refresh(j, 20)
	if s := d.scores.scores(); len(s) != 0 {
		t.Errorf("scores %+v, want none once the journal is empty", s)
	}
}

// TestOnceKeepsNoScore: a one-shot run serves no metrics, so it reads no
// journal for a score.
func TestOnceKeepsNoScore(t *testing.T) {
	d, _ := testDaemon(t, guarded, nil, nil, true)
	d.refreshScores()
	if d.scores != nil || d.scoreStatus() != nil {
		t.Error("a one-shot run keeps a score board")
	}
}

type fakeRunJournal struct{ recs map[string]journal.Record }

func (f *fakeRunJournal) List(int) []journal.Summary {
	var out []journal.Summary
	for _, r := range f.recs {
		out = append(out, r.Summarize())
	}
	return out
}

func (f *fakeRunJournal) Get(id string) (journal.Record, error) {
	r, ok := f.recs[id]
	if !ok {
		return journal.Record{}, journal.ErrNotFound
	}
	return r, nil
}
