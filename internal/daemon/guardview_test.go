package daemon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
)

func TestGuardState(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	one, tiny := 1.0, 0.05
	cfg := config.Guard{
		Alertmanager: &config.AlertmanagerGuard{URL: "http://user:secret@am:9093/", Block: []string{`severity="critical"`}},
		Prometheus:   &config.PrometheusGuard{URL: "https://user:secret@prom:9090?token=x"},
	}
	ev := &guard.Evaluation{Mode: guard.ModeStatus, State: guard.StateBlocked, At: at,
		Sources: map[string]guard.State{guard.SourceAlertmanager: guard.StateOK, guard.SourcePending: guard.StateBlocked,
			guard.SourceChecks: guard.StateUnknown},
		Alerts: []guard.AlertEvidence{{Source: guard.SourcePending, Name: "DemoUnhealthy", State: "pending", StartsAt: at,
			Labels: map[string]string{"alertname": "DemoUnhealthy", "severity": "critical", "job": "demo"}}},
		Checks: []guard.CheckResult{
			{Name: "healthy", Expr: "demo_healthy", Min: &one, State: guard.StateOK, Samples: 1, Value: 1,
				Metric: model.Metric{"job": "demo"}},
			{Name: "errors", Expr: "err_ratio", Max: &tiny, State: guard.StateUnknown, Reason: "no data"},
			{Name: "firing", Expr: "ALERTS > 0", Empty: true, State: guard.StateBlocked, Samples: 2, Value: 1},
			{Name: "band", Expr: "x", Min: &tiny, Max: &one, State: guard.StateOK, Samples: 1, Value: 0.123456},
		},
		Problems: []guard.Problem{{Source: guard.SourceChecks, Check: "errors", Message: "no data"},
			{Source: guard.SourcePending, Message: "boom"}},
	}
	t.Run("unguarded or no source shows nothing", func(t *testing.T) {
		if gs := guardState(ev, config.Guard{Unguarded: true}); gs != nil {
			t.Errorf("unguarded: %+v, want nil", gs)
		}
		if gs := guardState(ev, config.Guard{}); gs != nil {
			t.Errorf("no source: %+v, want nil", gs)
		}
	})
	t.Run("before the first evaluation the config still shows", func(t *testing.T) {
		gs := guardState(nil, cfg)
		if gs == nil || gs.State != "" || gs.Alertmanager == nil || len(gs.Alertmanager.Block) != 1 || gs.Prometheus == nil {
			t.Fatalf("got %+v", gs)
		}
	})
	gs := guardState(ev, cfg)
	tests := []struct{ name, got, want string }{
		{"state", gs.State, "blocked"},
		{"mode", gs.Mode, "status"},
		{"alertmanager url without credentials", gs.Alertmanager.URL, "http://am:9093"},
		{"prometheus url without credentials or query", gs.Prometheus.URL, "https://prom:9090"},
		{"alerts API view filtered like the guard", gs.Alertmanager.AlertsURL,
			"http://am:9093/api/v2/alerts?active=true&filter=severity%3D%22critical%22&inhibited=false&silenced=false"},
		{"a pending alert makes the alertmanager side blocked", gs.Alertmanager.State, "blocked"},
		{"alert labels sorted, without alertname", gs.Alertmanager.Alerts[0].Labels, `job="demo", severity="critical"`},
		{"checks state", gs.Prometheus.State, "unknown"},
		{"min bound", gs.Prometheus.Checks[0].Bound, "≥ 1"},
		{"value", gs.Prometheus.Checks[0].Value, "1"},
		{"series", gs.Prometheus.Checks[0].Series, `{job="demo"}`},
		{"max bound", gs.Prometheus.Checks[1].Bound, "≤ 0.05"},
		{"no data is no value, never 0", gs.Prometheus.Checks[1].Value, ""},
		{"empty bound", gs.Prometheus.Checks[2].Bound, "no samples"},
		{"empty value counts samples", gs.Prometheus.Checks[2].Value, "2 samples, first 1"},
		{"band bound", gs.Prometheus.Checks[3].Bound, "in [0.05, 1]"},
		{"value rounded to 4 digits", gs.Prometheus.Checks[3].Value, "0.1235"},
		{"query API view", gs.Prometheus.Checks[0].QueryURL, "https://prom:9090/api/v1/query?query=demo_healthy"},
		{"source problems only (a check's is in its row)", strings.Join(gs.Problems, "|"), "prometheus_pending: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestLastEvaluationKeepsNewest: a slow evaluation finishing after a newer
// one never replaces it.
func TestLastEvaluationKeepsNewest(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var l lastEvaluation
	l.store(guard.Evaluation{At: at.Add(time.Second), State: guard.StateOK})
	l.store(guard.Evaluation{At: at, State: guard.StateBlocked})
	if got := l.load(); got == nil || got.State != guard.StateOK {
		t.Fatalf("kept %+v, want the newer ok evaluation", got)
	}
}

// TestRefreshGuardView: the status shows the guard's answer once asked;
// it is asked again only when no evaluation is newer than guardViewEvery.
func TestRefreshGuardView(t *testing.T) {
	var asked atomic.Int32
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"labels":{"alertname":"DemoDown","severity":"critical"},"annotations":{},` +
			`"startsAt":"2026-11-25T11:59:00Z","endsAt":"2026-11-25T12:09:00Z","updatedAt":"2026-11-25T12:00:00Z",` +
			`"fingerprint":"f1","receivers":[{"name":"x"}],"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}}]`))
	}))
	defer am.Close()
	d, clk := testDaemon(t, "guard:\n  alertmanager: {url: \""+am.URL+"\", block: ['severity=\"critical\"']}\n"+inScopeExperiments, nil, nil, false)
	if g := d.status().Guard; g == nil || g.State != "" || g.Alertmanager == nil {
		t.Fatalf("before any evaluation: %+v, want the config without a state", g)
	}
	ctx := context.Background()
	d.refreshGuardView(ctx)
	g := d.status().Guard
	if g.State != "blocked" || len(g.Alertmanager.Alerts) != 1 || g.Alertmanager.Alerts[0].Name != "DemoDown" {
		t.Fatalf("after a refresh: %+v, want blocked by DemoDown", g)
	}
	clk.Step(guardViewEvery - time.Second)
	d.refreshGuardView(ctx)
	if n := asked.Load(); n != 1 {
		t.Errorf("asked Alertmanager %d times within %s, want 1", n, guardViewEvery)
	}
	clk.Step(time.Second)
	d.refreshGuardView(ctx)
	if n := asked.Load(); n != 2 {
		t.Errorf("asked Alertmanager %d times after %s, want 2", n, guardViewEvery)
	}
}
