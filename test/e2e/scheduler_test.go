//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/test/cluster"
)

// The daemon end to end: leader election, hot reload, pause and resume,
// SIGTERM, and the concurrency limits, against the real local cluster.
// Faults are http-aborts on the demo VirtualServices: cheap to inject and
// easy to see in the cluster. Schedules are @every 2s without jitter so each
// test takes seconds; every wait is bounded.

// schedLeaseFlags are short lease timings (duration > renew deadline >
// 1.2 × retry period) so a takeover happens within seconds.
var schedLeaseFlags = []string{"--leader-elect", "--lease-name", "chaosd",
	"--lease-duration", "4s", "--lease-renew-deadline", "3s", "--lease-retry-period", "500ms"}

const schedLeaseDuration = 4 * time.Second

// schedHoldConfig holds an abort on one demo VirtualService for two
// minutes, long enough that only chaosd's own revert can end it.
const schedHoldConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL}
  pollInterval: 500ms
experiments:
  - name: hold
    schedule: "@every 2s"
    jitter: 0s
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 2m
    observe: 0s
`

// schedCluster is the demo environment with Alertmanager (the guard) but
// without Prometheus: these tests judge nothing by metrics.
func schedCluster(t *testing.T) *cluster.Cluster {
	t.Helper()
	opts := cluster.FullOptions()
	opts.Prometheus.Enabled = false
	opts.DemoExporter = false
	return cluster.Start(t, opts)
}

// TestSchedulerLeaderElection proves that two replicas sharing a Lease never
// both inject, and that when the leader dies mid-fault (SIGKILL: no revert)
// the standby takes over within about the lease duration and reverts the
// orphaned fault before scheduling anything of its own.
func TestSchedulerLeaderElection(t *testing.T) {
	c := schedCluster(t)
	cfg := newConfigDir(t, withMonitoring(c, schedHoldConfig))
	procs := map[string]*chaosdProcess{
		"a": startChaosd(t, c, cfg.Path, append(slices.Clone(schedLeaseFlags), "--identity", "a")...),
		"b": startChaosd(t, c, cfg.Path, append(slices.Clone(schedLeaseFlags), "--identity", "b")...),
	}
	watch := schedWatchFaults(t, c)

	var leader, standby string
	eventually(t, 30*time.Second, "exactly one replica leading", func() bool {
		sa, sb := procs["a"].Status(t), procs["b"].Status(t)
		switch {
		case sa.State == "running" && sb.State == "standby":
			leader, standby = "a", "b"
		case sb.State == "running" && sa.State == "standby":
			leader, standby = "b", "a"
		default:
			return false
		}
		return true
	})
	t.Logf("leader %s, standby %s", leader, standby)
	if code, body := procs[standby].Get(t, "/readyz"); code != 200 {
		t.Fatalf("standby /readyz = %d %q, want 200 (ready means config valid and caches synced, not leading)", code, body)
	}
	if st := procs[standby].Status(t); st.Leader != "" {
		t.Errorf("standby status names leader %q, want none", st.Leader)
	}
	lease := schedLease(t, c)
	if lease.holder != leader {
		t.Fatalf("Lease holder = %q, want the leader %q", lease.holder, leader)
	}

	// Let the leader inject and hold; the standby must stay idle meanwhile.
	var held schedFault
	eventually(t, 30*time.Second, "the leader's fault held in a VirtualService", func() bool {
		if f := schedFaults(t, c); len(f) > 0 {
			held = f[0]
			return true
		}
		return false
	})
	// A few more activations, all skipped by the leader as already running;
	// the standby must not have started any of them.
	schedWaitSkips(t, procs[leader], "hold", "already-running", 2)
	if held.By != leader {
		t.Fatalf("fault injected by %q, want the leader %q", held.By, leader)
	}
	if runs := schedRuns(t, procs[standby]); len(runs) != 0 {
		t.Fatalf("standby journaled %d runs, want none: %+v", len(runs), runs)
	}
	if st := procs[leader].Status(t); len(st.Active) != 1 || st.Active[0].RunID != held.Run {
		t.Fatalf("leader's active faults = %+v, want run %s", st.Active, held.Run)
	}

	// SIGKILL the leader: its fault stays in the cluster, orphaned.
	killed := time.Now()
	procs[leader].Kill()
	var tookOver, reverted time.Time
	deadline := time.Now().Add(30 * time.Second)
	for tookOver.IsZero() || reverted.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("within 30s of killing %s: took over at %v, orphaned fault reverted at %v", leader, tookOver, reverted)
		}
		if tookOver.IsZero() && procs[standby].Status(t).State == "running" {
			tookOver = time.Now()
		}
		if reverted.IsZero() && !schedHasRun(schedFaults(t, c), held.Run) {
			reverted = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	lease = schedLease(t, c)
	t.Logf("MEASURED leader %s SIGKILLed mid-fault: %s leading after %s (Lease acquired after %s, lease duration %s); "+
		"orphaned fault of run %s reverted after %s",
		leader, standby, tookOver.Sub(killed).Round(time.Millisecond), lease.acquired.Sub(killed).Round(time.Millisecond),
		schedLeaseDuration, held.Run, reverted.Sub(killed).Round(time.Millisecond))
	if lease.holder != standby || lease.transitions < 1 {
		t.Errorf("Lease after takeover: holder %q, transitions %d; want %q and at least 1", lease.holder, lease.transitions, standby)
	}

	// The new leader recorded the recovery and then injects on its own.
	eventually(t, 15*time.Second, "ChaosRecovered Event on chaosd's ConfigMap", func() bool {
		return schedHasEvent(t, c, "Normal", "ChaosRecovered")
	})
	eventually(t, 30*time.Second, "the new leader's own fault", func() bool {
		for _, in := range schedFaults(t, c) {
			if in.By == standby {
				return true
			}
		}
		return false
	})

	// Over the whole test, faults came from one identity at a time: the
	// leader's before the kill, the successor's after.
	watch.stop()
	for run, seen := range watch.runs() {
		switch {
		case seen.by == leader && seen.first.After(killed):
			t.Errorf("run %s of the killed leader %s appeared after the kill", run, leader)
		case seen.by == standby && seen.first.Before(killed):
			t.Errorf("run %s of the standby %s appeared while %s was leading", run, standby, leader)
		case seen.by != leader && seen.by != standby:
			t.Errorf("run %s injected by unknown identity %q", run, seen.by)
		}
	}
	if n := watch.maxIdentities(); n != 1 {
		t.Errorf("faults of %d identities seen at once, want 1", n)
	}

	// Another holder takes the Lease (a partition, a second install): the
	// deposed leader must stop injecting, revert its fault and exit.
	own := schedWaitForFault(t, c, "hold", standby)
	stolen := time.Now()
	schedStealLease(t, c, "intruder")
	d := schedWaitFor(t, 30*time.Second, "the deposed leader to revert its fault", func() bool {
		return !schedHasRun(schedFaults(t, c), own.Run)
	})
	select {
	case <-procs[standby].done:
	case <-time.After(30 * time.Second):
		t.Fatalf("deposed leader %s still running 30s after losing its Lease", standby)
	}
	t.Logf("MEASURED Lease taken from %s: its fault reverted after %s, process exited after %s (renew deadline 3s)",
		standby, d.Round(time.Millisecond), time.Since(stolen).Round(time.Millisecond))
	if procs[standby].err == nil {
		t.Errorf("deposed leader exited 0, want a failure exit so Kubernetes restarts it as a standby")
	}
	if !strings.Contains(procs[standby].Log(), "lost leadership") {
		t.Errorf("deposed leader did not log lost leadership:\n%s", tail(procs[standby].Log(), 30))
	}
	assertNothingLeft(t, c)
}

// schedReloadConfig has experiments that never come due during the test:
// reloads are observed through the status, not through runs.
const schedReloadConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL}
experiments:
  - name: first
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 10s
    observe: 0s
`

