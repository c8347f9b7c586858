package sli

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
)

// fakeRange answers range queries from a function of time, one sample per
// step, or fails.
type fakeRange struct {
	value   func(t time.Time) (float64, bool)
	err     error
	queries []string
}

func (f *fakeRange) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	s := &model.SampleStream{Metric: model.Metric{"job": "a"}}
	for t := start; !t.After(end); t = t.Add(step) {
		if v, ok := f.value(t); ok {
			s.Values = append(s.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(t.UnixNano()), Value: model.SampleValue(v)})
		}
	}
	return model.Matrix{s}, nil
}

func TestJudge(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	inject, revert, end := t0, t0.Add(2*time.Minute), t0.Add(3*time.Minute)
	def := config.SLI{Name: "errors", Query: `err{ns="{{.namespace}}"}`, Tolerance: config.Tolerance{MaxIncrease: ptr(0.05)}}
	step := 5 * time.Second
	tests := []struct {
		name       string
		value      func(t time.Time) (float64, bool)
		err        error
		want       guard.SLIState
		wantReason string
	}{
		{"steady", func(time.Time) (float64, bool) { return 0.01, true }, nil, guard.SLIWithin, "while held"},
		{"up while held", func(t time.Time) (float64, bool) {
			if !t.Before(inject) && !t.After(revert) {
				return 0.3, true
			}
			return 0.01, true
		}, nil, guard.SLIBeyond, "while held"},
		{"does not recover", func(t time.Time) (float64, bool) {
			if t.After(revert) {
				return 0.3, true
			}
			return 0.01, true
		}, nil, guard.SLIBeyond, "after the revert"},
		{"series vanishes during the fault", func(t time.Time) (float64, bool) { return 0.01, t.Before(inject) }, nil, guard.SLINoData, "no samples"},
		{"query fails", nil, errors.New("boom"), guard.SLINoData, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeRange{value: tt.value, err: tt.err}
			s := Sampler{Querier: q, Step: step, Rule: DefaultRule}
			probes := s.Baselines(context.Background(), []config.SLI{def}, config.SLIVars{Namespace: "demo"}, inject.Add(-time.Second), 2*time.Minute)
			res := s.Judge(context.Background(), probes, inject, revert, end)
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			if res[0].State != tt.want || !strings.Contains(res[0].Reason, tt.wantReason) {
				t.Errorf("got %s (%s), want %s containing %q", res[0].State, res[0].Reason, tt.want, tt.wantReason)
			}
			if q.queries[0] != `err{ns="demo"}` {
				t.Errorf("query %q was not rendered for the target", q.queries[0])
			}
			if o := Outcome(res); o.State != tt.want || !strings.Contains(o.Summary, "SLI errors") {
				t.Errorf("Outcome = %+v", o)
			}
		})
	}
	if Outcome(nil) != nil {
		t.Errorf("Outcome without SLIs must be nil: an experiment without SLIs is judged as before")
	}
}

func TestSampleTakesTheWorstSeries(t *testing.T) {
	ts := model.TimeFromUnixNano(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	m := model.Matrix{
		{Values: []model.SamplePair{{Timestamp: ts, Value: 0.1}}},
		{Values: []model.SamplePair{{Timestamp: ts, Value: 0.4}, {Timestamp: ts + 1000, Value: model.SampleValue(math.NaN())}}},
	}
	s := Sampler{Querier: matrixQuerier(m), Step: time.Second}
	up, _ := s.sample(context.Background(), "q", true, time.Time{}, time.Time{})
	down, _ := s.sample(context.Background(), "q", false, time.Time{}, time.Time{})
	if len(up) != 1 || up[0].Value != 0.4 || len(down) != 1 || down[0].Value != 0.1 {
		t.Errorf("higher is worse: %v; lower is worse: %v (NaN must be dropped)", up, down)
	}
}

type matrixQuerier model.Matrix

func (m matrixQuerier) QueryRange(context.Context, string, time.Time, time.Time, time.Duration) (model.Matrix, error) {
	return model.Matrix(m), nil
}
