//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/chaosd/chaosd/test/cluster"
)

// guardVerdictsConfig judges runs by Alertmanager and by one Prometheus
// check on a signal the test never breaks (up{job="demo"}), so a halt can
// only come from the DemoUnhealthy alert while the journal still shows a
// check's value as evidence.
const guardVerdictsConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  prometheus:
    url: PROMETHEUS_URL
    checks: [{name: demo scraped, expr: 'up{job="demo"}', min: 1}]
  pollInterval: 1s
  cooldown: 10m
experiments:
  - name: guard-abort
    schedule: "@every 3s"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 60s
    observe: 2s
    # go-demo-8 carries no requests here: this test is about the guard.
    landing: {disabled: true}
`

// TestGuardVerdicts proves, with one `chaosd run` against the real cluster,
// Prometheus and Alertmanager, that a 50% abort passes while the demo stays
// healthy; that the demo turning unhealthy mid-fault fires DemoUnhealthy,
// which halts and reverts the run with verdict weakness, the alert as
// evidence, and pauses chaosd for its cooldown; and that after a resume an
// alert still active blocks the next start (skipped, nothing injected).
func TestGuardVerdicts(t *testing.T) {
	opts := cluster.FullOptions()
	opts.Prometheus.Rules = demoUnhealthyRules
	c := cluster.Start(t, opts)
	t.Cleanup(func() { c.Exporter.SetHealthy(true) })
	waitForScrape(t, c)
	vs := guardWatchVirtualServices(t, c)
	cfg := newConfigDir(t, withMonitoring(c, guardVerdictsConfig))
	p := startChaosd(t, c, cfg.Path)

	var passed guardRun
	t.Run("abort passes while the demo stays healthy", func(t *testing.T) {
		inj := vs.next(t, 0, time.Minute, "first injection", func(e guardVSEvent) bool { return e.Injected })
		if inj.AbortPercent != 50 || inj.AbortStatus != 500 {
			t.Errorf("injected abort %v%% status %d, want 50%% status 500", inj.AbortPercent, inj.AbortStatus)
		}
		// The run holds its fault 60s: 3 minutes is a hang guard.
		passed = guardWaitRun(t, p, 3*time.Minute, "the first run to finish", func(r guardRun) bool { return true })
		if passed.Verdict != "passed" {
			t.Fatalf("verdict %q (%s), want passed", passed.Verdict, passed.Reason)
		}
		t.Logf("run %s: %s (%s)", passed.RunID, passed.Verdict, passed.Reason)
		if len(passed.Injections) != 1 || passed.Injections[0].RevertedAt == nil {
			t.Fatalf("want one reverted injection, got %+v", passed.Injections)
		}
		if !passed.hasEvidence("prometheus", "demo scraped", nil) {
			t.Errorf("evidence lacks the demo scraped check: %+v", passed.Evidence)
		}
		if passed.hasEvidence("alertmanager", "", nil) {
			t.Errorf("a passed run carries alert evidence: %+v", passed.Evidence)
		}
		// The journal says reverted, so the watch has the event or is about to
		// deliver it: 30s is a hang guard, not a latency bound.
		vs.next(t, inj.index+1, 30*time.Second, "the passed run's revert", func(e guardVSEvent) bool { return e.Name == inj.Name && !e.Injected })
	})
	if t.Failed() {
		return
	}

	var weakness guardRun
	t.Run("an alert during the fault halts it as a weakness and pauses chaosd", func(t *testing.T) {
		// The next run's injection: turn the demo unhealthy as soon as it lands.
		from := vs.indexAfter(passed.FinishedAt)
		inj := vs.next(t, from, time.Minute, "the second run's injection", func(e guardVSEvent) bool { return e.Injected })
		c.Exporter.SetHealthy(false)
		unhealthyAt := time.Now()
		// The hold is 60s so that the alert's rule evaluation and the guard's
		// poll fit in it with a wide margin on a busy machine: a revert before
		// then, with the verdict "halted:" below, is the halt's doing.
		rev := vs.next(t, inj.index+1, 90*time.Second, "chaosd to revert the fault", func(e guardVSEvent) bool { return e.Name == inj.Name && !e.Injected })
		if !alertActive(t, c, "DemoUnhealthy") {
			t.Errorf("the fault was reverted but DemoUnhealthy is not active in Alertmanager")
		}
		t.Logf("demo unhealthy → fault reverted in %s (fault held %s of its 60s)", rev.At.Sub(unhealthyAt), rev.At.Sub(inj.At))
		if held := rev.At.Sub(inj.At); held >= 60*time.Second {
			t.Errorf("the fault was held %s, its full duration: it was not halted", held)
		}
		weakness = guardWaitRun(t, p, 30*time.Second, "the halted run's record", func(r guardRun) bool { return r.StartedAt.After(passed.FinishedAt) })
		if weakness.Verdict != "weakness" || !strings.HasPrefix(weakness.Reason, "halted:") || !strings.Contains(weakness.Reason, "DemoUnhealthy") {
			t.Fatalf("verdict %q (%s), want weakness halted by DemoUnhealthy", weakness.Verdict, weakness.Reason)
		}
		t.Logf("run %s: %s (%s)", weakness.RunID, weakness.Verdict, weakness.Reason)
		if !weakness.hasEvidence("alertmanager", "DemoUnhealthy", map[string]string{"severity": "critical", "alertname": "DemoUnhealthy"}) {
			t.Errorf("evidence lacks the DemoUnhealthy alert with its labels: %+v", weakness.Evidence)
		}
		if len(weakness.Injections) != 1 || weakness.Injections[0].RevertedAt == nil {
			t.Fatalf("want one reverted injection, got %+v", weakness.Injections)
		}
		if !weakness.hasPhase("halt") {
			t.Errorf("timeline has no halt: %+v", weakness.Timeline)
		}
		assertNothingLeft(t, c)

		eventually(t, 10*time.Second, "status paused for the cooldown", func() bool {
			st := p.Status(t)
			return st.State == "paused" && slices.ContainsFunc(st.PauseReasons, func(r string) bool {
				return strings.Contains(r, "weakness found by guard-abort") && strings.Contains(r, "(until ")
			})
		})
		eventually(t, 10*time.Second, `chaosd_paused{reason="cooldown"} 1`, func() bool {
			return guardMetric(t, p, `chaosd_paused{reason="cooldown"}`) == 1
		})
		eventually(t, 20*time.Second, "chaosd status to print the pause", func() bool {
			code, out := runChaosdCommand(t, c, 30*time.Second, "status", "--namespace", chaosdNamespace, "--configmap", chaosdConfigMap)
			return code == 0 && regexp.MustCompile(`(?m)^state:\s+paused`).MatchString(out) && strings.Contains(out, "weakness found by guard-abort")
		})
		// Paused: the schedule keeps ticking (every 3s) but nothing lands. The
		// window is two activations the scheduler skipped as paused.
		mark := vs.len()
		schedWaitSkips(t, p, "guard-abort", "paused", 2)
		vs.assertNoInjectionSince(t, mark)
	})
	if t.Failed() {
		return
	}

	t.Run("an active alert blocks the start after a resume", func(t *testing.T) {
		if !alertActive(t, c, "DemoUnhealthy") {
			t.Fatal("DemoUnhealthy should still be active: the demo is still unhealthy")
		}
		mark := vs.len()
		resumedAt := time.Now()
		if code, out := runChaosdCommand(t, c, 30*time.Second, "resume", "--namespace", chaosdNamespace, "--configmap", chaosdConfigMap); code != 0 {
			t.Fatalf("chaosd resume: exit %d\n%s", code, out)
		}
		eventually(t, 10*time.Second, "chaosd to lift the cooldown", func() bool { return p.Status(t).State == "running" })
		skipped := guardWaitRun(t, p, 30*time.Second, "a run after the resume", func(r guardRun) bool { return r.StartedAt.After(resumedAt) })
		if skipped.Verdict != "skipped" || !strings.Contains(skipped.Reason, "DemoUnhealthy") {
			t.Fatalf("verdict %q (%s), want skipped by DemoUnhealthy", skipped.Verdict, skipped.Reason)
		}
		t.Logf("run %s: %s (%s)", skipped.RunID, skipped.Verdict, skipped.Reason)
		if len(skipped.Injections) != 0 {
			t.Errorf("a skipped run injected: %+v", skipped.Injections)
		}
		if !skipped.hasEvidence("alertmanager", "DemoUnhealthy", map[string]string{"severity": "critical"}) {
			t.Errorf("evidence lacks the blocking alert: %+v", skipped.Evidence)
		}
		vs.assertNoInjectionSince(t, mark)
		assertNothingLeft(t, c)
	})

	c.Exporter.SetHealthy(true)
	eventually(t, 30*time.Second, "DemoUnhealthy to resolve", func() bool { return !alertActive(t, c, "DemoUnhealthy") })
	p.Stop(30 * time.Second)
	assertNothingLeft(t, c)
}

// guardAlertmanagerDownConfig holds a fault for a minute, so any revert
// before that is the guard's doing; unknownAfter 3s with onUnknown revert.
const guardAlertmanagerDownConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  pollInterval: 1s
  timeout: 1s
  onUnknown: revert
  unknownAfter: 3s
  cooldown: 0s
experiments:
  - name: guard-abort
    schedule: "@every 2s"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 60s
    observe: 1s
`

