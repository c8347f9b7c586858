package runner

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

const sliDoc = `guard:
  prometheus: {url: http://prom:9090}
  pollInterval: 1s
  cooldown: 5m
  sliStep: 5s
  sliBaseline: 1m
  slis:
    - name: error-ratio
      query: 'errors{host="{{.host}}"}'
      tolerance: {maxIncrease: 0.05}
experiments:
  - name: abort
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8]}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 60s
    observe: 10s
`

// fakeSLIs plays Prometheus' range API: an error ratio of about 0.01
// (seeded noise per timestamp), and faultValue from the first injection
// for the experiment's duration. It records whether a query came before
// anything was injected.
type fakeSLIs struct {
	mu         sync.Mutex
	engine     *fakeEngine
	faultValue float64
	err        error
	injectedAt time.Time
	queries    []string
	before     []bool // per query: nothing injected yet
}

func (f *fakeSLIs) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	f.engine.mu.Lock()
	injected := len(f.engine.injected) > 0
	f.engine.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries, f.before = append(f.queries, q), append(f.before, !injected)
	if f.err != nil {
		return nil, f.err
	}
	s := &model.SampleStream{}
	for t := start; !t.After(end); t = t.Add(step) {
		rng := rand.New(rand.NewPCG(uint64(t.Unix()), 3))
		v := 0.01 + 0.002*rng.NormFloat64()
		if !f.injectedAt.IsZero() && !t.Before(f.injectedAt) && t.Before(f.injectedAt.Add(60*time.Second)) {
			v = f.faultValue + 0.002*rng.NormFloat64()
		}
		s.Values = append(s.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(t.UnixNano()), Value: model.SampleValue(v)})
	}
	return model.Matrix{s}, nil
}

