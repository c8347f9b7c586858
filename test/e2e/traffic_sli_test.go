//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/notify"
)

// trafficSLIConfig judges the gRPC demo by its own error ratio with a
// tolerance of
// +0.05 over the baseline. The query is rendered with the picked
// VirtualService's name, which is also the demo's scrape job. BLOCK names the only alert that blocks and
// PERCENT the abort; short windows keep each run under a minute. The
// landing check reads the proxyless client's own metrics (it emits no
// istio_requests_total), so a passed run is one whose abort is proven to
// have reached requests.
const trafficSLIConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['alertname="BLOCK"']}
  prometheus: {url: PROMETHEUS_URL}
  pollInterval: 500ms
  sliBaseline: 20s
  sliStep: 1s
  slis:
    - name: demo-error-ratio
      query: '(sum(rate(grpc_client_handled_total{job="{{.name}}",grpc_service="chaosd.demo.Demo",grpc_code!="OK"}[5s])) or on() vector(0)) / sum(rate(grpc_client_handled_total{job="{{.name}}",grpc_service="chaosd.demo.Demo"}[5s]))'
      tolerance: {maxIncrease: 0.05}
experiments:
  - name: traffic-sli
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: app=grpc-demo, mode: one}
    action: {type: http-abort, status: 503, percent: PERCENT}
    duration: 20s
    observe: 3s
` + trafficLandingQueries + `notifications:
  alertmanager: {raiseOnAlertGap: true}
  webhook: {url: WEBHOOK_URL}
`

// TestTrafficSLIAlertGap proves SLI verdicts against real traffic: a
// tolerated 2% abort passes; a 50% abort that no blocking alert covers is
// an alert-gap (exit 6) with both series in the journal and
// ChaosAlertGapFound in Alertmanager and one webhook notification (the
// default notifies on alert gaps, not on passes); the same abort with the
// demo's error-ratio alert blocking is a weakness.
func TestTrafficSLIAlertGap(t *testing.T) {
	c, _ := trafficGuardStart(t)
	tests := []struct {
		name, block, percent string
		code                 int
		verdict              string
		sli                  guard.SLIState // "": a halted run, judged by its alert
		alert                string         // chaosd's own alert that must be active after the run
		notified             config.Event   // the webhook event the run must send; "": none
	}{
		{"a tolerated abort passes", "NeverFires", "2", 0, "passed", guard.SLIWithin, "", ""},
		{"an abort no alert covers is an alert gap", "NeverFires", "50", 6, "alert-gap", guard.SLIBeyond, guard.AlertGapAlertName, config.EventAlertGap},
		{"an abort the alert covers is a weakness", "GRPCDemoErrorRatioHigh", "50", 1, "weakness", "", "", config.EventWeakness},
	}
	hook := newReportingReceiver(t)
	for _, tt := range tests {
		ok := t.Run(tt.name, func(t *testing.T) {
			// The 50% abort fires the demo's alert even where the guard
			// does not block on it; a run starting while it is still
			// active would be skipped by preflight.
			eventually(t, 2*time.Minute, "GRPCDemoErrorRatioHigh inactive", func() bool { return !alertActive(t, c, "GRPCDemoErrorRatioHigh") }) // hang guard
			cfg := newConfigDir(t, withMonitoring(c, strings.NewReplacer("BLOCK", tt.block, "PERCENT", tt.percent,
				"WEBHOOK_URL", hook.URL+"/chaosd").Replace(trafficSLIConfig)))
			before := len(hook.Bodies())
			r := expOnce(t, c, cfg.Path, "traffic-sli")
			t.Logf("verdict %s: %s", r.Rec.Verdict, r.Rec.Reason)
			expWantVerdict(t, r, tt.code, tt.verdict)
			if tt.sli != "" {
				trafficSLIWantSeries(t, r, tt.sli)
			}
			if tt.alert != "" {
				eventually(t, 30*time.Second, tt.alert+" in Alertmanager", func() bool { return alertActive(t, c, tt.alert) }) // hang guard
			}
			// chaosd once flushes its notifications before it exits.
			trafficSLIWantNotified(t, hook.Bodies()[before:], r, tt.notified)
		})
		if !ok {
			break
		}
	}
	assertNothingLeft(t, c)
}

// trafficSLIWantNotified checks the webhook deliveries of one run: none
// when want is "", else exactly one, of that event, naming the run.
func trafficSLIWantNotified(t *testing.T, got []reportingDelivery, r expRun, want config.Event) {
	t.Helper()
	if want == "" {
		if len(got) != 0 {
			t.Errorf("%d webhook deliveries for a %s run, want none: %s", len(got), r.Rec.Verdict, got[0].Body)
		}
		return
	}
	if len(got) != 1 {
		t.Fatalf("%d webhook deliveries, want exactly one %s", len(got), want)
	}
	var p notify.WebhookPayload
	if err := json.Unmarshal([]byte(got[0].Body), &p); err != nil {
		t.Fatalf("webhook body: %v\n%s", err, got[0].Body)
	}
	if p.Event != want || p.Verdict != r.Rec.Verdict || p.RunID != r.Rec.RunID {
		t.Errorf("webhook event %q verdict %q run %q, want %q %q %q", p.Event, p.Verdict, p.RunID, want, r.Rec.Verdict, r.Rec.RunID)
	}
}

// trafficSLIWantSeries checks the journal's SLI result: its state, and
// both series with samples in them.
func trafficSLIWantSeries(t *testing.T, r expRun, want guard.SLIState) {
	t.Helper()
	if len(r.Rec.SLIs) != 1 {
		t.Fatalf("journal has %d SLI results, want 1", len(r.Rec.SLIs))
	}
	s := r.Rec.SLIs[0]
	t.Logf("SLI %s %s: %s (%d baseline, %d fault samples)", s.Name, s.State, s.Reason, len(s.Baseline), len(s.Fault))
	if s.State != want {
		t.Errorf("SLI state %s, want %s", s.State, want)
	}
	if len(s.Baseline) == 0 || len(s.Fault) == 0 {
		t.Errorf("journal lacks a series: %d baseline, %d fault samples", len(s.Baseline), len(s.Fault))
	}
}
