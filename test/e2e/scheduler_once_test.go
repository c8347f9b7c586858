//go:build e2e

package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/test/cluster"
)

// demoUnhealthyRules fires DemoUnhealthy as soon as the demo exporter says
// demo_healthy 0. Tests that need a guard use it with the demo exporter.
const demoUnhealthyRules = `groups:
- name: e2e
  rules:
  - alert: DemoUnhealthy
    expr: demo_healthy == 0
    for: 0s
    labels: {severity: critical}
    annotations: {summary: the demo service reports unhealthy}
`

// onceConfig has one experiment per outcome `chaosd once` must report.
const onceConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  prometheus:
    url: PROMETHEUS_URL
    checks: [{name: demo healthy, expr: demo_healthy, min: 1}]
  pollInterval: 500ms
experiments:
  - name: abort
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: "", mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 4s
    observe: 1s
    # go-demo-8 carries no requests here: exit 7 (no-effect) has its own test.
    landing: {disabled: true}
  - name: abort-until-halted
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 2m
    observe: 1s
  - name: abort-missing-route
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50, route: {host: no-such-host}}
    duration: 2s
    observe: 0s
  - name: hold
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 10m
    observe: 0s
`

// TestSchedulerOnceExitCodes proves `chaosd once` turns verdicts into the
// exit codes CD pipelines branch on: 0 passed, 1 weakness, 2 error, 3 skipped,
// 4 aborted (stopped before a verdict, faults reverted).
func TestSchedulerOnceExitCodes(t *testing.T) {
	opts := cluster.FullOptions()
	opts.Prometheus.Rules = demoUnhealthyRules
	c := cluster.Start(t, opts)
	ensureChaosdNamespace(t, c)
	waitForScrape(t, c)
	cfg := newConfigDir(t, withMonitoring(c, onceConfig))
	once := func(t *testing.T, experiment string) (int, string) {
		return runChaosdCommand(t, c, 3*time.Minute, "once", experiment, "--config", cfg.Path,
			"--namespace", chaosdNamespace, "--journal-dir", t.TempDir(), "--log-format", "json")
	}

	t.Run("passed exits 0", func(t *testing.T) {
		code, out := once(t, "abort")
		if code != 0 || !strings.Contains(out, "PASSED") {
			t.Fatalf("exit %d, want 0 and PASSED:\n%s", code, out)
		}
	})
	t.Run("weakness exits 1", func(t *testing.T) {
		// Turn the demo unhealthy once chaosd's fault is in a VirtualService
		// (the experiment picks one of the namespace's at random). The fault
		// is held for 2 minutes, so the alert has ample time to halt it on a
		// busy machine; a halt ends the run at once.
		defer unhealthyOnceFaultIn(c)()
		code, out := once(t, "abort-until-halted")
		if code != 1 || !strings.Contains(out, "WEAKNESS") {
			t.Fatalf("exit %d, want 1 and WEAKNESS:\n%s", code, out)
		}
	})
	t.Run("skipped while an alert blocks exits 3", func(t *testing.T) {
		c.Exporter.SetHealthy(false)
		defer c.Exporter.SetHealthy(true)
		eventually(t, 30*time.Second, "DemoUnhealthy active in Alertmanager", func() bool { return alertActive(t, c, "DemoUnhealthy") })
		code, out := once(t, "abort")
		if code != 3 || !strings.Contains(out, "SKIPPED") {
			t.Fatalf("exit %d, want 3 and SKIPPED:\n%s", code, out)
		}
	})
	t.Run("error exits 2", func(t *testing.T) {
		c.Exporter.SetHealthy(true)
		eventually(t, 30*time.Second, "DemoUnhealthy resolved", func() bool { return !alertActive(t, c, "DemoUnhealthy") })
		code, out := once(t, "abort-missing-route")
		if code != 2 || !strings.Contains(out, "ERROR") {
			t.Fatalf("exit %d, want 2 and ERROR:\n%s", code, out)
		}
		if code, out := once(t, "no-such-experiment"); code != 2 || !strings.Contains(out, "no experiment named") {
			t.Fatalf("unknown experiment: exit %d, want 2:\n%s", code, out)
		}
	})
	t.Run("aborted by SIGTERM exits 4", func(t *testing.T) {
		o := safetyStartOnce(t, c, cfg.Path, "hold")
		eventually(t, time.Minute, "the once-run's fault in a VirtualService of go-demo-8", func() bool {
			list, err := c.Istio.NetworkingV1().VirtualServices("go-demo-8").List(context.Background(), metav1.ListOptions{LabelSelector: "chaosd.io/injected=true"})
			return err == nil && len(list.Items) > 0
		})
		if err := o.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM chaosd once: %v", err)
		}
		safetyWait(t, o.done, time.Minute, "chaosd once to revert and exit after SIGTERM") // hang guard
		if code := o.cmd.ProcessState.ExitCode(); code != 4 || !strings.Contains(o.out.String(), "ABORTED") {
			t.Fatalf("exit %d, want 4 and ABORTED:\n%s", code, tail(o.out.String(), 40))
		}
		assertNothingLeft(t, c)
	})
	t.Run("no fault left behind", func(t *testing.T) { assertNothingLeft(t, c) })
}

// unhealthyOnceFaultIn turns the demo unhealthy as soon as a chaosd fault
// is in one of go-demo-8's VirtualServices (a run picks one at random), for
// tests that need a halt while the fault is held; it gives up after a
// minute (a bound, not an assertion). The returned func makes the demo
// healthy again.
func unhealthyOnceFaultIn(c *cluster.Cluster) (restore func()) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for ctx.Err() == nil {
			list, err := c.Istio.NetworkingV1().VirtualServices("go-demo-8").List(ctx, metav1.ListOptions{LabelSelector: "chaosd.io/injected=true"})
			if err == nil && len(list.Items) > 0 {
				c.Exporter.SetHealthy(false)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() { c.Exporter.SetHealthy(true) }
}
