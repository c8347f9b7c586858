package guard

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// metricValue returns a gauge's or counter's value, or a histogram's sample
// count, for the series with the given label; -1 when absent.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabel(m, label, value) {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name && lp.GetValue() == value {
			return true
		}
	}
	return false
}

func TestEvaluateCombinesSources(t *testing.T) {
	ok := config.Check{Name: "ok", Expr: "ok_expr", Max: ptr(1.0)}
	noData := config.Check{Name: "nodata", Expr: "nodata_expr", Max: ptr(1.0)}
	tests := []struct {
		name    string
		amAlert bool
		checks  []config.Check
		amFails bool
		want    State
	}{
		{name: "all healthy", checks: []config.Check{ok}, want: StateOK},
		{name: "a check without data makes it unknown", checks: []config.Check{ok, noData}, want: StateUnknown},
		{name: "alertmanager down makes it unknown", checks: []config.Check{ok}, amFails: true, want: StateUnknown},
		{name: "an alert outranks an unknown check", amAlert: true, checks: []config.Check{ok, noData}, want: StateBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts := []any{}
			if tt.amAlert {
				alerts = append(alerts, active(map[string]string{"alertname": "Down"}))
			}
			amAnswer := jsonAnswer(mustJSON(t, alerts))
			if tt.amFails {
				amAnswer = canned{status: http.StatusInternalServerError, body: `"down"`}
			}
			srv := newFakeServer(t, map[string]canned{
				"/api/v2/alerts":    amAnswer,
				"query:ok_expr":     promVector(`[{"metric":{},"value":[1700000000,"0"]}]`),
				"query:nodata_expr": promVector(`[]`),
			})
			cfg := guardConfig(&config.AlertmanagerGuard{URL: srv.URL}, &config.PrometheusGuard{URL: srv.URL, Checks: tt.checks})
			g, err := New(cfg, Options{Clock: clocktesting.NewFakeClock(t0)})
			if err != nil {
				t.Fatal(err)
			}

			ev := g.Preflight(context.Background())

			if ev.State != tt.want {
				t.Fatalf("state = %s, want %s: %s", ev.State, tt.want, ev.Summary())
			}
			if len(ev.Checks) != len(tt.checks) {
				t.Errorf("checks = %d, want every check recorded (%d)", len(ev.Checks), len(tt.checks))
			}
			for i, c := range ev.Checks {
				if c.Name != tt.checks[i].Name {
					t.Errorf("check %d = %s, want configuration order", i, c.Name)
				}
			}
			if ev.Mode != ModePreflight || !ev.At.Equal(t0) {
				t.Errorf("mode %s at %s, want preflight at %s", ev.Mode, ev.At, t0)
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Errorf("evaluation does not marshal for the journal: %v", err)
			}
		})
	}
}

func TestEvaluateNothingConfigured(t *testing.T) {
	g, err := New(guardConfig(nil, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := g.Preflight(context.Background()); ev.State != StateOK || len(ev.Sources) != 0 {
		t.Errorf("evaluation = %+v, want ok without sources", ev)
	}
}

func TestEvaluateChecksConcurrently(t *testing.T) {
	// Each query is answered only once all three are in flight at the same
	// time, so checks run one after another never get an answer and time out.
	// The 10s check timeout is a hang guard only, never reached when the
	// checks run concurrently.
	var checks []config.Check
	for _, n := range []string{"a", "b", "c"} {
		checks = append(checks, config.Check{Name: n, Expr: n, Min: ptr(0.0)})
	}
	var (
		mu       sync.Mutex
		inflight int
		allIn    = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		if inflight++; inflight == len(checks) {
			close(allIn)
		}
		mu.Unlock()
		select {
		case <-allIn:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}`)
	}))
	defer srv.Close()
	g := newPromGuard(t, srv.URL, checks, false, 10*time.Second)

	ev := g.Poll(context.Background())
	if ev.State != StateOK || len(ev.Problems) != 0 {
		t.Errorf("state %s with problems %v, want ok: the checks did not run concurrently", ev.State, ev.Problems)
	}
}

func TestGuardMetrics(t *testing.T) {
	srv := newFakeServer(t, map[string]canned{
		"/api/v2/alerts": {status: http.StatusInternalServerError, body: `"down"`},
		"query:up":       promVector(`[{"metric":{},"value":[1700000000,"1"]}]`),
	})
	cfg := guardConfig(&config.AlertmanagerGuard{URL: srv.URL}, &config.PrometheusGuard{URL: srv.URL, Checks: []config.Check{{Name: "up", Expr: "up", Min: ptr(1.0)}}})
	reg := prometheus.NewPedanticRegistry()
	g, err := New(cfg, Options{Registerer: reg, Clock: clocktesting.NewFakeClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	g.Poll(context.Background())
	g.Poll(context.Background())

	tests := []struct {
		name, metric, label, value string
		want                       float64
	}{
		{name: "alertmanager unknown", metric: "chaosd_guard_state", label: "source", value: SourceAlertmanager, want: 2},
		{name: "checks ok", metric: "chaosd_guard_state", label: "source", value: SourceChecks, want: 0},
		{name: "errors counted per call", metric: "chaosd_guard_errors_total", label: "source", value: SourceAlertmanager, want: 2},
		{name: "durations observed", metric: "chaosd_guard_evaluation_duration_seconds", label: "mode", value: "poll", want: 2},
		{name: "evaluations counted", metric: "chaosd_guard_evaluations_total", label: "state", value: "unknown", want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metricValue(t, reg, tt.metric, tt.label, tt.value); got != tt.want {
				t.Errorf("%s{%s=%q} = %v, want %v", tt.metric, tt.label, tt.value, got, tt.want)
			}
		})
	}
	t.Run("a rebuilt guard reuses the registered metrics", func(t *testing.T) {
		g2, err := New(cfg, Options{Registerer: reg, Clock: clocktesting.NewFakeClock(t0)})
		if err != nil {
			t.Fatalf("second New on the same registry: %v", err)
		}
		g2.Poll(context.Background())
		if got := metricValue(t, reg, "chaosd_guard_errors_total", "source", SourceAlertmanager); got != 3 {
			t.Errorf("errors = %v, want 3", got)
		}
	})
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Guard
	}{
		{name: "zero timeout", cfg: func() config.Guard { c := guardConfig(nil, nil); c.Timeout = 0; return c }()},
		{name: "bad matcher", cfg: guardConfig(&config.AlertmanagerGuard{URL: "http://am:9093", Block: []string{`severity=~"(`}}, nil)},
		{name: "bad alertmanager url", cfg: guardConfig(&config.AlertmanagerGuard{URL: "am:9093"}, nil)},
		{name: "bad prometheus url", cfg: guardConfig(nil, &config.PrometheusGuard{URL: "http://[::1"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, Options{}); err == nil {
				t.Error("New accepted a bad config")
			}
		})
	}
}

func TestPreflightCancelledContext(t *testing.T) {
	srv := newFakeServer(t, map[string]canned{"/api/v2/alerts": jsonAnswer(`[]`)})
	reg := prometheus.NewPedanticRegistry()
	g, err := New(guardConfig(&config.AlertmanagerGuard{URL: srv.URL}, nil), Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ev := g.Preflight(ctx); ev.State != StateUnknown {
		t.Errorf("state = %s, want unknown when the caller gave up", ev.State)
	}
	if got := metricValue(t, reg, "chaosd_guard_errors_total", "source", SourceAlertmanager); got != -1 {
		t.Errorf("errors = %v, want none counted for the caller's own cancellation", got)
	}
}
