//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/test/cluster"
	"github.com/chaosd/chaosd/test/traffic"
)

// trafficGuardMildConfig is judged by Alertmanager alone, blocking on the
// demo's error-ratio alert only (the latency alert could fire on a busy
// machine), so a verdict can only come from real request failures. A 10%
// abort stays well under the alert's 25%.
const trafficGuardMildConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['alertname="GRPCDemoErrorRatioHigh"']}
  pollInterval: 500ms
experiments:
  - name: traffic-mild
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: app=grpc-demo, mode: one}
    action: {type: http-abort, status: 503, percent: 10}
    duration: 10s
    observe: 3s
`

// trafficGuardHeavyConfig holds a 100% abort for a minute: any revert
// before that is the guard's doing. COOLDOWN is replaced per test.
const trafficGuardHeavyConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['alertname="GRPCDemoErrorRatioHigh"']}
  pollInterval: 500ms
  cooldown: COOLDOWN
experiments:
  - name: traffic-heavy
    schedule: "@every 2s"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: app=grpc-demo, mode: one}
    action: {type: http-abort, status: 503, percent: 100}
    duration: 60s
    observe: 1s
`

// trafficSteadyLoad is the background load of the guard tests: 100/s, at
// most 15 minutes and 90,000 requests.
var trafficSteadyLoad = traffic.Load{Rate: 100, Requests: 90000, Duration: 15 * time.Minute, Timeout: 5 * time.Second, InFlight: 200}

// trafficGuardStart starts a cluster with real traffic and the demo's alert
// rules, keeps the steady load running for the test, and waits until
// Prometheus computes the error ratio.
func trafficGuardStart(t *testing.T) (*cluster.Cluster, *traffic.Recorder) {
	t.Helper()
	trafficSkipExisting(t)
	opts := trafficOptions()
	opts.Prometheus.Rules = cluster.TrafficAlertRules
	c := expStart(t, opts)
	rec, stop := c.Traffic.StartLoad(trafficSteadyLoad)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	eventually(t, time.Minute, "Prometheus to compute the demo's error ratio", func() bool { return promHasData(t, c, cluster.TrafficErrorRatio) })
	return c, rec
}

