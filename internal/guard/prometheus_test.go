package guard

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

func newPromGuard(t *testing.T, url string, checks []config.Check, blockPending bool, timeout time.Duration) *Guard {
	t.Helper()
	cfg := guardConfig(nil, &config.PrometheusGuard{URL: url, Checks: checks, BlockPending: blockPending})
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	g, err := New(cfg, Options{Clock: clocktesting.NewFakeClock(t0)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func TestPrometheusChecks(t *testing.T) {
	check := config.Check{Name: "success-rate", Expr: `sum(rate(ok[1m])) / sum(rate(all[1m]))`, Min: ptr(0.95)}
	tests := []struct {
		name       string
		answer     canned
		timeout    time.Duration
		want       State
		wantValue  string
		wantReason string
	}{
		{
			name:      "vector in bounds",
			answer:    promVector(`[{"metric":{},"value":[1700000000.0,"0.98"]}]`),
			want:      StateOK,
			wantValue: "0.98",
		},
		{
			name:       "vector out of bounds",
			answer:     promVector(`[{"metric":{"service":"cart"},"value":[1700000000.0,"0.5"]}]`),
			want:       StateBlocked,
			wantValue:  "0.5",
			wantReason: `{service="cart"} = 0.5 outside [0.95, +Inf]`,
		},
		{
			name:      "scalar",
			answer:    jsonAnswer(promSuccess(`{"resultType":"scalar","result":[1700000000,"0.99"]}`)),
			want:      StateOK,
			wantValue: "0.99",
		},
		{
			name:      "matrix",
			answer:    jsonAnswer(promSuccess(`{"resultType":"matrix","result":[{"metric":{"service":"cart"},"values":[[1699999970,"0.99"],[1700000000,"0.2"]]}]}`)),
			want:      StateBlocked,
			wantValue: "0.2",
		},
		{name: "no data", answer: promVector(`[]`), want: StateUnknown, wantReason: "no data"},
		{name: "NaN", answer: promVector(`[{"metric":{},"value":[1700000000,"NaN"]}]`), want: StateUnknown, wantReason: "NaN"},
		{
			name:       "bad query",
			answer:     canned{status: http.StatusBadRequest, body: `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}`},
			want:       StateUnknown,
			wantReason: "parse error",
		},
		{name: "server error", answer: canned{status: http.StatusInternalServerError, contentType: "text/plain", body: "oops"}, want: StateUnknown, wantReason: "500"},
		{name: "malformed json", answer: jsonAnswer(`{"status":"success","data":{"resultType":"vector","result":[{`), want: StateUnknown, wantReason: "query"},
		{name: "slow server", answer: canned{hang: true}, timeout: 100 * time.Millisecond, want: StateUnknown, wantReason: "timed out after 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, map[string]canned{"query:" + check.Expr: tt.answer})
			g := newPromGuard(t, srv.URL, []config.Check{check}, false, tt.timeout)

			start := time.Now()
			ev := g.Poll(context.Background())
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("evaluation took %s, not bounded by the timeout", elapsed)
			}

			if ev.State != tt.want || ev.Sources[SourceChecks] != tt.want {
				t.Fatalf("state = %s (source %s), want %s: %s", ev.State, ev.Sources[SourceChecks], tt.want, ev.Summary())
			}
			if len(ev.Checks) != 1 {
				t.Fatalf("checks = %+v", ev.Checks)
			}
			c := ev.Checks[0]
			if c.Name != check.Name || c.Expr != check.Expr || c.Min == nil || *c.Min != 0.95 {
				t.Errorf("result does not describe the check: %+v", c)
			}
			if tt.wantValue != "" {
				if c.Value.String() != tt.wantValue || c.Timestamp.IsZero() {
					t.Errorf("value = %s at %s, want %s with a timestamp", c.Value, c.Timestamp, tt.wantValue)
				}
			}
			if !strings.Contains(c.Reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", c.Reason, tt.wantReason)
			}
			if tt.want == StateUnknown && (len(ev.Problems) != 1 || ev.Problems[0].Check != check.Name) {
				t.Errorf("problems = %+v, want one naming the check", ev.Problems)
			}
		})
	}
}

func TestPrometheusCheckRequest(t *testing.T) {
	check := config.Check{Name: "up", Expr: `min(up{job="shop"})`, Min: ptr(1.0)}
	srv := newFakeServer(t, map[string]canned{"query:" + check.Expr: promVector(`[{"metric":{},"value":[1700000000,"1"]}]`)})
	newPromGuard(t, srv.URL, []config.Check{check}, false, 0).Poll(context.Background())

	q := srv.lastRequest()
	t.Run("lets Prometheus pick the evaluation time", func(t *testing.T) {
		if q.Has("time") {
			t.Errorf("time = %q, want none", q.Get("time"))
		}
	})
	t.Run("passes the guard timeout to Prometheus", func(t *testing.T) {
		if q.Get("timeout") != "2s" {
			t.Errorf("timeout = %q, want 2s", q.Get("timeout"))
		}
	})
}

func TestPrometheusPending(t *testing.T) {
	const alerts = `{"alerts":[
		{"labels":{"alertname":"LatencyCreeping","severity":"warning"},"annotations":{"summary":"p99 up"},"state":"pending","activeAt":"2023-11-14T22:12:00.5Z","value":"4.2e-01"},
		{"labels":{"alertname":"AlreadyFiring","severity":"critical"},"annotations":{},"state":"firing","activeAt":"2023-11-14T22:00:00Z","value":"1e+00"},
		{"labels":{"alertname":"ChaosWeaknessFound","severity":"warning"},"annotations":{},"state":"pending","activeAt":"2023-11-14T22:12:00Z","value":"1e+00"}
	]}`
	tests := []struct {
		name         string
		blockPending bool
		mode         Mode
		answer       canned
		want         State
		wantAsked    bool
	}{
		{name: "preflight blocks on pending", blockPending: true, mode: ModePreflight, answer: jsonAnswer(promSuccess(alerts)), want: StateBlocked, wantAsked: true},
		{name: "poll never asks for pending", blockPending: true, mode: ModePoll, answer: jsonAnswer(promSuccess(alerts)), want: StateOK},
		{name: "blockPending off", blockPending: false, mode: ModePreflight, answer: jsonAnswer(promSuccess(alerts)), want: StateOK},
		{name: "only firing alerts", blockPending: true, mode: ModePreflight, answer: jsonAnswer(promSuccess(`{"alerts":[]}`)), want: StateOK, wantAsked: true},
		{name: "alerts endpoint fails", blockPending: true, mode: ModePreflight, answer: canned{status: http.StatusServiceUnavailable, contentType: "text/plain", body: "down"}, want: StateUnknown, wantAsked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, map[string]canned{"/api/v1/alerts": tt.answer})
			g := newPromGuard(t, srv.URL, nil, tt.blockPending, 0)

			ev := g.Evaluate(context.Background(), tt.mode)

			if ev.State != tt.want {
				t.Fatalf("state = %s, want %s: %s", ev.State, tt.want, ev.Summary())
			}
			if _, asked := ev.Sources[SourcePending]; asked != tt.wantAsked {
				t.Errorf("pending asked = %v, want %v", asked, tt.wantAsked)
			}
			if tt.want != StateBlocked {
				return
			}
			if len(ev.Alerts) != 1 {
				t.Fatalf("alerts = %+v, want only LatencyCreeping", ev.Alerts)
			}
			a := ev.Alerts[0]
			if a.Name != "LatencyCreeping" || a.State != "pending" || a.Source != SourcePending || a.Fingerprint == "" ||
				!a.StartsAt.Equal(time.Date(2023, 11, 14, 22, 12, 0, 5e8, time.UTC)) {
				t.Errorf("evidence = %+v", a)
			}
		})
	}
}
