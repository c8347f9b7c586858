//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/chaosd/chaosd/test/cluster"
	"github.com/chaosd/chaosd/test/traffic"
)

// The traffic e2e tests prove chaosd's VirtualService faults by what they
// do to real requests: a real istiod turns the VirtualService into xDS
// configuration, and grpc-go's own xDS fault filter, in the demo's client,
// aborts or delays the calls. Nothing here emulates a fault.

// trafficFaultsConfig targets the gRPC demo's VirtualService. Holds are
// long enough for well over 1,000 requests at trafficLoad's rate after the
// fault reaches the client. 503 maps to UNAVAILABLE and 404 to
// UNIMPLEMENTED (grpc-go's HTTP-to-gRPC table), so a failure's code shows
// which configured status produced it.
const trafficFaultsConfig = `experiments:
  - name: traffic-abort-half
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: app=grpc-demo, mode: one}
    action: {type: http-abort, status: 503, percent: 50}
    duration: 12s
    observe: 0s
  - name: traffic-abort-all
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: app=grpc-demo, mode: one}
    action: {type: http-abort, status: 404, percent: 100}
    duration: 5s
    observe: 0s
  - name: traffic-delay-half
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: app=grpc-demo, mode: one}
    action: {type: http-delay, delay: 1s, percent: 50}
    duration: 12s
    observe: 0s
`

// trafficLoad is the demo client's load during a round: 250 requests/s,
// bounded at 60 s and 15,000 requests. The 5 s deadline leaves room for
// the 1 s delay, which otherwise would show as DEADLINE_EXCEEDED.
var trafficLoad = traffic.Load{Rate: 250, Requests: 15000, Duration: time.Minute, Timeout: 5 * time.Second, InFlight: 500}

// trafficOptions is the smallest cluster with real traffic: no kwok nodes
// (a VirtualService fault needs none), istiod, the gRPC demo, Prometheus
// scraping it and Alertmanager for chaosd's guard.
func trafficOptions() cluster.Options {
	return cluster.Options{
		IstioCRDs:    true,
		Istiod:       true,
		Traffic:      true,
		Prometheus:   cluster.PrometheusOptions{Enabled: true},
		Alertmanager: cluster.AlertmanagerOptions{Enabled: true},
	}
}

// trafficSkipExisting skips in existing-cluster mode: the harness's istiod
// and loopback demo are local only (a real cluster has Envoy sidecars).
func trafficSkipExisting(t *testing.T) {
	t.Helper()
	if cluster.ExistingFromEnv(os.Getenv) != nil {
		t.Skip("real traffic needs the harness's own istiod and gRPC demo; not run against an existing cluster")
	}
}

// TestTrafficFaults proves http-abort and http-delay on real gRPC requests,
// each through `chaosd once`: a 50% abort fails 50% ± 5 points of at least
// 1,000 requests, each with the code the configured status maps to; a 100%
// abort fails every request; a 50% × 1 s delay delays about half of them by
// at least 1 s and leaves the rest fast; after each revert the failures stop
// and the VirtualService is byte for byte what it was. The client's own
// per-request count is cross-checked with its metrics and with Prometheus.
func TestTrafficFaults(t *testing.T) {
	trafficSkipExisting(t)
	c := expStart(t, trafficOptions())
	cfg := newConfigDir(t, withMonitoring(c, expGuard+trafficFaultsConfig))

	t.Run("50% abort fails half the requests with UNAVAILABLE", func(t *testing.T) {
		r := trafficRound(t, c, cfg.Path, "traffic-abort-half", traffic.Failed)
		trafficWantShare(t, r.window, traffic.Failed, 0.5, 1000)
		trafficWantFaultAborts(t, r.window, codes.Unavailable)
	})
	t.Run("100% abort fails every request with UNIMPLEMENTED", func(t *testing.T) {
		r := trafficRound(t, c, cfg.Path, "traffic-abort-all", traffic.Failed)
		if len(r.window) < 200 {
			t.Fatalf("only %d requests under the fault, want at least 200 to judge by", len(r.window))
		}
		if ok := r.window.Where(func(o traffic.Outcome) bool { return !traffic.Failed(o) }); len(ok) > 0 {
			t.Errorf("%d of %d requests under a 100%% abort succeeded", len(ok), len(r.window))
		}
		trafficWantFaultAborts(t, r.window, codes.Unimplemented)
	})
	t.Run("50% × 1s delay slows half the requests and leaves the rest fast", func(t *testing.T) {
		const delay = time.Second
		delayed := func(o traffic.Outcome) bool { return o.Latency >= delay }
		r := trafficRound(t, c, cfg.Path, "traffic-delay-half", delayed)
		trafficWantShare(t, r.window, delayed, 0.5, 1000)
		if failed := r.window.Where(traffic.Failed); len(failed) > 0 {
			t.Errorf("%d requests failed under a delay: first %+v", len(failed), failed[0])
		}
		// Bimodal: a request is delayed by the whole second or not at all.
		slowish := r.window.Where(func(o traffic.Outcome) bool { return !delayed(o) && o.Latency >= delay/2 })
		if len(slowish) > 0 {
			t.Errorf("%d undelayed requests took over %s (first %s): the rest is not unchanged", len(slowish), delay/2, slowish[0].Latency)
		}
		fast := r.window.Where(func(o traffic.Outcome) bool { return !delayed(o) })
		slow := r.window.Where(delayed)
		t.Logf("median latency: undelayed %s, delayed %s", trafficMedian(fast), trafficMedian(slow))
	})
}

