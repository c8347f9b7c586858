// Package score computes chaosd's resiliency score from run journals: per
// experiment and per target workload, over the most recent runs, how well
// the system took the faults (docs/verdicts.md#resiliency-score).
//
//   - Each finished run is reduced to a Run (RunOf): the workloads it hit,
//     whether it counts and its credit. passed earns 1, or less when an SLI
//     used up part of its tolerance (down to 0.5 when it used all of it);
//     weakness and alert-gap earn 0.
//   - error, no-effect, aborted and skipped runs, dry runs and runs still
//     in progress never count: they say nothing about resilience (a fault
//     that did not land is not a pass). They are reported as excluded.
//   - Compute takes, per experiment and workload, the window most recent
//     runs that hit the workload; the score is the mean credit of the
//     counted ones, and absent ("no data"), never 100, when none counted.
//
// The package is pure: it reads records it is given and never reads the
// journal, a clock or a cluster, and never decides a verdict.
package score

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

// MinPassCredit is what a passed run earns when an SLI used its whole
// tolerance without crossing it: still more than a weakness (0), since
// the system held, but only half a clean pass, since it barely did.
const MinPassCredit = 0.5

// Run is what the score needs of one journal record.
type Run struct {
	RunID      string
	Experiment string
	StartedAt  time.Time
	// Workloads the run's targets belong to (Workload), each once.
	Workloads []string
	// Counted is false for runs that say nothing about resilience.
	Counted bool
	// Passed marks a counted run with verdict passed.
	Passed bool
	// Credit is 0..1 for a counted run, 0 otherwise.
	Credit float64
}

// RunOf reduces a record to what the score needs.
func RunOf(rec journal.Record) Run {
	r := Run{RunID: rec.RunID, Experiment: rec.Experiment, StartedAt: rec.StartedAt, Workloads: workloads(rec.Selection.Chosen)}
	if rec.DryRun {
		return r // nothing was injected, so nothing was tested
	}
	switch rec.Verdict {
	case guard.Passed:
		r.Counted, r.Passed, r.Credit = true, true, 1-(1-MinPassCredit)*SLIUse(rec.SLIs)
	case guard.Weakness, guard.AlertGap:
		r.Counted = true
	}
	return r
}

// SLIUse is how much of its tolerance the fault used up, 0..1: the largest
// over the SLIs and their hold and observe windows of
// (median − baseline median) / (bound − baseline median), measured in the
// direction the SLI gets worse. A window without both medians and the
// bound, an SLI whose direction is not recorded, or one whose baseline was
// already at or beyond the bound (no tolerance left to use) adds nothing.
func SLIUse(slis []journal.SLIResult) float64 {
	use := 0.0
	for _, s := range slis {
		sign := 1.0
		switch s.Worse {
		case journal.WorseHigher:
		case journal.WorseLower:
			sign = -1
		default:
			continue
		}
		for _, c := range []*journal.SLIComparison{s.Held, s.Observed} {
			if c == nil || c.BaselineMedian == nil || c.Median == nil || c.Bound == nil {
				continue
			}
			room := sign * (*c.Bound - *c.BaselineMedian)
			if !(room > 0) {
				continue
			}
			u := sign * (*c.Median - *c.BaselineMedian) / room
			use = max(use, min(max(u, 0), 1))
		}
	}
	return use
}

// Workload names the workload a target belongs to, as the score's
// workload label: namespace/name of a pod's controlling workload (a bare
// pod is its own) or of a VirtualService; node/NAME, zone/ZONE, or the URL
// of a load burst. Pod names never appear unless the pod has no owner.
func Workload(t targets.Target) string {
	switch t.Kind {
	case config.TargetPod:
		name := t.Name
		if _, owner, ok := strings.Cut(t.Owner, "/"); ok {
			name = owner
		}
		return t.Namespace + "/" + name
	case config.TargetNode:
		return "node/" + t.Name
	case config.TargetZone:
		return "zone/" + t.Zone
	case config.TargetURL:
		return t.URL
	}
	return t.Namespace + "/" + t.Name
}

func workloads(ts []targets.Target) []string {
	var out []string
	for _, t := range ts {
		if w := Workload(t); !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// Score is one experiment's resiliency against one workload.
type Score struct {
	Experiment string
	Workload   string
	// Ratio is the mean credit of the counted runs, 0..1; meaningless
	// when Counted is 0 (see Known).
	Ratio float64
	// Counted runs judge resilience; Passed of them passed. Excluded runs
	// are in the window but say nothing (error, no-effect, aborted,
	// skipped, dry runs).
	Counted, Passed, Excluded int
	// Window is how many recent runs were looked at, at most.
	Window int
}

// Known reports whether any run counted: without one there is no score.
func (s Score) Known() bool { return s.Counted > 0 }

// NoData is how a score without a counted run reads: never as 100%.
const NoData = "no data"

// Percent formats the score for people: "87.5%", or NoData.
func (s Score) Percent() string {
	if !s.Known() {
		return NoData
	}
	return Percent(s.Ratio)
}

// Rule says in two sentences how a score is computed, for pages and
// reports (docs/verdicts.md#resiliency-score has the whole rule).
const Rule = "A passed run counts 1, less (down to 0.5) as an SLI used up its tolerance; weakness and alert-gap count 0. " +
	"Error, no-effect, aborted, skipped and dry runs are not counted: they tell nothing about resilience, and without a counted run there is no score."

// Percent formats a ratio as a percentage to a tenth: "66.7%", "100%".
func Percent(ratio float64) string {
	return strconv.FormatFloat(math.Round(1000*ratio)/10, 'f', -1, 64) + "%"
}

// Compute scores every experiment and workload over its window most recent
// runs (by start, then run ID, as the journal orders them), sorted by
// experiment then workload. window < 1 is taken as 1.
func Compute(runs []Run, window int) []Score {
	window = max(window, 1)
	sorted := slices.Clone(runs)
	// Newest first, so each key's window is its first runs.
	slices.SortFunc(sorted, func(a, b Run) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.RunID, a.RunID)
	})
	type key struct{ experiment, workload string }
	acc := map[key]*Score{}
	credit := map[key]float64{}
	for _, r := range sorted {
		for _, w := range r.Workloads {
			k := key{r.Experiment, w}
			s := acc[k]
			if s == nil {
				s = &Score{Experiment: r.Experiment, Workload: w, Window: window}
				acc[k] = s
			}
			if s.Counted+s.Excluded >= window {
				continue
			}
			if !r.Counted {
				s.Excluded++
				continue
			}
			s.Counted++
			credit[k] += r.Credit
			if r.Passed {
				s.Passed++
			}
		}
	}
	out := make([]Score, 0, len(acc))
	for k, s := range acc {
		if s.Counted > 0 {
			s.Ratio = credit[k] / float64(s.Counted)
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Score) int {
		return cmp.Or(cmp.Compare(a.Experiment, b.Experiment), cmp.Compare(a.Workload, b.Workload))
	})
	return out
}

// FromRecords scores finished records; records still in progress are left
// out (they have no verdict yet).
func FromRecords(recs []journal.Record, window int) []Score {
	runs := make([]Run, 0, len(recs))
	for _, rec := range recs {
		if rec.Verdict != "" {
			runs = append(runs, RunOf(rec))
		}
	}
	return Compute(runs, window)
}
