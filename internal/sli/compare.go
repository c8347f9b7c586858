// Package sli judges a run by its service level indicators: it samples
// each SLI over a baseline window before the fault and over the fault's
// hold and observe windows, and says whether the fault moved it beyond
// its tolerance.
//
// The comparison rule (Compare), for an SLI where higher is worse (lower is
// worse mirrors it):
//   - the fault window's median must be beyond the tolerance: above max,
//     above the baseline median plus maxIncrease, or above the baseline
//     median times 1+maxIncreasePercent/100 (any key that applies);
//   - and the change must be more than noise: with at least MinSamples
//     samples on each side, a one-sided Mann–Whitney U test (fault greater
//     than baseline; normal approximation with tie and continuity
//     correction) must reject "no change" at Alpha; with fewer samples the
//     fault median must simply be worse than the baseline median (a plain
//     threshold: too few samples for a test to mean anything).
//   - A window without samples is SLINoData, never within: missing data must
//     not look healthy. With no baseline samples only an absolute bound (max,
//     min) can be judged, by the plain threshold.
//
// Why both: the tolerance alone would call a service that was already
// beyond its bound before the fault an alert gap, and would flap on noise
// near the bound; the test alone would call any statistically visible
// change a gap, however small. Why the median and a rank test: SLIs are
// ratios and quantiles with spikes, and neither assumes a distribution.
// Samples of a range query over rate() windows are autocorrelated, which
// makes the test over-confident; the tolerance is what keeps that from
// turning into false alert gaps (TestFalsePositiveRate measures both).
//
// It never decides a run's verdict (guard.DeriveVerdict does) and never
// talks to anything but the RangeQuerier it is given.
package sli

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
)

// Rule holds the comparison's parameters.
type Rule struct {
	// Alpha is the significance level of the Mann–Whitney U test.
	Alpha float64
	// MinSamples on each side below which the plain threshold decides.
	MinSamples int
}

// DefaultRule: 1 % false alarms from the test on independent noise, and a
// test only from eight samples on each side (at a 10 s step, 80 s).
var DefaultRule = Rule{Alpha: 0.01, MinSamples: 8}

// Test names how a comparison was decided.
type Test string

const (
	TestMannWhitney Test = "mann-whitney"
	TestThreshold   Test = "threshold"
	TestNone        Test = "none" // no data to decide on
)

// Comparison is the outcome of one window against the baseline.
type Comparison struct {
	State guard.SLIState
	// Medians of the baseline and the window; NaN without samples.
	BaselineMedian float64
	FaultMedian    float64
	// Bound is the tightest limit the window's median was held to.
	Bound float64
	// PValue of the U test; NaN when the plain threshold decided.
	PValue float64
	Test   Test
	// Reason says why, in one line.
	Reason string
}

// Compare judges fault samples against baseline samples under tol.
func Compare(tol config.Tolerance, baseline, fault []float64, rule Rule) Comparison {
	c := Comparison{BaselineMedian: median(baseline), FaultMedian: median(fault), PValue: math.NaN(), Test: TestNone}
	if len(fault) == 0 {
		c.State, c.Reason = guard.SLINoData, "no samples while the fault acted"
		return c
	}
	up := tol.HigherIsWorse()
	bound, ok := boundOf(tol, c.BaselineMedian, len(baseline) > 0, up)
	c.Bound = bound
	if !ok {
		c.State, c.Reason = guard.SLINoData, "no baseline samples to measure a relative tolerance against"
		return c
	}
	worse := func(a, b float64) bool { return (up && a > b) || (!up && a < b) }
	exceeds := worse(c.FaultMedian, bound)
	significant := len(baseline) == 0 || worse(c.FaultMedian, c.BaselineMedian)
	c.Test = TestThreshold
	if len(baseline) >= rule.MinSamples && len(fault) >= rule.MinSamples {
		c.Test = TestMannWhitney
		c.PValue = mannWhitneyGreater(baseline, fault, up)
		significant = c.PValue < rule.Alpha
	}
	rel := "above"
	if !up {
		rel = "below"
	}
	switch {
	case exceeds && significant:
		c.State = guard.SLIBeyond
		c.Reason = fmt.Sprintf("median %.4g %s tolerance %.4g (baseline %.4g%s)", c.FaultMedian, rel, bound, c.BaselineMedian, c.pText())
	case exceeds:
		c.State = guard.SLIWithin
		c.Reason = fmt.Sprintf("median %.4g %s tolerance %.4g, but no different from baseline %.4g%s", c.FaultMedian, rel, bound, c.BaselineMedian, c.pText())
	default:
		c.State = guard.SLIWithin
		c.Reason = fmt.Sprintf("median %.4g within tolerance %.4g (baseline %.4g)", c.FaultMedian, bound, c.BaselineMedian)
	}
	return c
}

func (c Comparison) pText() string {
	if c.Test != TestMannWhitney {
		return ""
	}
	return fmt.Sprintf(", p=%.2g", c.PValue)
}

// boundOf is the tightest limit tol sets; false when it needs a baseline
// and there is none.
func boundOf(tol config.Tolerance, base float64, hasBase, up bool) (float64, bool) {
	var bounds []float64
	abs, inc, pct := tol.Max, tol.MaxIncrease, tol.MaxIncreasePercent
	sign := 1.0
	if !up {
		abs, inc, pct, sign = tol.Min, tol.MaxDecrease, tol.MaxDecreasePercent, -1
	}
	if abs != nil {
		bounds = append(bounds, *abs)
	}
	if hasBase {
		if inc != nil {
			bounds = append(bounds, base+sign**inc)
		}
		if pct != nil {
			bounds = append(bounds, base+sign*math.Abs(base)**pct/100)
		}
	}
	if len(bounds) == 0 {
		return math.NaN(), false
	}
	if up {
		return slices.Min(bounds), true
	}
	return slices.Max(bounds), true
}

// median of xs; NaN when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// mannWhitneyGreater is the one-sided p-value of the hypothesis that fault
// samples tend to be worse than baseline samples (greater when up, smaller
// otherwise): normal approximation of U with average ranks for ties, the
// tie-corrected variance and a continuity correction. All samples equal
// means no evidence of a change: p = 1.
func mannWhitneyGreater(baseline, fault []float64, up bool) float64 {
	type obs struct {
		v     float64
		fault bool
	}
	all := make([]obs, 0, len(baseline)+len(fault))
	sign := 1.0
	if !up {
		sign = -1
	}
	for _, v := range baseline {
		all = append(all, obs{sign * v, false})
	}
	for _, v := range fault {
		all = append(all, obs{sign * v, true})
	}
	slices.SortFunc(all, func(a, b obs) int { return cmp.Compare(a.v, b.v) })
	n := float64(len(all))
	var rankSum, tieTerm float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j, averaged
		for k := i; k < j; k++ {
			if all[k].fault {
				rankSum += avg
			}
		}
		t := float64(j - i)
		tieTerm += t*t*t - t
		i = j
	}
	nb, nf := float64(len(baseline)), float64(len(fault))
	u := rankSum - nf*(nf+1)/2
	mean := nb * nf / 2
	variance := nb * nf / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	if variance <= 0 {
		return 1
	}
	z := (u - mean - 0.5) / math.Sqrt(variance)
	return 0.5 * math.Erfc(z/math.Sqrt2)
}