// trafficRun is one round of TestTrafficFaults.
type trafficRun struct {
	// window holds the requests started after the first one the fault hit
	// and before chaosd's revert: every one of them met the fault's route.
	window traffic.Outcomes
}

// trafficRound runs `chaosd once experiment` under trafficLoad and checks
// what every round shares: no request is hit before the injection, the run
// passes, the fault stops hitting requests after the revert (the figure is
// logged), the VirtualService is restored byte for byte, and the client's
// outcomes agree with its metrics and with Prometheus. hit tells a request
// the fault affected.
func trafficRound(t *testing.T, c *cluster.Cluster, cfgPath, experiment string, hit func(traffic.Outcome) bool) trafficRun {
	t.Helper()
	d := c.Traffic
	before := expGetVS(t, c, cluster.TrafficNamespace, cluster.TrafficName)
	failedBefore := trafficHandled(t, d, codes.Unavailable, codes.Unimplemented)
	okBefore := trafficHandled(t, d, codes.OK)

	rec, stop := d.StartLoad(trafficLoad)
	defer stop()
	// The load is under way through istiod before chaosd starts.
	trafficWaitOutcomes(t, rec, 50, "the first 50 requests through istiod")
	r := expOnce(t, c, cfgPath, experiment)
	expWantVerdict(t, r, 0, "passed")
	if len(r.Rec.Injections) != 1 || r.Rec.Injections[0].RevertedAt == nil {
		t.Fatalf("want one reverted injection, got %+v", r.Rec.Injections)
	}
	injected, reverted := r.Rec.Injections[0].InjectedAt, *r.Rec.Injections[0].RevertedAt

	// Positive signal that the revert reached the client: 200 requests in a
	// row succeed, fast, after the last one the fault hit.
	recovered := func(outs traffic.Outcomes) (traffic.Outcome, bool) {
		last, ok := outs.Last(hit)
		if !ok { // never hit at all: judged below, once 200 ran after the revert
			return traffic.Outcome{}, len(outs.StartedIn(reverted, time.Time{})) >= 200
		}
		return last, len(outs.StartedIn(last.Start, time.Time{})) >= 200
	}
	trafficWaitFor(t, rec, time.Minute, "200 unaffected requests after the last affected one", recovered) // hang guard
	// Stopping waits for the requests under way (a delayed one among them).
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	outs := rec.Outcomes()
	lastHit, _ := outs.Last(hit)

	if early := outs.StartedIn(time.Time{}, injected).Where(hit); len(early) > 0 {
		t.Fatalf("%d requests were affected before chaosd injected (first %+v): the route was not clean", len(early), early[0])
	}
	first, ok := outs.StartedIn(injected, reverted).First(hit)
	if !ok {
		t.Fatalf("no request was affected between the injection (%s) and the revert (%s)", injected.Format(time.StampMilli), reverted.Format(time.StampMilli))
	}
	after := outs.StartedIn(reverted, time.Time{})
	t.Logf("FIGURE %s: injection → first affected request %s; revert → last affected request %s (%d of %d requests after the revert affected)",
		experiment, first.Start.Sub(injected).Round(time.Millisecond), lastHit.Start.Sub(reverted).Round(time.Millisecond),
		len(after.Where(hit)), len(after))

	vs := expGetVS(t, c, cluster.TrafficNamespace, cluster.TrafficName)
	if !bytes.Equal(vs.Spec, before.Spec) {
		t.Fatalf("spec after the revert differs from before:\nbefore %s\nafter  %s", before.Spec, vs.Spec)
	}
	assertNothingLeft(t, c)

	// The middleware counted exactly what the client saw, and Prometheus
	// scraped the same count.
	failed := len(outs.Where(traffic.Failed))
	if got := trafficHandled(t, d, codes.Unavailable, codes.Unimplemented) - failedBefore; got != float64(failed) {
		t.Errorf("grpc_client_handled_total of the failure codes rose by %v, the client saw %d failures", got, failed)
	}
	if got := trafficHandled(t, d, codes.OK) - okBefore; got != float64(len(outs)-failed) {
		t.Errorf("grpc_client_handled_total{grpc_code=OK} rose by %v, the client saw %d successes", got, len(outs)-failed)
	}
	trafficWantPrometheusCount(t, c)
	return trafficRun{window: outs.StartedIn(first.Start, reverted)}
}