// TestTrafficGuard proves a run judged only by the demo's real error-ratio
// alert: a mild abort, which Prometheus sees in the ratio but which stays
// under the alert's threshold, passes; a 100% abort fires the alert, and
// chaosd halts, reverts (the VirtualService byte for byte, the requests
// succeeding again), records a weakness with the alert as evidence, and
// pauses for its cooldown.
func TestTrafficGuard(t *testing.T) {
	c, rec := trafficGuardStart(t)
	before := expGetVS(t, c, cluster.TrafficNamespace, cluster.TrafficName)

	t.Run("a mild abort passes", func(t *testing.T) {
		cfg := newConfigDir(t, withMonitoring(c, trafficGuardMildConfig))
		r := expOnce(t, c, cfg.Path, "traffic-mild")
		expWantVerdict(t, r, 0, "passed")
		injected, reverted := r.Rec.Injections[0].InjectedAt, *r.Rec.Injections[0].RevertedAt
		// Progress, not a pause: the client saw the fault, and Prometheus
		// computed a non-zero error ratio from it, yet never fired.
		during := rec.Outcomes().StartedIn(injected, reverted)
		t.Logf("MEASURED %d of %d requests failed during the mild abort", len(during.Where(traffic.Failed)), len(during))
		if len(during.Where(traffic.Failed)) == 0 {
			t.Fatal("no request failed during the mild abort: nothing for the alert to judge")
		}
		window := fmt.Sprintf("[%ds:1s]", int(time.Since(injected).Seconds())+2)
		peak := trafficQueryOne(t, c, "max_over_time(("+cluster.TrafficErrorRatio+")"+window+")")
		t.Logf("MEASURED peak error ratio in Prometheus during the mild abort: %.3f", peak)
		if peak <= 0 {
			t.Fatalf("Prometheus never saw an error during the mild abort (peak ratio %v)", peak)
		}
		firing, err := reportingQuery(c, `max_over_time(ALERTS{alertname="GRPCDemoErrorRatioHigh",alertstate="firing"}`+strings.TrimSuffix(window, ":1s]")+`])`, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(firing) > 0 || alertActive(t, c, "GRPCDemoErrorRatioHigh") {
			t.Fatalf("GRPCDemoErrorRatioHigh fired during a mild abort: %v", firing)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("a heavy abort fires the alert, which halts, reverts and pauses", func(t *testing.T) {
		cfg := newConfigDir(t, withMonitoring(c, strings.Replace(trafficGuardHeavyConfig, "COOLDOWN", "10m", 1)))
		p := startChaosd(t, c, cfg.Path)
		run := guardWaitRun(t, p, 2*time.Minute, "the heavy abort's run", func(guardRun) bool { return true }) // hang guard
		t.Logf("run %s: %s (%s)", run.RunID, run.Verdict, run.Reason)
		if run.Verdict != "weakness" || !strings.HasPrefix(run.Reason, "halted:") || !strings.Contains(run.Reason, "GRPCDemoErrorRatioHigh") {
			t.Fatalf("verdict %q (%s), want weakness halted by GRPCDemoErrorRatioHigh", run.Verdict, run.Reason)
		}
		if !run.hasEvidence("alertmanager", "GRPCDemoErrorRatioHigh", map[string]string{"severity": "critical"}) {
			t.Errorf("evidence lacks the GRPCDemoErrorRatioHigh alert: %+v", run.Evidence)
		}
		if len(run.Injections) != 1 || run.Injections[0].RevertedAt == nil {
			t.Fatalf("want one reverted injection, got %+v", run.Injections)
		}
		inj := run.Injections[0]
		held := inj.RevertedAt.Sub(inj.InjectedAt)
		t.Logf("FIGURE traffic-guard: injection → revert %s (the fault's duration is 60s)", held.Round(time.Millisecond))
		if held >= time.Minute {
			t.Fatalf("the fault was held %s, its full duration: it was not halted", held)
		}
		if !run.hasPhase("halt") {
			t.Errorf("timeline has no halt: %+v", run.Timeline)
		}
		eventually(t, 10*time.Second, "status paused for the cooldown", func() bool {
			st := p.Status(t)
			return st.State == "paused" && slices.ContainsFunc(st.PauseReasons, func(r string) bool { return strings.Contains(r, "weakness found by traffic-heavy") })
		})
		// The requests recover once the revert reaches the client.
		trafficWaitFor(t, rec, time.Minute, "200 successful requests after the revert's last failure", func(outs traffic.Outcomes) (traffic.Outcome, bool) {
			last, ok := outs.Last(traffic.Failed)
			return last, ok && len(outs.StartedIn(last.Start, time.Time{}).Where(traffic.Failed)) == 0 && len(outs.StartedIn(last.Start, time.Time{})) >= 200
		})
		if after := expGetVS(t, c, cluster.TrafficNamespace, cluster.TrafficName); !bytes.Equal(after.Spec, before.Spec) {
			t.Fatalf("spec after the revert differs from before:\nbefore %s\nafter  %s", before.Spec, after.Spec)
		}
		assertNothingLeft(t, c)
		p.Stop(30 * time.Second)
	})
}

// TestTrafficGuardHaltLatency measures, over trafficGuardHalts runs, how
// long a 100% abort is held before the demo's error-ratio alert makes
// chaosd revert it (journal injectedAt → revertedAt). cooldown 0s keeps
// chaosd running; a run that starts while the alert is still active is
// skipped, so runs come as fast as the alert resolves. It asserts only that
// every run was halted as a weakness; the figures go to the log
// (docs/benchmarks.md).
func TestTrafficGuardHaltLatency(t *testing.T) {
	// 5 in make test; docs/benchmarks.md's figure is CHAOSD_E2E_HALTS=10.
	trafficGuardHalts := e2eEnvInt("CHAOSD_E2E_HALTS", 5)
	c, _ := trafficGuardStart(t)
	cfg := newConfigDir(t, withMonitoring(c, strings.Replace(trafficGuardHeavyConfig, "COOLDOWN", "0s", 1)))
	p := startChaosd(t, c, cfg.Path)
	var held []time.Duration
	eventually(t, 15*time.Minute, fmt.Sprintf("%d halted runs", trafficGuardHalts), func() bool { // hang guard
		held = held[:0]
		for _, r := range guardRuns(t, p, 200) {
			if len(r.Injections) == 0 {
				continue // skipped while the alert was still active
			}
			if r.Verdict != "weakness" || r.Injections[0].RevertedAt == nil {
				t.Fatalf("run %s: %s (%s), want a halted weakness", r.RunID, r.Verdict, r.Reason)
			}
			held = append(held, r.Injections[0].RevertedAt.Sub(r.Injections[0].InjectedAt))
		}
		return len(held) >= trafficGuardHalts
	})
	p.Stop(30 * time.Second)
	t.Logf("FIGURE traffic-guard-halt: injection → revert over %d runs: %s; %s", len(held), guardPercentiles(held), guardMillis(held))
	assertNothingLeft(t, c)
}

// trafficQueryOne runs an instant query that must return one finite value.
func trafficQueryOne(t *testing.T, c *cluster.Cluster, query string) float64 {
	t.Helper()
	got, err := reportingQuery(c, query, time.Time{})
	if err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	if len(got) != 1 || !got[0].finite() {
		t.Fatalf("query %s: %v, want one finite value", query, got)
	}
	return got[0].last()
}