const schedReloadSecond = `  - name: second
    schedule: "SCHEDULE"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-delay, delay: 1s, percent: 10}
    duration: 10s
    observe: 0s
`

// TestSchedulerHotReload proves the kubelet's symlink swap of a mounted
// ConfigMap is picked up without a restart: a valid change is in force
// within well under 2 s; an invalid one is rejected loudly (status, metric,
// Warning Event on chaosd's ConfigMap) while the last good config keeps
// running unchanged.
func TestSchedulerHotReload(t *testing.T) {
	c := schedCluster(t)
	base := withMonitoring(c, schedReloadConfig)
	cfg := newConfigDir(t, base)
	p := startChaosd(t, c, cfg.Path)
	before := p.Status(t)
	if got := schedNextNames(before); !slices.Equal(got, []string{"first"}) {
		t.Fatalf("next activations for %v, want [first]", got)
	}

	t.Run("valid change in force within seconds", func(t *testing.T) {
		var took []time.Duration
		hash := before.ConfigHash
		for i := range 5 {
			sched := "@every " + strconv.Itoa(30+i) + "m"
			cfg.Swap(t, base+strings.Replace(schedReloadSecond, "SCHEDULE", sched, 1))
			d := schedWaitFor(t, 30*time.Second, "the reloaded config in the status", func() bool {
				st := p.Status(t)
				return st.ConfigHash != hash && slices.Equal(schedNextNames(st), []string{"first", "second"})
			})
			took = append(took, d)
			hash = p.Status(t).ConfigHash
		}
		t.Logf("MEASURED valid reload (symlink swap -> new configHash and next list on /api/v1/status), 5 swaps: %s", schedDurations(took))
		if v := schedMetric(t, p, "chaosd_config_last_reload_success"); v != 1 {
			t.Errorf("chaosd_config_last_reload_success = %v, want 1", v)
		}
		if v := schedMetric(t, p, "chaosd_config_reloads_total", `result="success"`); v < 6 {
			t.Errorf("chaosd_config_reloads_total{result=success} = %v, want at least 6 (start + 5 reloads)", v)
		}
		eventually(t, 15*time.Second, "ConfigReloaded Event", func() bool { return schedHasEvent(t, c, "Normal", "ConfigReloaded") })
	})

	t.Run("invalid change rejected, last good config kept", func(t *testing.T) {
		good := p.Status(t)
		swapped := time.Now()
		cfg.Swap(t, base+`  - name: third
    schedule: "every now and then"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500}
    duration: 10s
`)
		eventually(t, 30*time.Second, "configError in the status", func() bool { return p.Status(t).ConfigError != "" })
		t.Logf("MEASURED invalid reload rejected after %s", time.Since(swapped).Round(time.Millisecond))
		st := p.Status(t)
		if !strings.Contains(st.ConfigError, "experiments[1].schedule") {
			t.Errorf("configError = %q, want it to name experiments[1].schedule", st.ConfigError)
		}
		if st.ConfigHash != good.ConfigHash {
			t.Errorf("configHash changed to %s on a rejected config, want %s", st.ConfigHash, good.ConfigHash)
		}
		if !slices.EqualFunc(st.Next, good.Next, func(a, b control.NextActivation) bool {
			return a.Experiment == b.Experiment && a.At.Equal(b.At)
		}) {
			t.Errorf("next activations changed on a rejected config: %+v, want %+v", st.Next, good.Next)
		}
		if v := schedMetric(t, p, "chaosd_config_last_reload_success"); v != 0 {
			t.Errorf("chaosd_config_last_reload_success = %v, want 0", v)
		}
		if v := schedMetric(t, p, "chaosd_config_reloads_total", `result="rejected"`); v < 1 {
			t.Errorf("chaosd_config_reloads_total{result=rejected} = %v, want at least 1", v)
		}
		eventually(t, 15*time.Second, "Warning Event ConfigRejected on configmap chaosd/chaosd-config", func() bool {
			return schedHasEvent(t, c, "Warning", "ConfigRejected")
		})
		eventually(t, 20*time.Second, "chaosd status to report the rejected config", func() bool {
			_, out := runChaosdCommand(t, c, 30*time.Second, "status", "--namespace", chaosdNamespace)
			return strings.Contains(out, "config rejected (last good config in force)") && strings.Contains(out, "experiments[1].schedule")
		})
	})

	t.Run("fixing the config clears the error", func(t *testing.T) {
		cfg.Swap(t, base)
		eventually(t, 30*time.Second, "configError cleared", func() bool {
			st := p.Status(t)
			return st.ConfigError == "" && slices.Equal(schedNextNames(st), []string{"first"})
		})
		if v := schedMetric(t, p, "chaosd_config_last_reload_success"); v != 1 {
			t.Errorf("chaosd_config_last_reload_success = %v, want 1", v)
		}
	})
}

