package sli

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
)

// RangeQuerier evaluates PromQL over a time range (the guard's Prometheus).
type RangeQuerier interface {
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (model.Matrix, error)
}

// Point is one sample of an SLI.
type Point struct {
	At    time.Time
	Value float64
}

// Probe is one SLI of a run, rendered for its target, with its baseline.
type Probe struct {
	SLI   config.SLI
	Query string
	// Baseline samples, taken before the fault.
	Baseline []Point
	// Err is why the SLI cannot be judged (template or query failure).
	Err error
}

// Result is one SLI's verdict for a run.
type Result struct {
	Name  string
	Query string
	State guard.SLIState
	// Reason says why, naming the window that decided.
	Reason   string
	Baseline []Point
	// Fault holds the samples from the injection to the end of observe.
	Fault []Point
	// Held compares the hold window, Observed the observe window (State
	// empty when there was none).
	Held, Observed Comparison
	// HigherIsWorse is the SLI's direction, from its tolerance.
	HigherIsWorse bool
}

// Sampler takes SLI samples from Prometheus and compares them.
type Sampler struct {
	Querier RangeQuerier
	Step    time.Duration
	Rule    Rule
}

// Baselines renders every SLI for the target and samples it from
// at-window to at, before anything is injected.
func (s Sampler) Baselines(ctx context.Context, slis []config.SLI, vars config.SLIVars, at time.Time, window time.Duration) []Probe {
	out := make([]Probe, 0, len(slis))
	for _, def := range slis {
		p := Probe{SLI: def}
		p.Query, p.Err = def.Render(vars)
		if p.Err == nil {
			p.Baseline, p.Err = s.sample(ctx, p.Query, def.Tolerance.HigherIsWorse(), at.Add(-window), at)
		}
		out = append(out, p)
	}
	return out
}

// Judge samples every probe from injectedAt to end and compares the hold
// window (up to revertedAt) and the observe window (after it) with the
// baseline.
func (s Sampler) Judge(ctx context.Context, probes []Probe, injectedAt, revertedAt, end time.Time) []Result {
	out := make([]Result, 0, len(probes))
	for _, p := range probes {
		r := Result{Name: p.SLI.Name, Query: p.Query, Baseline: p.Baseline, HigherIsWorse: p.SLI.Tolerance.HigherIsWorse()}
		if p.Err != nil {
			r.State, r.Reason = guard.SLINoData, p.Err.Error()
			out = append(out, r)
			continue
		}
		var err error
		r.Fault, err = s.sample(ctx, p.Query, p.SLI.Tolerance.HigherIsWorse(), injectedAt, end)
		if err != nil {
			r.State, r.Reason = guard.SLINoData, err.Error()
			out = append(out, r)
			continue
		}
		var held, observed []float64
		for _, pt := range r.Fault {
			if pt.At.After(revertedAt) {
				observed = append(observed, pt.Value)
			} else {
				held = append(held, pt.Value)
			}
		}
		base := values(p.Baseline)
		r.Held = Compare(p.SLI.Tolerance, base, held, s.Rule)
		r.State, r.Reason = r.Held.State, "while held: "+r.Held.Reason
		if end.Sub(revertedAt) >= s.Step { // an observe window long enough to hold a sample
			r.Observed = Compare(p.SLI.Tolerance, base, observed, s.Rule)
			if worse(r.Observed.State, r.State) {
				r.State, r.Reason = r.Observed.State, "after the revert: "+r.Observed.Reason
			}
		}
		out = append(out, r)
	}
	return out
}

// Outcome sums the results up for guard.DeriveVerdict: beyond if any SLI
// is, else no-data if any SLI had none, else within; nil without SLIs.
func Outcome(results []Result) *guard.SLIOutcome {
	if len(results) == 0 {
		return nil
	}
	o := &guard.SLIOutcome{State: guard.SLIWithin}
	var parts []string
	for _, r := range results {
		if worse(r.State, o.State) {
			o.State, parts = r.State, nil
		}
		if r.State == o.State {
			parts = append(parts, fmt.Sprintf("SLI %s %s", r.Name, r.Reason))
		}
	}
	o.Summary = strings.Join(parts, "; ")
	return o
}

// worse ranks SLI states: beyond, then no-data, then within.
func worse(a, b guard.SLIState) bool { return stateRank(a) > stateRank(b) }

func stateRank(s guard.SLIState) int {
	switch s {
	case guard.SLIBeyond:
		return 2
	case guard.SLINoData:
		return 1
	}
	return 0
}

// sample runs the range query and reduces it to one value per timestamp:
// the worst of the series when the query returns several (a conservative
// reading of a query that was meant to aggregate). Non-finite values
// (0/0 without traffic) are dropped: they are no data.
func (s Sampler) sample(ctx context.Context, query string, up bool, start, end time.Time) ([]Point, error) {
	m, err := s.Querier.QueryRange(ctx, query, start, end, s.Step)
	if err != nil {
		return nil, fmt.Errorf("sample %q: %w", query, err)
	}
	byTime := map[model.Time]float64{}
	var order []model.Time
	for _, series := range m {
		for _, sp := range series.Values {
			v := float64(sp.Value)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			prev, seen := byTime[sp.Timestamp]
			switch {
			case !seen:
				order = append(order, sp.Timestamp)
				byTime[sp.Timestamp] = v
			case (up && v > prev) || (!up && v < prev):
				byTime[sp.Timestamp] = v
			}
		}
	}
	out := make([]Point, 0, len(order))
	for _, ts := range order {
		out = append(out, Point{At: ts.Time().UTC(), Value: byTime[ts]})
	}
	sortPoints(out)
	return out, nil
}

func values(ps []Point) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.Value
	}
	return out
}

func sortPoints(ps []Point) {
	slices.SortFunc(ps, func(a, b Point) int { return a.At.Compare(b.At) })
}
