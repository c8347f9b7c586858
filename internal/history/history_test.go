package history

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/journal"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// fakeProm answers range queries by expression and records the ranges;
// Panels asks concurrently.
type fakeProm struct {
	answers map[string]model.Value
	errs    map[string]error
	mu      sync.Mutex
	ranges  map[string]promv1.Range
}

func (f *fakeProm) QueryRange(_ context.Context, q string, r promv1.Range, _ ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ranges[q] = r
	return f.answers[q], nil, nil, f.errs[q]
}

func TestPanels(t *testing.T) {
	one := 1.0
	queries := QueriesFromGuard(config.Guard{Prometheus: &config.PrometheusGuard{Checks: []config.Check{
		{Name: "healthy", Expr: "up", Min: &one}, {Name: "down", Expr: "broken"}, {Name: "none", Expr: "absent_series"},
		{Name: "instant", Expr: "vector(1)"},
	}}})
	prom := &fakeProm{
		answers: map[string]model.Value{
			"up": model.Matrix{{Metric: model.Metric{"job": "b"}, Values: []model.SamplePair{{Timestamp: model.TimeFromUnixNano(t0.UnixNano()), Value: 1}}},
				{Metric: model.Metric{"job": "a"}, Values: []model.SamplePair{{Timestamp: model.TimeFromUnixNano(t0.UnixNano()), Value: 0}}}},
			"absent_series": model.Matrix{},
			"vector(1)":     model.Vector{},
		},
		errs:   map[string]error{"broken": errors.New("bad_data: parse error")},
		ranges: map[string]promv1.Range{},
	}
	s := &Source{API: prom, Queries: queries}
	ps := s.Panels(context.Background(), t0.Add(-time.Hour), t0)
	tests := []struct{ name, got, want string }{
		{"title", ps[0].Title, "check healthy"},
		{"series sorted by labels", ps[0].Series[0].Name, `{job="a"}`},
		{"no note with data", ps[0].NoData, ""},
		{"a failed query says so", ps[1].NoData, "query failed: bad_data: parse error"},
		{"an empty answer is no data", ps[2].NoData, "no data"},
		{"not a range", ps[3].NoData, "query returned a vector, not a range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if len(ps[0].Bounds) != 1 || ps[0].Bounds[0] != 1 {
		t.Errorf("bounds %v, want the check's min", ps[0].Bounds)
	}
	if r := prom.ranges["up"]; r.Step != 15*time.Second || !r.End.Equal(t0) {
		t.Errorf("range %+v, want a 15s step for an hour ending at t0", r)
	}
}

func TestEvents(t *testing.T) {
	now := t0
	reverted := t0.Add(-50 * time.Minute)
	recs := []journal.Record{
		{RunID: "r1", Experiment: "abort", Verdict: journal.VerdictWeakness, FinishedAt: t0.Add(-49 * time.Minute),
			Injections: []journal.Injection{{Target: "vs/a", Action: "http-abort", InjectedAt: t0.Add(-55 * time.Minute), RevertedAt: &reverted}},
			Timeline:   []journal.TimelineEntry{{At: t0.Add(-50 * time.Minute), Phase: journal.PhaseHalt, Message: "alert DemoDown"}}},
		{RunID: "r2", Experiment: "kill", Verdict: journal.VerdictPassed, FinishedAt: t0.Add(-30 * time.Minute),
			Injections: []journal.Injection{{Target: "pod/a", Action: "pod-kill", InjectedAt: t0.Add(-31 * time.Minute), NothingToRevert: true}}},
		{RunID: "r3", Experiment: "skip", Verdict: journal.VerdictSkipped, FinishedAt: t0.Add(-20 * time.Minute)},
		{RunID: "r4", Experiment: "abort", Injections: []journal.Injection{{Target: "vs/b", InjectedAt: t0.Add(-time.Minute)}}},
	}
	active := []control.ActiveFault{{RunID: "r4", Target: "vs/b", Since: t0.Add(-time.Minute)},
		{RunID: "r5", Experiment: "delay", Action: "http-delay", Target: "vs/c", Since: t0.Add(-10 * time.Second)}}
	ws, ms := Events(recs, active, now)
	want := []struct{ from, to time.Time }{
		{t0.Add(-55 * time.Minute), reverted},                  // reverted
		{t0.Add(-31 * time.Minute), t0.Add(-31 * time.Minute)}, // a kill is an instant
		{t0.Add(-time.Minute), now},                            // still held: until now
		{t0.Add(-10 * time.Second), now},                       // held, no record yet
	}
	if len(ws) != len(want) {
		t.Fatalf("windows %+v, want %d", ws, len(want))
	}
	for i, w := range want {
		if !ws[i].From.Equal(w.from) || !ws[i].To.Equal(w.to) {
			t.Errorf("window %d: %s..%s, want %s..%s", i, ws[i].From, ws[i].To, w.from, w.to)
		}
	}
	if !strings.HasSuffix(ws[2].Label, ", held now)") || !strings.HasSuffix(ws[3].Label, ", held now)") || strings.Contains(ws[0].Label, "held now") {
		t.Errorf("labels %q, %q, %q: want only the faults held now to say so", ws[0].Label, ws[2].Label, ws[3].Label)
	}
	var kinds []string
	for _, m := range ms {
		kinds = append(kinds, m.Kind)
	}
	if got := strings.Join(kinds, ","); got != "halt,weakness,passed" {
		t.Errorf("marks %s, want halt,weakness,passed (no mark for a skipped or unfinished run)", got)
	}
}