// schedTickConfig runs a short abort every 2 s; PAUSED is replaced.
const schedTickConfig = `paused: PAUSED
guard:
  alertmanager: {url: ALERTMANAGER_URL}
  pollInterval: 500ms
experiments:
  - name: tick
    schedule: "@every 2s"
    jitter: 0s
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 1s
    observe: 0s
`

// schedIdleConfig is a config whose only experiment is not due for an hour.
const schedIdleConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL}
experiments:
  - name: idle
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500}
    duration: 10s
    observe: 0s
`

// TestSchedulerPauseResume proves the kill switches work without a
// redeploy: paused in the config file, chaosd pause / resume from a laptop,
// chaosd pause --revert as an emergency stop, and removing an experiment
// whose fault is active.
func TestSchedulerPauseResume(t *testing.T) {
	c := schedCluster(t)
	tick := func(paused string) string {
		return withMonitoring(c, strings.Replace(schedTickConfig, "PAUSED", paused, 1))
	}
	cfg := newConfigDir(t, tick("true"))
	p := startChaosd(t, c, cfg.Path)
	ctl := func(args ...string) string {
		t.Helper()
		code, out := runChaosdCommand(t, c, 30*time.Second, append(args, "--namespace", chaosdNamespace)...)
		if code != 0 {
			t.Fatalf("chaosd %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	started := func() float64 { return schedMetric(t, p, "chaosd_activations_total", `experiment="tick"`) }

	t.Run("paused in the config file", func(t *testing.T) {
		eventually(t, 15*time.Second, "an activation skipped as paused", func() bool {
			return schedMetric(t, p, "chaosd_runs_skipped_total", `experiment="tick"`, `reason="paused"`) >= 2
		})
		if n := started(); n != 0 {
			t.Fatalf("%v runs started while paused: true in the config", n)
		}
		if st := p.Status(t); st.State != "paused" || len(st.PauseReasons) == 0 || !strings.Contains(st.PauseReasons[0], "in config") {
			t.Fatalf("status %q %v, want paused by the config", st.State, st.PauseReasons)
		}
		if v := schedMetric(t, p, "chaosd_paused", `reason="config"`); v != 1 {
			t.Errorf(`chaosd_paused{reason="config"} = %v, want 1`, v)
		}
		cfg.Swap(t, tick("false"))
		eventually(t, 15*time.Second, "runs after unpausing the config", func() bool { return started() >= 1 })
	})

	t.Run("chaosd pause stops new runs, resume lifts it", func(t *testing.T) {
		begin := time.Now()
		ctl("pause", "--reason", "e2e maintenance")
		d := schedWaitFor(t, 30*time.Second, "the manual pause in the status", func() bool {
			st := p.Status(t)
			return st.State == "paused" && slices.ContainsFunc(st.PauseReasons, func(r string) bool { return strings.Contains(r, "e2e maintenance") })
		})
		t.Logf("MEASURED chaosd pause in force %s after the command returned (%s after it started)", d.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
		// One activation skipped as paused: any activation that was past its
		// pause check before the pause has counted by now.
		schedWaitSkips(t, p, "tick", "paused", 1)
		n := started()
		// The observation window is two more ticks seen by the scheduler, not a sleep.
		schedWaitSkips(t, p, "tick", "paused", 2)
		if got := started(); got != n {
			t.Fatalf("%v runs started during a manual pause", got-n)
		}
		eventually(t, 20*time.Second, "chaosd status to show the manual pause", func() bool {
			out := ctl("status")
			return strings.Contains(out, "state:   paused") && strings.Contains(out, "manual pause: true") && strings.Contains(out, "e2e maintenance")
		})

		ctl("resume")
		d = schedWaitFor(t, 30*time.Second, "a run after chaosd resume", func() bool { return started() > n })
		t.Logf("MEASURED first run %s after chaosd resume returned", d.Round(time.Millisecond))
		if st := p.Status(t); st.State != "running" {
			t.Errorf("state after resume = %q, want running", st.State)
		}
	})

	t.Run("chaosd pause --revert reverts an active fault at once", func(t *testing.T) {
		cfg.Swap(t, withMonitoring(c, schedHoldConfig))
		held := schedWaitForFault(t, c, "hold", "")
		begin := time.Now()
		ctl("pause", "--revert", "--reason", "e2e emergency")
		d := schedWaitFor(t, 30*time.Second, "the fault reverted by the emergency stop", func() bool {
			return !schedHasRun(schedFaults(t, c), held.Run)
		})
		t.Logf("MEASURED chaosd pause --revert: fault of %s reverted %s after the command returned (%s after it started)",
			held.Run, d.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
		eventually(t, 10*time.Second, "no active fault in the status", func() bool { return len(p.Status(t).Active) == 0 })
		schedWaitSkips(t, p, "hold", "paused", 2)
		if f := schedFaults(t, c); len(f) != 0 {
			t.Fatalf("faults injected while paused with --revert: %+v", f)
		}
		rec := schedRun(t, p, held.Run)
		if rec.Verdict != journal.VerdictAborted || len(rec.Injections) != 1 || rec.Injections[0].RevertedAt == nil {
			t.Errorf("journal of the stopped run: verdict %q, injections %+v; want aborted with the fault reverted", rec.Verdict, rec.Injections)
		}
		eventually(t, 15*time.Second, "EmergencyStop Event", func() bool { return schedHasEvent(t, c, "Warning", "EmergencyStop") })
		ctl("resume")
	})

	t.Run("removing an experiment reverts its active fault", func(t *testing.T) {
		held := schedWaitForFault(t, c, "hold", "")
		cfg.Swap(t, withMonitoring(c, schedIdleConfig))
		d := schedWaitFor(t, 30*time.Second, "the removed experiment's fault reverted", func() bool {
			return !schedHasRun(schedFaults(t, c), held.Run)
		})
		t.Logf("MEASURED experiment removed from the config: its fault reverted %s after the swap", d.Round(time.Millisecond))
		eventually(t, 10*time.Second, "the removed experiment's run journaled", func() bool {
			return schedRun(t, p, held.Run).Verdict == journal.VerdictAborted
		})
		if names := schedNextNames(p.Status(t)); !slices.Equal(names, []string{"idle"}) {
			t.Errorf("next activations for %v, want [idle]", names)
		}
	})

	t.Run("paused: revert in the config reverts at once", func(t *testing.T) {
		hold := withMonitoring(c, schedHoldConfig)
		cfg.Swap(t, hold)
		held := schedWaitForFault(t, c, "hold", "")
		cfg.Swap(t, "paused: revert\n"+hold)
		d := schedWaitFor(t, 30*time.Second, "the fault reverted by paused: revert", func() bool {
			return !schedHasRun(schedFaults(t, c), held.Run)
		})
		t.Logf("MEASURED paused: revert in the config: fault reverted %s after the swap", d.Round(time.Millisecond))
		schedWaitSkips(t, p, "hold", "paused", 2)
		if f := schedFaults(t, c); len(f) != 0 {
			t.Fatalf("faults injected while paused: revert: %+v", f)
		}
		if st := p.Status(t); st.State != "paused" {
			t.Errorf("state = %q, want paused", st.State)
		}
	})

	p.Stop(30 * time.Second)
	assertNothingLeft(t, c)
}

// TestSchedulerSIGTERMRevertsHeldFault proves that SIGTERM (a rollout, a
// node drain, helm uninstall) reverts a held fault before chaosd exits.
func TestSchedulerSIGTERMRevertsHeldFault(t *testing.T) {
	c := schedCluster(t)
	cfg := newConfigDir(t, withMonitoring(c, schedHoldConfig))
	sigterm := func(t *testing.T, p *chaosdProcess) schedFault {
		held := schedWaitForFault(t, c, "hold", "")
		begin := time.Now()
		p.Stop(60 * time.Second)
		t.Logf("MEASURED SIGTERM with a held fault: chaosd reverted and exited %s later", time.Since(begin).Round(time.Millisecond))
		if p.err != nil {
			t.Errorf("chaosd exited with %v after SIGTERM, want exit 0", p.err)
		}
		if schedHasRun(schedFaults(t, c), held.Run) {
			t.Fatalf("fault of run %s still in the cluster after chaosd exited", held.Run)
		}
		assertNothingLeft(t, c)
		if !strings.Contains(p.Log(), `"chaosd stopped"`) {
			t.Errorf("chaosd did not log a clean stop:\n%s", tail(p.Log(), 30))
		}
		return held
	}

	t.Run("single replica", func(t *testing.T) {
		sigterm(t, startChaosd(t, c, cfg.Path))
	})
	t.Run("leader reverts before releasing its Lease", func(t *testing.T) {
		p := startChaosd(t, c, cfg.Path, append(slices.Clone(schedLeaseFlags), "--identity", "solo")...)
		held := sigterm(t, p)
		ctx := context.Background()
		lease, err := c.Kube.CoordinationV1().Leases(chaosdNamespace).Get(ctx, "chaosd", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
			t.Fatalf("Lease still held by %q after a clean shutdown, want released", *h)
		}
		// Both writes went to the one etcd, whose revisions order them: the
		// revert must come before the release, or a successor could start
		// while the fault is still in place.
		vs, err := c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).Get(ctx, held.VS, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		reverted, _ := strconv.ParseInt(vs.ResourceVersion, 10, 64)
		released, _ := strconv.ParseInt(lease.ResourceVersion, 10, 64)
		if reverted == 0 || released == 0 || reverted > released {
			t.Errorf("revert written at revision %s, Lease released at %s: want the revert first", vs.ResourceVersion, lease.ResourceVersion)
		}
	})
}

// schedOverlapConfig has two experiments that would overlap: each holds its
// fault 3 s on a 2 s schedule, and they share maxConcurrentRuns: 1.
const schedOverlapConfig = `maxConcurrentRuns: 1
guard:
  alertmanager: {url: ALERTMANAGER_URL}
  pollInterval: 500ms