// TestGuardAlertmanagerDown proves the guard fails closed when Alertmanager
// stops answering: an active fault is reverted once the guard has been
// unknown for unknownAfter (verdict aborted), and no run starts while it
// stays unknown (verdict skipped, nothing injected). Alertmanager is first
// frozen (SIGSTOP: connections hang until the guard's timeout), then, after
// it recovered, killed (SIGKILL: connections refused).
func TestGuardAlertmanagerDown(t *testing.T) {
	c := cluster.Start(t, cluster.FullOptions())
	amPID := c.PIDs()["alertmanager"]
	if amPID == 0 {
		t.Fatalf("no alertmanager process among %v", c.PIDs())
	}
	// Runs before the cluster's own cleanup: a stopped process ignores SIGTERM.
	t.Cleanup(func() { _ = syscall.Kill(amPID, syscall.SIGCONT) })
	vs := guardWatchVirtualServices(t, c)
	cfg := newConfigDir(t, withMonitoring(c, guardAlertmanagerDownConfig))
	p := startChaosd(t, c, cfg.Path)

	sigName := map[syscall.Signal]string{syscall.SIGSTOP: "SIGSTOP", syscall.SIGKILL: "SIGKILL"}
	stopAndCheck := func(t *testing.T, from int, sig syscall.Signal, wantProblem string) {
		inj := vs.next(t, from, time.Minute, "an injection", func(e guardVSEvent) bool { return e.Injected })
		if err := syscall.Kill(amPID, sig); err != nil {
			t.Fatalf("signal alertmanager: %v", err)
		}
		stoppedAt := time.Now()
		rev := vs.next(t, inj.index+1, 30*time.Second, "chaosd to revert the fault", func(e guardVSEvent) bool { return e.Name == inj.Name && !e.Injected })
		t.Logf("%s to alertmanager → fault reverted in %s (unknownAfter 3s, timeout 1s, pollInterval 1s)", sigName[sig], rev.At.Sub(stoppedAt))
		if held := rev.At.Sub(inj.At); held >= time.Minute {
			t.Fatalf("the fault was held its full minute: not halted")
		}
		aborted := guardWaitRun(t, p, 30*time.Second, "the halted run's record", func(r guardRun) bool {
			return len(r.Injections) > 0 && !r.Injections[0].InjectedAt.Before(inj.At.Add(-2*time.Second))
		})
		t.Logf("run %s: %s (%s)", aborted.RunID, aborted.Verdict, aborted.Reason)
		if aborted.Verdict != "aborted" || !strings.Contains(aborted.Reason, "guard unknown for") {
			t.Fatalf("verdict %q (%s), want aborted because the guard was unknown", aborted.Verdict, aborted.Reason)
		}
		if !strings.Contains(aborted.Reason, wantProblem) {
			t.Errorf("reason %q does not say %q", aborted.Reason, wantProblem)
		}
		mark := vs.len()
		skipped := guardWaitRun(t, p, 30*time.Second, "a run after the revert", func(r guardRun) bool { return r.StartedAt.After(rev.At) })
		t.Logf("run %s: %s (%s)", skipped.RunID, skipped.Verdict, skipped.Reason)
		if skipped.Verdict != "skipped" || !strings.HasPrefix(skipped.Reason, "preflight unknown") {
			t.Fatalf("verdict %q (%s), want skipped with the preflight unknown", skipped.Verdict, skipped.Reason)
		}
		if len(skipped.Injections) != 0 {
			t.Errorf("a skipped run injected: %+v", skipped.Injections)
		}
		if !skipped.hasEvidence("chaosd", "alertmanager", nil) {
			t.Errorf("evidence does not name alertmanager as the problem: %+v", skipped.Evidence)
		}
		vs.assertNoInjectionSince(t, mark)
		assertNothingLeft(t, c)
	}

	t.Run("frozen alertmanager reverts the fault and blocks starts", func(t *testing.T) {
		stopAndCheck(t, 0, syscall.SIGSTOP, "timed out")
	})
	if t.Failed() {
		return
	}
	mark := vs.len()
	if err := syscall.Kill(amPID, syscall.SIGCONT); err != nil {
		t.Fatalf("continue alertmanager: %v", err)
	}
	t.Run("killed alertmanager reverts the fault and blocks starts", func(t *testing.T) {
		stopAndCheck(t, mark, syscall.SIGKILL, "connection refused")
	})
	p.Stop(30 * time.Second)
	assertNothingLeft(t, c)
}