// trafficHandled sums the client's grpc_client_handled_total over codes.
func trafficHandled(t *testing.T, d *cluster.TrafficDemo, cs ...codes.Code) float64 {
	t.Helper()
	var sum float64
	for _, code := range cs {
		v, err := d.Handled(traffic.ClientHandled, code.String())
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// trafficWantPrometheusCount waits until Prometheus has scraped the
// client's request count by code as the client's registry holds it now.
func trafficWantPrometheusCount(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	want := map[string]float64{}
	for _, code := range []codes.Code{codes.OK, codes.Unavailable, codes.Unimplemented} {
		want[code.String()] = trafficHandled(t, c.Traffic, code)
	}
	query := fmt.Sprintf(`sum by (grpc_code) (%s{job=%q,grpc_service=%q})`, traffic.ClientHandled, cluster.TrafficJob, traffic.ServiceName)
	var last []reportingSample
	ok := reportingEventually(30*time.Second, func() bool { // hang guard: a scrape a second
		var err error
		if last, err = reportingQuery(c, query, time.Time{}); err != nil {
			t.Fatalf("query Prometheus: %v", err)
		}
		got := map[string]float64{}
		for _, s := range last {
			got[s.Labels["grpc_code"]] = s.last()
		}
		for code, n := range want {
			if got[code] != n {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Errorf("Prometheus never showed the client's counts %v; last answer %v", want, last)
	}
}

// trafficWantShare checks that the share of window matching is within
// ±5 points of want, over at least min requests.
func trafficWantShare(t *testing.T, window traffic.Outcomes, matching func(traffic.Outcome) bool, want float64, min int) {
	t.Helper()
	if len(window) < min {
		t.Fatalf("only %d requests under the fault, want at least %d to judge by", len(window), min)
	}
	n := len(window.Where(matching))
	share := float64(n) / float64(len(window))
	t.Logf("MEASURED %d of %d requests affected (%.3f)", n, len(window), share)
	if math.Abs(share-want) > 0.05 {
		t.Errorf("%d of %d requests affected (%.3f), want %.2f ± 0.05", n, len(window), share, want)
	}
}

// trafficWantFaultAborts checks that every failure in window carries code
// and grpc-go's fault-injection message, so none came from anything else.
func trafficWantFaultAborts(t *testing.T, window traffic.Outcomes, code codes.Code) {
	t.Helper()
	failed := window.Where(traffic.Failed)
	if len(failed) == 0 {
		t.Fatal("no failures to check")
	}
	for _, o := range failed {
		if o.Code != code || !strings.Contains(o.Message, "fault injection") {
			t.Fatalf("a failure is %s %q, want %s from fault injection (codes seen: %v)", o.Code, o.Message, code, window.Codes())
		}
	}
}

// trafficWaitOutcomes waits until rec holds at least n outcomes, all OK.
func trafficWaitOutcomes(t *testing.T, rec *traffic.Recorder, n int, what string) {
	t.Helper()
	trafficWaitFor(t, rec, time.Minute, what, func(outs traffic.Outcomes) (traffic.Outcome, bool) {
		if f, failed := outs.First(traffic.Failed); failed {
			t.Fatalf("a request failed before any fault: %+v", f)
		}
		return traffic.Outcome{}, len(outs) >= n
	})
}

// trafficWaitFor re-checks cond as outcomes are recorded (the recorder's
// progress signal, not a timer; every 25 outcomes, to spare the CPU the
// load shares) until it holds; timeout is a hang guard.
func trafficWaitFor(t *testing.T, rec *traffic.Recorder, timeout time.Duration, what string, cond func(traffic.Outcomes) (traffic.Outcome, bool)) traffic.Outcome {
	t.Helper()
	guard := time.After(timeout)
	checked := -1
	for {
		changed := rec.Changed()
		if n := rec.Len(); n >= checked+25 || checked < 0 {
			checked = n
			if o, ok := cond(rec.Outcomes()); ok {
				return o
			}
		}
		select {
		case <-changed:
		case <-guard:
			t.Fatalf("timed out after %s waiting for %s (%d outcomes, codes %v)", timeout, what, len(rec.Outcomes()), rec.Outcomes().Codes())
		}
	}
}

func trafficMedian(outs traffic.Outcomes) time.Duration {
	if len(outs) == 0 {
		return 0
	}
	ls := make([]time.Duration, len(outs))
	for i, o := range outs {
		ls[i] = o.Latency
	}
	slices.Sort(ls)
	return ls[len(ls)/2]
}
