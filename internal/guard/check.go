package guard

import (
	"fmt"
	"math"
	"sort"

	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
)

// sample is one number a check is judged on, whatever the result type.
type sample struct {
	metric    model.Metric
	value     model.SampleValue
	ts        model.Time
	histogram bool // a native histogram has no single value to compare
}

func newCheckResult(c config.Check) CheckResult {
	return CheckResult{Name: c.Name, Expr: c.Expr, Min: c.Min, Max: c.Max, Empty: c.Empty}
}

// judgeCheck decides a check from a query result. The rules:
//   - empty: OK only when there are no samples; any sample blocks.
//   - min/max: no samples is Unknown (no data never looks healthy); a NaN or
//     native-histogram sample is Unknown; any sample outside [min, max]
//     blocks; otherwise OK. Blocked wins over Unknown within one check.
//   - a result type other than vector, scalar or matrix is Unknown.
func judgeCheck(c config.Check, v model.Value) CheckResult {
	r := newCheckResult(c)
	samples, err := flatten(v)
	if err != nil {
		r.State, r.Reason = StateUnknown, err.Error()
		return r
	}
	r.Samples = len(samples)
	if c.Empty {
		judgeEmpty(&r, samples)
		return r
	}
	judgeBounds(&r, c, samples)
	return r
}

func judgeEmpty(r *CheckResult, samples []sample) {
	if len(samples) == 0 {
		r.State = StateOK
		return
	}
	r.State, r.Violations = StateBlocked, len(samples)
	r.setSample(samples[0])
	r.Reason = fmt.Sprintf("expected no samples, got %d (first %s)", len(samples), describe(samples[0]))
}

func judgeBounds(r *CheckResult, c config.Check, samples []sample) {
	if len(samples) == 0 {
		r.State, r.Reason = StateUnknown, "no data"
		return
	}
	var firstBad, firstUnusable *sample
	for i := range samples {
		s := &samples[i]
		switch {
		case s.histogram || math.IsNaN(float64(s.value)):
			if firstUnusable == nil {
				firstUnusable = s
			}
		case (c.Min != nil && float64(s.value) < *c.Min) || (c.Max != nil && float64(s.value) > *c.Max):
			r.Violations++
			if firstBad == nil {
				firstBad = s
			}
		}
	}
	switch {
	case firstBad != nil:
		r.State = StateBlocked
		r.setSample(*firstBad)
		r.Reason = fmt.Sprintf("%s outside %s", describe(*firstBad), bounds(c))
	case firstUnusable != nil:
		r.State = StateUnknown
		r.setSample(*firstUnusable)
		r.Reason = fmt.Sprintf("%s cannot be compared with %s", describe(*firstUnusable), bounds(c))
	default:
		r.State = StateOK
		r.setSample(samples[0])
	}
}

func (r *CheckResult) setSample(s sample) {
	r.Value, r.Metric, r.Timestamp = s.value, s.metric, s.ts.Time().UTC()
}

// flatten turns any query result into samples, sorted by series for
// deterministic evidence. Every point of a matrix is a sample.
func flatten(v model.Value) ([]sample, error) {
	var out []sample
	switch v := v.(type) {
	case nil:
		return nil, nil
	case model.Vector:
		for _, s := range v {
			if s == nil {
				continue
			}
			out = append(out, sample{metric: s.Metric, value: s.Value, ts: s.Timestamp, histogram: s.Histogram != nil})
		}
	case *model.Scalar:
		if v != nil {
			out = append(out, sample{value: v.Value, ts: v.Timestamp})
		}
	case model.Matrix:
		for _, ss := range v {
			if ss == nil {
				continue
			}
			for _, p := range ss.Values {
				out = append(out, sample{metric: ss.Metric, value: p.Value, ts: p.Timestamp})
			}
			for _, h := range ss.Histograms {
				out = append(out, sample{metric: ss.Metric, ts: h.Timestamp, histogram: true})
			}
		}
	default:
		return nil, fmt.Errorf("unsupported result type %s", v.Type())
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].metric.String(), out[j].metric.String(); a != b {
			return a < b
		}
		return out[i].ts < out[j].ts
	})
	return out, nil
}

func describe(s sample) string {
	val := s.value.String()
	if s.histogram {
		val = "native histogram"
	}
	if len(s.metric) == 0 {
		return val
	}
	return s.metric.String() + " = " + val
}

func bounds(c config.Check) string {
	lo, hi := "-Inf", "+Inf"
	if c.Min != nil {
		lo = fmt.Sprint(*c.Min)
	}
	if c.Max != nil {
		hi = fmt.Sprint(*c.Max)
	}
	return "[" + lo + ", " + hi + "]"
}