// guardLatencyConfig makes runs frequent and long: every halt interrupts a
// hold. Only Alertmanager guards, so every halt is the alert's doing; the
// poll interval is the default (1s); cooldown 0s keeps chaosd from pausing.
// The jitter spreads injections (and so the watcher's poll ticks) over the
// second, so they do not stay in lockstep with Prometheus' rule evaluations.
const guardLatencyConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  cooldown: 0s
experiments:
  - name: guard-abort
    schedule: "@every 2s"
    jitter: 1s
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 60s
    observe: 1s
`

// guardLatencyHalts is how many halts each mode measures. make test runs
// 5, enough to prove every halt reverts; the percentiles in
// docs/benchmarks.md come from CHAOSD_E2E_HALTS=20. There is no time cap:
// each halt has its own hang guards, and a slow machine makes the figures
// slower, not the test fail.
func guardLatencyHalts() int { return e2eEnvInt("CHAOSD_E2E_HALTS", 5) }

// TestGuardHaltLatency measures how fast an alert halts a fault, first with
// polling only (pollInterval 1s), then with Alertmanager's webhook pushing
// to chaosd's POST /api/v1/alertmanager as well. Each halt: wait for
// chaosd's injection, turn the demo unhealthy, timestamp DemoUnhealthy's
// first sight in Alertmanager (polled every 20ms) and the fault's removal
// (a watch on the VirtualServices), turn the demo healthy, wait until the
// alert resolves. It asserts that every fault was halted before its hold
// ended, reverted, and judged a weakness with the alert as evidence. The
// latencies are reported, not asserted: they go to the log and from there to
// docs/benchmarks.md ("The guard: how fast an alert halts a fault"), because a bound on them would
// fail on a busy machine for a reason that is not a defect.
func TestGuardHaltLatency(t *testing.T) {
	relay := &guardWebhookRelay{}
	relaySrv := httptest.NewServer(relay)
	t.Cleanup(relaySrv.Close)

	opts := cluster.FullOptions()
	opts.Prometheus.Rules = demoUnhealthyRules
	opts.Alertmanager.WebhookURL = relaySrv.URL + "/api/v1/alertmanager"
	c := cluster.Start(t, opts)
	t.Cleanup(func() { c.Exporter.SetHealthy(true) })
	vs := guardWatchVirtualServices(t, c)
	cfg := newConfigDir(t, withMonitoring(c, guardLatencyConfig))
	p := startChaosd(t, c, cfg.Path)
	relay.target.Store(&p.URL)

	from := 0 // the next injection is the first event from here on
	modes := []struct {
		name string
		push bool
	}{{"poll", false}, {"push", true}}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			relay.forward.Store(m.push)
			forwardedBefore := relay.forwarded.Load()
			sumBefore, countBefore := guardMetric(t, p, "chaosd_halt_latency_seconds_sum"), guardMetric(t, p, "chaosd_halt_latency_seconds_count")
			var amToRevert, updatedToRevert, badToRevert, badToAM []time.Duration
			for range guardLatencyHalts() {
				s := guardMeasureHalt(t, c, vs, from)
				from = s.next
				if t.Failed() {
					return
				}
				amToRevert = append(amToRevert, s.reverted.Sub(s.amSeen))
				updatedToRevert = append(updatedToRevert, s.reverted.Sub(s.amUpdated))
				badToRevert = append(badToRevert, s.reverted.Sub(s.unhealthy))
				badToAM = append(badToAM, s.amSeen.Sub(s.unhealthy))
			}
			sum := guardMetric(t, p, "chaosd_halt_latency_seconds_sum") - sumBefore
			count := guardMetric(t, p, "chaosd_halt_latency_seconds_count") - countBefore
			t.Logf("mode %s: %d halts, %d webhook notifications forwarded to chaosd", m.name, len(amToRevert), relay.forwarded.Load()-forwardedBefore)
			t.Logf("| %s | alert first seen in Alertmanager (20ms poll) → fault reverted | %s |", m.name, guardPercentiles(amToRevert))
			t.Logf("| %s | alert received by Alertmanager (its updatedAt) → fault reverted | %s |", m.name, guardPercentiles(updatedToRevert))
			t.Logf("| %s | demo turned unhealthy → alert first seen in Alertmanager | %s |", m.name, guardPercentiles(badToAM))
			t.Logf("| %s | demo turned unhealthy → fault reverted (end to end) | %s |", m.name, guardPercentiles(badToRevert))
			t.Logf("%s: alert first seen → reverted, each halt in order: %s", m.name, guardMillis(amToRevert))
			if count > 0 {
				t.Logf("| %s | chaosd_halt_latency_seconds (halt decided → reverted), mean of %d | %.0f ms |", m.name, int(count), 1000*sum/count)
			}
		})
		if t.Failed() {
			break
		}
	}

	// Every halted run must be judged a weakness with the alert as evidence.
	runs := guardRuns(t, p, 1000)
	halted := 0
	for _, r := range runs {
		if len(r.Injections) == 0 {
			continue
		}
		halted++
		if r.Verdict != "weakness" || !r.hasEvidence("alertmanager", "DemoUnhealthy", nil) {
			t.Errorf("run %s: verdict %q (%s), want weakness with DemoUnhealthy", r.RunID, r.Verdict, r.Reason)
		}
		for _, inj := range r.Injections {
			if inj.RevertedAt == nil {
				t.Errorf("run %s: injection on %s not reverted", r.RunID, inj.Target)
			}
		}
	}
	t.Logf("%d runs journaled, %d of them injected and were halted", len(runs), halted)
	p.Stop(30 * time.Second)
	assertNothingLeft(t, c)
}

// guardHalt is one measured halt.
type guardHalt struct {
	unhealthy, amSeen, amUpdated, reverted time.Time
	next                                   int // the watcher's index after the revert
}

// guardMeasureHalt waits for an injection, breaks the demo, and timestamps
// the alert and the revert; it returns once the alert has resolved again.
func guardMeasureHalt(t *testing.T, c *cluster.Cluster, vs *guardVSWatcher, from int) guardHalt {
	t.Helper()
	var s guardHalt
	inj := vs.next(t, from, time.Minute, "an injection", func(e guardVSEvent) bool { return e.Injected })
	// The watcher polls at injection + k·pollInterval: break the demo at a
	// random point of that second, or every sample lands on the same tick.
	time.Sleep(rand.N(time.Second))
	c.Exporter.SetHealthy(false)
	s.unhealthy = time.Now()
	deadline := s.unhealthy.Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if a, ok := activeAlert(t, c, "DemoUnhealthy"); ok {
			s.amSeen, s.amUpdated = time.Now(), a.UpdatedAt
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.amSeen.IsZero() {
		t.Fatal("DemoUnhealthy never became active in Alertmanager")
	}
	rev := vs.next(t, inj.index+1, 30*time.Second, "chaosd to revert the fault", func(e guardVSEvent) bool { return e.Name == inj.Name && !e.Injected })
	s.reverted, s.next = rev.At, rev.index+1
	if rev.At.Sub(inj.At) >= time.Minute {
		t.Fatalf("the fault on %s was held its full minute: not halted", inj.Name)
	}
	if _, ok := activeAlert(t, c, "DemoUnhealthy"); !ok {
		t.Fatal("the fault was reverted but DemoUnhealthy is no longer active")
	}
	c.Exporter.SetHealthy(true)
	eventually(t, 30*time.Second, "DemoUnhealthy to resolve", func() bool { _, ok := activeAlert(t, c, "DemoUnhealthy"); return !ok })
	return s
}

// guardPercentiles formats p50 | p90 | p99 | max (nearest rank) in ms.
func guardPercentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + " ms" }
	return fmt.Sprintf("n=%d | p50 %s | p90 %s | p99 %s | max %s", len(s), ms(rank(0.5)), ms(rank(0.9)), ms(rank(0.99)), ms(s[len(s)-1]))
}

func guardMillis(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = strconv.FormatInt(d.Milliseconds(), 10)
	}
	return strings.Join(parts, " ") + " ms"
}

// guardWebhookRelay stands between Alertmanager and chaosd: Alertmanager's
// webhook URL is fixed when the cluster starts, chaosd's port only later.
// It forwards while forward is set and answers 200 either way.
type guardWebhookRelay struct {
	target    atomic.Pointer[string]
	forward   atomic.Bool
	forwarded atomic.Int64
}

func (r *guardWebhookRelay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	target := r.target.Load()
	if r.forward.Load() && target != nil {
		resp, err := http.Post(*target+req.URL.Path, "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
			r.forwarded.Add(1)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// guardVSEvent is a change of chaosd's intent label on a VirtualService,
// timestamped when the watch delivered it.
type guardVSEvent struct {
	index        int
	Name         string
	Injected     bool
	At           time.Time
	AbortPercent float64
	AbortStatus  int32
}

// guardVSWatcher watches go-demo-8's VirtualServices for the whole test and
// records every injection and revert.
type guardVSWatcher struct {
	mu     sync.Mutex
	state  map[string]bool
	events []guardVSEvent
}

func guardWatchVirtualServices(t *testing.T, c *cluster.Cluster) *guardVSWatcher {
	t.Helper()
	w := &guardVSWatcher{state: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	api := c.Istio.NetworkingV1().VirtualServices("go-demo-8")
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list virtualservices: %v", err)
	}
	for _, v := range list.Items {
		w.observe(v)
	}
	rv := list.ResourceVersion
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			wi, err := api.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for ev := range wi.ResultChan() {
				v, ok := ev.Object.(*istiov1.VirtualService)
				if !ok {
					if ev.Type == watch.Error {
						rv = "" // expired: start again from the current state
					}
					continue
				}
				rv = v.ResourceVersion
				if ev.Type == watch.Added || ev.Type == watch.Modified {
					w.observe(v)
				}
			}
			wi.Stop()
		}
	}()
	return w
}

func (w *guardVSWatcher) observe(v *istiov1.VirtualService) {
	now := time.Now()
	injected := v.Labels["chaosd.io/injected"] == "true"
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state[v.Name] == injected {
		return
	}
	w.state[v.Name] = injected
	ev := guardVSEvent{index: len(w.events), Name: v.Name, Injected: injected, At: now}
	for _, r := range v.Spec.Http {
		if a := r.GetFault().GetAbort(); a != nil {
			ev.AbortPercent, ev.AbortStatus = a.GetPercentage().GetValue(), a.GetHttpStatus()
		}
	}
	w.events = append(w.events, ev)
}

func (w *guardVSWatcher) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// indexAfter is the index of the first event later than at.
func (w *guardVSWatcher) indexAfter(at time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, e := range w.events {
		if e.At.After(at) {
			return i
		}
	}
	return len(w.events)
}

// next waits for the first event at index from or later that matches.
func (w *guardVSWatcher) next(t *testing.T, from int, timeout time.Duration, what string, match func(guardVSEvent) bool) guardVSEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		for _, e := range w.events[min(from, len(w.events)):] {
			if match(e) {
				w.mu.Unlock()
				return e
			}
		}
		w.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *guardVSWatcher) assertNoInjectionSince(t *testing.T, mark int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events[min(mark, len(w.events)):] {
		if e.Injected {
			t.Errorf("%s was injected at %s although no run may start", e.Name, e.At.Format(time.RFC3339Nano))
		}
	}
}

// guardRun is the part of a run journal these tests read.
type guardRun struct {
	RunID      string    `json:"runId"`
	Verdict    string    `json:"verdict"`
	Reason     string    `json:"reason"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	Evidence   []struct {
		Source  string            `json:"source"`
		Name    string            `json:"name"`
		Labels  map[string]string `json:"labels"`
		Message string            `json:"message"`
	} `json:"evidence"`
	Injections []struct {
		Target     string     `json:"target"`
		InjectedAt time.Time  `json:"injectedAt"`
		RevertedAt *time.Time `json:"revertedAt"`
	} `json:"injections"`
	Timeline []guardTimelineEntry `json:"timeline"`
}

