package guard

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
)

func TestJudgeCheck(t *testing.T) {
	const ts = model.Time(1700000000000)
	vec := func(vals ...float64) model.Vector {
		var v model.Vector
		for i, x := range vals {
			v = append(v, &model.Sample{
				Metric:    model.Metric{"service": model.LabelValue(string(rune('a' + i)))},
				Value:     model.SampleValue(x),
				Timestamp: ts,
			})
		}
		return v
	}
	minMax := config.Check{Name: "success-rate", Expr: "rate", Min: ptr(0.95), Max: ptr(1.0)}
	onlyMax := config.Check{Name: "latency", Expr: "p99", Max: ptr(0.5)}
	empty := config.Check{Name: "crashloops", Expr: "crashing", Empty: true}

	tests := []struct {
		name       string
		check      config.Check
		value      model.Value
		want       State
		wantValue  float64
		wantReason string
	}{
		{name: "vector within bounds", check: minMax, value: vec(0.98, 0.99), want: StateOK, wantValue: 0.98},
		{name: "vector on the bound", check: minMax, value: vec(0.95, 1), want: StateOK, wantValue: 0.95},
		{name: "vector below min", check: minMax, value: vec(0.99, 0.5), want: StateBlocked, wantValue: 0.5, wantReason: `{service="b"} = 0.5 outside [0.95, 1]`},
		{name: "vector above max", check: onlyMax, value: vec(0.7), want: StateBlocked, wantValue: 0.7, wantReason: "outside [-Inf, 0.5]"},
		{name: "+Inf above max", check: onlyMax, value: vec(math.Inf(1)), want: StateBlocked, wantValue: math.Inf(1)},
		{name: "empty vector is no data", check: minMax, value: model.Vector{}, want: StateUnknown, wantReason: "no data"},
		{name: "nil result is no data", check: minMax, value: nil, want: StateUnknown, wantReason: "no data"},
		{name: "NaN cannot be judged", check: minMax, value: vec(math.NaN()), want: StateUnknown, wantReason: "NaN cannot be compared"},
		{name: "a violation outweighs a NaN", check: minMax, value: vec(math.NaN(), 0.1), want: StateBlocked, wantValue: 0.1},
		{
			name: "native histogram cannot be judged", check: onlyMax,
			value: model.Vector{{Metric: model.Metric{}, Histogram: &model.SampleHistogram{Count: 1}, Timestamp: ts}},
			want:  StateUnknown, wantReason: "native histogram",
		},
		{name: "scalar within bounds", check: minMax, value: &model.Scalar{Value: 0.97, Timestamp: ts}, want: StateOK, wantValue: 0.97},
		{name: "scalar out of bounds", check: minMax, value: &model.Scalar{Value: 2, Timestamp: ts}, want: StateBlocked, wantValue: 2},
		{name: "nil scalar is no data", check: minMax, value: (*model.Scalar)(nil), want: StateUnknown},
		{
			name: "matrix judges every point", check: onlyMax,
			value: model.Matrix{{Metric: model.Metric{"pod": "x"}, Values: []model.SamplePair{{Timestamp: ts, Value: 0.1}, {Timestamp: ts + 15000, Value: 0.9}}}},
			want:  StateBlocked, wantValue: 0.9,
		},
		{name: "matrix without points is no data", check: onlyMax, value: model.Matrix{{Metric: model.Metric{"pod": "x"}}}, want: StateUnknown},
		{name: "string result is unsupported", check: minMax, value: &model.String{Value: "x", Timestamp: ts}, want: StateUnknown, wantReason: "unsupported result type string"},
		{name: "empty check passes without samples", check: empty, value: model.Vector{}, want: StateOK},
		{name: "empty check passes on nil", check: empty, value: nil, want: StateOK},
		{name: "empty check blocks on any sample", check: empty, value: vec(0), want: StateBlocked, wantValue: 0, wantReason: "expected no samples, got 1"},
		{name: "empty check blocks on a scalar", check: empty, value: &model.Scalar{Value: 1, Timestamp: ts}, want: StateBlocked, wantValue: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := judgeCheck(tt.check, tt.value)
			if r.State != tt.want {
				t.Fatalf("state = %s, want %s (reason %q)", r.State, tt.want, r.Reason)
			}
			if r.Name != tt.check.Name || r.Expr != tt.check.Expr {
				t.Errorf("result does not name its check: %+v", r)
			}
			if tt.want != StateUnknown && float64(r.Value) != tt.wantValue {
				t.Errorf("value = %v, want %v", r.Value, tt.wantValue)
			}
			if tt.want != StateUnknown && r.Samples > 0 && r.Timestamp.IsZero() {
				t.Error("evidence has no timestamp")
			}
			if !strings.Contains(r.Reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", r.Reason, tt.wantReason)
			}
		})
	}
}
