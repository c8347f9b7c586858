package runner

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/sli"
	"github.com/chaosd/chaosd/internal/targets"
)

// Conversions from what the pipeline's stages report into the journal's schema.

func selectionOf(res targets.Result) journal.Selection {
	sel := journal.Selection{Considered: res.Considered, Checked: res.Checked, Eligible: res.Eligible, Chosen: res.Targets}
	if sel.Chosen == nil {
		sel.Chosen = []targets.Target{}
	}
	if len(res.Rejected) > 0 {
		sel.Rejections = make(map[string]int, len(res.Rejected))
		for reason, n := range res.Rejected {
			sel.Rejections[string(reason)] = n
		}
	}
	for _, s := range res.Samples {
		sel.RejectedSample = append(sel.RejectedSample, journal.Rejection{Target: s.Target.String(), Reason: string(s.Reason)})
	}
	return sel
}

type reasonCount struct {
	reason targets.Reason
	count  int
}

func sortedReasons(m map[targets.Reason]int) []reasonCount {
	out := make([]reasonCount, 0, len(m))
	for r, n := range m {
		out = append(out, reasonCount{r, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].reason < out[j].reason
	})
	return out
}

func injectionOf(inj *experiments.Injection) journal.Injection {
	out := journal.Injection{Target: inj.Target.String(), Action: inj.Action, InjectedAt: inj.InjectedAt}
	if !inj.Reversible {
		at := inj.InjectedAt // nothing to give back: "reverted" when done
		out.RevertedAt, out.NothingToRevert = &at, true
	}
	switch d := inj.Detail.(type) {
	case *experiments.LoadReport:
		out.Detail = fmt.Sprintf("%d requests, %d errors", d.Requests, d.ErrorCount)
	case nil:
	default:
		if inj.DryRun {
			out.Detail = "dry run: nothing changed"
		}
	}
	return out
}

// loadStatsOf converts an http-load report.
func loadStatsOf(r *experiments.LoadReport) *journal.LoadStats {
	st := &journal.LoadStats{
		Requests:        r.Requests,
		DurationSeconds: r.Duration.Seconds(),
		StatusCodes:     map[string]int{},
		Latencies: journal.Latencies{
			P50: r.Latency.P50.Seconds(), P90: r.Latency.P90.Seconds(),
			P99: r.Latency.P99.Seconds(), Max: r.Latency.Max.Seconds(),
		},
	}
	if r.Duration > 0 {
		st.Rate = float64(r.Requests) / r.Duration.Seconds()
	}
	if r.Requests > 0 {
		st.SuccessRatio = float64(r.Requests-min(r.ErrorCount, r.Requests)) / float64(r.Requests)
	}
	for code, n := range r.StatusCodes {
		st.StatusCodes[strconv.Itoa(code)] = int(n)
	}
	for msg, n := range r.Errors {
		st.CountError(msg, int(n))
	}
	return st
}

// evidenceOf keeps what made an evaluation not OK, plus every check value
// (passing ones too, so a report shows how close a check came).
func evidenceOf(ev guard.Evaluation) []journal.Evidence {
	var out []journal.Evidence
	for _, a := range ev.Alerts {
		out = append(out, journal.Evidence{Source: journal.SourceAlertmanager, Name: a.Name, Labels: a.Labels,
			At: a.StartsAt, Message: fmt.Sprintf("%s alert %s (%s)", a.State, a.Name, a.Source)})
	}
	for _, c := range ev.Checks {
		e := journal.Evidence{Source: journal.SourcePrometheus, Name: c.Name, Bound: boundOf(c), At: c.Timestamp,
			Message: fmt.Sprintf("%s: %s", c.State, c.Expr)}
		if c.Reason != "" {
			e.Message += " — " + c.Reason
		}
		if c.Samples > 0 {
			v := float64(c.Value)
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				e.Value = &v
			}
		}
		if e.At.IsZero() {
			e.At = ev.At
		}
		out = append(out, e)
	}
	for _, p := range ev.Problems {
		out = append(out, journal.Evidence{Source: journal.SourceChaosd, Name: p.Source, At: ev.At, Message: p.Message})
	}
	return out
}

func boundOf(c guard.CheckResult) string {
	switch {
	case c.Empty:
		return "empty"
	case c.Min != nil && c.Max != nil:
		return fmt.Sprintf("%g..%g", *c.Min, *c.Max)
	case c.Min != nil:
		return fmt.Sprintf(">= %g", *c.Min)
	case c.Max != nil:
		return fmt.Sprintf("<= %g", *c.Max)
	}
	return ""
}

func sliResultsOf(rs []sli.Result) []journal.SLIResult {
	out := make([]journal.SLIResult, 0, len(rs))
	for _, r := range rs {
		jr := journal.SLIResult{Name: r.Name, Query: r.Query, State: r.State, Reason: r.Reason,
			Baseline: sliPointsOf(r.Baseline), Fault: sliPointsOf(r.Fault), Worse: journal.WorseLower}
		if r.HigherIsWorse {
			jr.Worse = journal.WorseHigher
		}
		if r.Held.State != "" {
			jr.Held = sliComparisonOf(r.Held)
		}
		if r.Observed.State != "" {
			jr.Observed = sliComparisonOf(r.Observed)
		}
		out = append(out, jr)
	}
	return out
}

func sliComparisonOf(c sli.Comparison) *journal.SLIComparison {
	return &journal.SLIComparison{State: c.State, Test: string(c.Test), BaselineMedian: finite(c.BaselineMedian),
		Median: finite(c.FaultMedian), Bound: finite(c.Bound), PValue: finite(c.PValue)}
}

func sliPointsOf(ps []sli.Point) []journal.SLIPoint {
	out := make([]journal.SLIPoint, len(ps))
	for i, p := range ps {
		out[i] = journal.SLIPoint{At: p.At, Value: p.Value}
	}
	return out
}

// finite is v as a JSON-safe pointer: nil for NaN and ±Inf.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