type guardTimelineEntry struct {
	Phase   string `json:"phase"`
	Message string `json:"message"`
}

// hasEvidence reports whether a piece of evidence has this source, this
// name (any when empty) and at least these labels.
func (r guardRun) hasEvidence(source, name string, labels map[string]string) bool {
	for _, e := range r.Evidence {
		if e.Source != source || (name != "" && e.Name != name) {
			continue
		}
		ok := true
		for k, v := range labels {
			ok = ok && e.Labels[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}

func (r guardRun) hasPhase(phase string) bool {
	return slices.ContainsFunc(r.Timeline, func(e guardTimelineEntry) bool { return e.Phase == phase })
}

// guardRuns returns the finished runs, newest first, from chaosd's API.
func guardRuns(t *testing.T, p *chaosdProcess, limit int) []guardRun {
	t.Helper()
	code, body := p.Get(t, "/api/v1/runs?limit="+strconv.Itoa(limit))
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/runs: %d %s", code, body)
	}
	var sums []struct {
		RunID   string `json:"runId"`
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(body), &sums); err != nil {
		t.Fatalf("decode runs: %v", err)
	}
	var out []guardRun
	for _, s := range sums {
		if s.Verdict == "" {
			continue // still running
		}
		code, body := p.Get(t, "/api/v1/runs/"+s.RunID)
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/runs/%s: %d %s", s.RunID, code, body)
		}
		var r guardRun
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("decode run %s: %v", s.RunID, err)
		}
		out = append(out, r)
	}
	return out
}

// guardWaitRun waits for the oldest finished run that matches.
func guardWaitRun(t *testing.T, p *chaosdProcess, timeout time.Duration, what string, match func(guardRun) bool) guardRun {
	t.Helper()
	var found guardRun
	eventually(t, timeout, what, func() bool {
		runs := guardRuns(t, p, 50)
		for i := len(runs) - 1; i >= 0; i-- {
			if match(runs[i]) {
				found = runs[i]
				return true
			}
		}
		return false
	})
	return found
}

// guardMetric returns the value of one series on chaosd's /metrics, NaN
// when absent.
func guardMetric(t *testing.T, p *chaosdProcess, series string) float64 {
	t.Helper()
	_, body := p.Get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return math.NaN()
}