experiments:
  - name: one
    schedule: "@every 2s"
    jitter: 0s
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 3s
    observe: 0s
  - name: two
    schedule: "@every 2s"
    jitter: 0s
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-delay, delay: 1s, percent: 50}
    duration: 3s
    observe: 0s
`

// TestSchedulerConcurrencyLimits proves an experiment never overlaps itself
// and maxConcurrentRuns: 1 holds across experiments: the journals' run
// intervals are disjoint, the cluster never carries two faults at once, and
// the refused activations are counted by reason.
func TestSchedulerConcurrencyLimits(t *testing.T) {
	c := schedCluster(t)
	cfg := newConfigDir(t, withMonitoring(c, schedOverlapConfig))
	watch := schedWatchFaults(t, c)
	p := startChaosd(t, c, cfg.Path)

	eventually(t, 90*time.Second, "both experiments to finish runs, 5 in all", func() bool {
		done := map[string]int{}
		for _, r := range schedRuns(t, p) {
			if !r.FinishedAt.IsZero() {
				done[r.Experiment]++
			}
		}
		return done["one"] >= 1 && done["two"] >= 1 && done["one"]+done["two"] >= 5
	})
	runs := schedRuns(t, p)
	watch.stop()
	sort.Slice(runs, func(i, j int) bool { return runs[i].StartedAt.Before(runs[j].StartedAt) })
	for i := 1; i < len(runs); i++ {
		prev, cur := runs[i-1], runs[i]
		if prev.FinishedAt.IsZero() || cur.StartedAt.Before(prev.FinishedAt) {
			t.Errorf("run %s (%s) started %s, before run %s (%s) finished at %s",
				cur.RunID, cur.Experiment, cur.StartedAt.Format(time.RFC3339Nano), prev.RunID, prev.Experiment, prev.FinishedAt.Format(time.RFC3339Nano))
		}
	}
	for _, r := range runs {
		if !r.FinishedAt.IsZero() && r.Verdict != journal.VerdictPassed {
			t.Errorf("run %s of %s: %s (%s), want passed", r.RunID, r.Experiment, r.Verdict, r.Reason)
		}
	}
	if n := watch.maxFaults(); n != 1 {
		t.Errorf("the cluster carried %d faults at once, want exactly 1 at most", n)
	}
	already := schedMetric(t, p, "chaosd_runs_skipped_total", `reason="already-running"`)
	maxed := schedMetric(t, p, "chaosd_runs_skipped_total", `reason="max-concurrent-runs"`)
	t.Logf("%d runs journaled, none overlapping; skipped activations: already-running %v, max-concurrent-runs %v", len(runs), already, maxed)
	if already < 1 || maxed < 1 {
		t.Errorf("skipped: already-running %v, max-concurrent-runs %v; want both counted", already, maxed)
	}

	p.Stop(30 * time.Second)
	assertNothingLeft(t, c)
}

func schedNextNames(st control.Status) []string {
	var names []string
	for _, n := range st.Next {
		names = append(names, n.Experiment)
	}
	sort.Strings(names)
	return names
}

// schedRuns reads /api/v1/runs, in-progress runs included.
func schedRuns(t testing.TB, p *chaosdProcess) []journal.Summary {
	t.Helper()
	code, body := p.Get(t, "/api/v1/runs?limit=1000")
	var runs []journal.Summary
	if code != 200 || json.Unmarshal([]byte(body), &runs) != nil {
		t.Fatalf("GET /api/v1/runs = %d %q", code, body)
	}
	return runs
}

// schedRun reads one run's journal; a missing one comes back empty.
func schedRun(t testing.TB, p *chaosdProcess, id string) journal.Record {
	t.Helper()
	code, body := p.Get(t, "/api/v1/runs/"+id)
	var rec journal.Record
	if code == 200 && json.Unmarshal([]byte(body), &rec) != nil {
		t.Fatalf("decode run %s: %q", id, body)
	}
	return rec
}

// schedFault is an injection intent recorded on a demo VirtualService.
type schedFault struct {
	VS string
	experiments.Intent
}

// schedListFaults returns the injection intents recorded on the demo
// VirtualServices.
func schedListFaults(ctx context.Context, c *cluster.Cluster) ([]schedFault, error) {
	list, err := c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).List(ctx,
		metav1.ListOptions{LabelSelector: experiments.LabelInjected + "=true"})
	if err != nil {
		return nil, err
	}
	var out []schedFault
	for _, vs := range list.Items {
		f := schedFault{VS: vs.Name}
		if err := json.Unmarshal([]byte(vs.Annotations[experiments.AnnotationInjection]), &f.Intent); err != nil {
			f.Run = "unreadable intent on " + vs.Name
		}
		out = append(out, f)
	}
	return out, nil
}

func schedFaults(t testing.TB, c *cluster.Cluster) []schedFault {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := schedListFaults(ctx, c)
	if err != nil {
		t.Fatalf("list faults: %v", err)
	}
	return f
}

func schedHasRun(faults []schedFault, run string) bool {
	return slices.ContainsFunc(faults, func(f schedFault) bool { return f.Run == run })
}

// schedWaitForFault waits for a fault of experiment (by identity, if not
// empty) in the cluster and returns its intent.
func schedWaitForFault(t testing.TB, c *cluster.Cluster, experiment, by string) schedFault {
	t.Helper()
	var held schedFault
	eventually(t, 30*time.Second, "a fault of "+experiment+" in a VirtualService", func() bool {
		for _, in := range schedFaults(t, c) {
			if in.Experiment == experiment && (by == "" || in.By == by) {
				held = in
				return true
			}
		}
		return false
	})
	return held
}

// schedStealLease makes holder the Lease's holder for a minute, as a
// second chaosd (or a partitioned one) would.
func schedStealLease(t testing.TB, c *cluster.Cluster, holder string) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := c.Kube.CoordinationV1().Leases(chaosdNamespace).Get(ctx, "chaosd", metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.NewMicroTime(time.Now())
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &holder, ptr.To[int32](60)
		l.Spec.AcquireTime, l.Spec.RenewTime = &now, &now
		_, err = c.Kube.CoordinationV1().Leases(chaosdNamespace).Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("take the Lease: %v", err)
	}
}

type schedLeaseInfo struct {
	holder      string
	transitions int32
	acquired    time.Time
}

func schedLease(t testing.TB, c *cluster.Cluster) schedLeaseInfo {
	t.Helper()
	l, err := c.Kube.CoordinationV1().Leases(chaosdNamespace).Get(context.Background(), "chaosd", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Lease: %v", err)
	}
	var info schedLeaseInfo
	if l.Spec.HolderIdentity != nil {
		info.holder = *l.Spec.HolderIdentity
	}
	if l.Spec.LeaseTransitions != nil {
		info.transitions = *l.Spec.LeaseTransitions
	}
	if l.Spec.AcquireTime != nil {
		info.acquired = l.Spec.AcquireTime.Time
	}
	return info
}

// schedHasEvent reports whether chaosd recorded an Event of this type and
// reason on its ConfigMap. chaosd's recorder writes events.k8s.io/v1
// Events; the core v1 API (kubectl describe configmap) must show them too.
func schedHasEvent(t testing.TB, c *cluster.Cluster, eventType, reason string) bool {
	t.Helper()
	ctx := context.Background()
	list, err := c.Kube.EventsV1().Events(chaosdNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list events.k8s.io/v1 events: %v", err)
	}
	found := slices.ContainsFunc(list.Items, func(ev eventsv1.Event) bool {
		return ev.Type == eventType && ev.Reason == reason && ev.Regarding.Kind == "ConfigMap" &&
			ev.Regarding.Name == chaosdConfigMap && ev.ReportingController == "chaosd"
	})
	if !found {
		return false
	}
	core, err := c.Kube.CoreV1().Events(chaosdNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list core v1 events: %v", err)
	}
	return slices.ContainsFunc(core.Items, func(ev corev1.Event) bool {
		return ev.Type == eventType && ev.Reason == reason && ev.InvolvedObject.Name == chaosdConfigMap
	})
}

// schedMetric sums the samples of a metric on /metrics whose labels
// include every given name="value" pair; a missing metric counts as 0.
func schedMetric(t testing.TB, p *chaosdProcess, name string, labels ...string) float64 {
	t.Helper()
	_, body := p.Get(t, "/metrics")
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		if slices.ContainsFunc(labels, func(l string) bool { return !strings.Contains(rest, l) }) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// schedWaitSkips waits until chaosd has skipped n more activations of an
// experiment for reason: the scheduler's own progress, used as the
// observation window of a negative assertion instead of a sleep. The
// minute is a hang guard, not a latency bound.
func schedWaitSkips(t testing.TB, p *chaosdProcess, experiment, reason string, n int) {
	t.Helper()
	labels := []string{`experiment="` + experiment + `"`, `reason="` + reason + `"`}
	from := schedMetric(t, p, "chaosd_runs_skipped_total", labels...)
	schedWaitFor(t, time.Minute, fmt.Sprintf("%d more %s activations of %s skipped", n, reason, experiment), func() bool {
		return schedMetric(t, p, "chaosd_runs_skipped_total", labels...) >= from+float64(n)
	})
}

// schedWaitFor polls cond every 50 ms and returns how long it took to hold.
func schedWaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !cond() {
		if time.Since(begin) > timeout {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(begin)
}

func schedDurations(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return "min " + s[0].Round(time.Millisecond).String() + ", median " + s[len(s)/2].Round(time.Millisecond).String() +
		", max " + s[len(s)-1].Round(time.Millisecond).String() + " (" + strings.Join(parts, " ") + ")"
}

// schedFaultWatch polls the demo VirtualServices in the background and
// remembers every injection it saw, and the most faults and injecting
// identities present at one time.
type schedFaultWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	mu             sync.Mutex
	seen           map[string]schedSeenRun
	mostFaults     int
	mostIdentities int
}

type schedSeenRun struct {
	by          string
	first, last time.Time
}

func schedWatchFaults(t testing.TB, c *cluster.Cluster) *schedFaultWatch {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	w := &schedFaultWatch{cancel: cancel, done: make(chan struct{}), seen: map[string]schedSeenRun{}}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			if faults, err := schedListFaults(ctx, c); err == nil {
				w.record(faults, time.Now())
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *schedFaultWatch) record(faults []schedFault, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := map[string]bool{}
	for _, in := range faults {
		ids[in.By] = true
		s, ok := w.seen[in.Run]
		if !ok {
			s = schedSeenRun{by: in.By, first: now}
		}
		s.last = now
		w.seen[in.Run] = s
	}
	w.mostFaults = max(w.mostFaults, len(faults))
	w.mostIdentities = max(w.mostIdentities, len(ids))
}

func (w *schedFaultWatch) stop() {
	w.once.Do(func() { w.cancel(); <-w.done })
}

func (w *schedFaultWatch) runs() map[string]schedSeenRun {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]schedSeenRun, len(w.seen))
	for k, v := range w.seen {
		out[k] = v
	}
	return out
}

func (w *schedFaultWatch) maxFaults() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mostFaults
}

func (w *schedFaultWatch) maxIdentities() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mostIdentities
}