func TestRunJudgesSLIs(t *testing.T) {
	tests := []struct {
		name       string
		faultValue float64
		queryErr   error
		okPolls    int
		pauseOnGap bool
		want       guard.Verdict
		wantPaused bool
		wantEvent  string
	}{
		{name: "SLI steady passes", faultValue: 0.01, okPolls: -1, want: guard.Passed, wantEvent: "finished:passed"},
		{name: "SLI beyond tolerance, no alert: alert gap", faultValue: 0.3, okPolls: -1, want: guard.AlertGap, wantEvent: "finished:alert-gap"},
		{name: "alert gap pauses when configured", faultValue: 0.3, okPolls: -1, pauseOnGap: true, want: guard.AlertGap, wantPaused: true, wantEvent: "finished:alert-gap"},
		{name: "SLI beyond tolerance and an alert: weakness", faultValue: 0.3, okPolls: 20, want: guard.Weakness, wantPaused: true, wantEvent: "finished:weakness"},
		{name: "no SLI data: no effect, never passed", queryErr: errors.New("prometheus down"), okPolls: -1, want: guard.NoEffect, wantEvent: "finished:no-effect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cfg, err := config.Parse("test.yaml", []byte(sliDoc))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Guard.PauseOnAlertGap = tt.pauseOnGap
			f.cfg = cfg
			f.guard.okPolls = tt.okPolls
			slis := &fakeSLIs{engine: f.engine, faultValue: tt.faultValue, err: tt.queryErr}
			f.engine.onInject = func() {
				slis.mu.Lock()
				slis.injectedAt = f.clock.Now()
				slis.mu.Unlock()
			}
			target := vs
			target.Host = "go-demo-8.go-demo-8.svc.cluster.local"
			f.picker.res.Targets[0] = target
			r := New(Options{Guard: f.guard, Picker: f.picker, Engine: f.engine, Journal: f.journal, Notifier: f.notify,
				Pause: f.pause, Metrics: f.metrics, Clock: f.clock, Seeds: func() uint64 { return 42 }, SLIs: slis})
			done := make(chan journal.Record, 1)
			go func() { done <- r.RunNow(context.Background(), f.cfg, f.cfg.Experiments[0]) }()
			rec := await(t, f.clock, done)

			if rec.Verdict != tt.want {
				t.Fatalf("verdict %s (%s), want %s", rec.Verdict, rec.Reason, tt.want)
			}
			switch {
			case tt.queryErr != nil && (len(slis.queries) != 1 || !slis.before[0]):
				t.Fatalf("a failed baseline is no data, with nothing to compare later: before=%v", slis.before)
			case tt.queryErr == nil && (len(slis.queries) != 2 || !slis.before[0] || slis.before[1]):
				t.Fatalf("want one baseline query before the injection and one after: before=%v", slis.before)
			}
			if want := `errors{host="go-demo-8.go-demo-8.svc.cluster.local"}`; slis.queries[0] != want {
				t.Errorf("query %q, want %q", slis.queries[0], want)
			}
			if len(rec.SLIs) != 1 {
				t.Fatalf("journal has %d SLI results", len(rec.SLIs))
			}
			if w := rec.SLIs[0].Worse; w != journal.WorseHigher { // maxIncrease: higher is worse; the score reads it
				t.Errorf("journal says the SLI gets worse %q, want %q", w, journal.WorseHigher)
			}
			minFault := 8 // 60s held at a 5s step, unless a halt cut it short
			if tt.okPolls >= 0 {
				minFault = 1
			}
			if got := rec.SLIs[0]; tt.queryErr == nil && (len(got.Baseline) < 8 || len(got.Fault) < minFault || got.Held == nil) {
				t.Errorf("journal lacks the series: %d baseline, %d fault samples, held %v", len(got.Baseline), len(got.Fault), got.Held)
			}
			if tt.want == guard.AlertGap && !strings.Contains(rec.Reason, "SLI error-ratio") {
				t.Errorf("reason %q does not name the SLI", rec.Reason)
			}
			if paused, _, _ := f.pause.Paused(f.clock.Now()); paused != tt.wantPaused {
				t.Errorf("paused = %v, want %v", paused, tt.wantPaused)
			}
			if ev := f.notify.events[len(f.notify.events)-1]; ev != tt.wantEvent {
				t.Errorf("last event %q, want %q", ev, tt.wantEvent)
			}
			gaps := testutil.ToFloat64(f.metrics.alertGaps.WithLabelValues("abort"))
			if wantGaps := map[bool]float64{true: 1}[tt.want == guard.AlertGap]; gaps != wantGaps {
				t.Errorf("chaosd_alert_gaps_total = %v, want %v", gaps, wantGaps)
			}
		})
	}
}

// TestSLIVars: the identity an SLI query is templated with; a
// VirtualService's host is spelled as Istio's destination_service label
// spells it, as the landing queries do.
func TestSLIVars(t *testing.T) {
	tests := []struct {
		name   string
		target targets.Target
		want   config.SLIVars
	}{
		{name: "virtualservice with a short host", target: targets.Target{Kind: config.TargetVirtualService, Namespace: "go-demo-8", Name: "go-demo-8", Host: "go-demo-8"},
			want: config.SLIVars{Kind: "virtualservice", Namespace: "go-demo-8", Name: "go-demo-8", Workload: "go-demo-8", Host: "go-demo-8.go-demo-8.svc.cluster.local"}},
		{name: "virtualservice with a full host", target: targets.Target{Kind: config.TargetVirtualService, Namespace: "shop", Name: "cart", Host: "cart.shop.svc.cluster.local"},
			want: config.SLIVars{Kind: "virtualservice", Namespace: "shop", Name: "cart", Workload: "cart", Host: "cart.shop.svc.cluster.local"}},
		{name: "pod of a workload", target: targets.Target{Kind: config.TargetPod, Namespace: "shop", Name: "cart-7d9f-abcde", Owner: "ReplicaSet/cart-7d9f"},
			want: config.SLIVars{Kind: "pod", Namespace: "shop", Name: "cart-7d9f-abcde", Workload: "cart-7d9f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sliVars(tt.target); got != tt.want {
				t.Errorf("sliVars() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
