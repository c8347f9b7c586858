//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/test/cluster"
)

// crashConfig holds an abort on a VirtualService and a cordon on a node for
// ten minutes each, both started on schedule.
func crashConfig(c *cluster.Cluster, schedule string) string {
	return withMonitoring(c, expGuard+strings.ReplaceAll(`
maxConcurrentRuns: 2
experiments:
  - name: hold-abort
    schedule: "SCHEDULE"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 10m
    observe: 0s
  - name: hold-cordon
    schedule: "SCHEDULE"
    target: {kind: node, mode: one}
    action: {type: node-cordon}
    duration: 10m
    observe: 0s
`, "SCHEDULE", schedule))
}

// TestExperimentsCrashRecovery proves that faults outlive a chaosd killed
// with SIGKILL (no chance to revert) only until the next chaosd starts: it
// finds the intents recorded in the cluster, sees that no live run owns
// them, and reverts them. It measures the time from the new process's start
// until both faults are gone from the API server, without leader election
// and with it (a restarted container keeps its identity; a new replica must
// wait for the dead leader's Lease to expire).
func TestExperimentsCrashRecovery(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	first := newConfigDir(t, crashConfig(c, "@every 2s"))  // fires within seconds
	second := newConfigDir(t, crashConfig(c, "@every 1h")) // recovers, then waits
	tests := []struct {
		name          string
		first, second []string
	}{
		{name: "without leader election"},
		{
			name:   "leader election, restarted with the same identity",
			first:  []string{"--leader-elect", "--lease-name", "crash-same", "--identity", "chaosd-0"},
			second: []string{"--leader-elect", "--lease-name", "crash-same", "--identity", "chaosd-0"},
		},
		{
			name:   "leader election, replaced by a replica with a new identity",
			first:  []string{"--leader-elect", "--lease-name", "crash-new", "--identity", "chaosd-0"},
			second: []string{"--leader-elect", "--lease-name", "crash-new", "--identity", "chaosd-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertNothingLeft(t, c)
			if t.Failed() {
				t.FailNow()
			}
			specs := map[string][]byte{}
			for _, name := range []string{"go-demo-8", "repeater"} {
				specs[name] = expGetVS(t, c, cluster.DemoNamespace, name).Spec
			}

			crashed := startChaosd(t, c, first.Path, tt.first...)
			var vs, node string
			eventually(t, time.Minute, "both faults held by the first chaosd", func() bool {
				vs, node = crashHeld(context.Background(), c)
				return vs != "" && node != ""
			})
			crashed.Kill()
			if v, n := crashHeld(context.Background(), c); v != vs || n != node {
				t.Fatalf("after SIGKILL: faults on virtualservice %q node %q, want them still on %q %q", v, n, vs, node)
			}
			t.Logf("killed chaosd holding an abort on virtualservice %s and a cordon on node %s", vs, node)

			var revertedAt atomic.Int64
			start := time.Now()
			stop := expDuring(func(ctx context.Context) {
				if revertedAt.Load() == 0 && crashReverted(ctx, c, vs, node, specs[vs]) {
					revertedAt.Store(time.Now().UnixNano())
				}
			})
			t.Cleanup(stop)
			recovering := startChaosd(t, c, second.Path, tt.second...)
			ready := time.Since(start)
			eventually(t, time.Minute, "the new chaosd to revert both faults", func() bool { return revertedAt.Load() != 0 })
			stop()
			took := time.Unix(0, revertedAt.Load()).Sub(start)

			if !crashReverted(context.Background(), c, vs, node, specs[vs]) {
				t.Fatal("faults came back after the recovery")
			}
			if n := strings.Count(recovering.Log(), "recovered orphaned injection"); n != 2 {
				t.Errorf("the new chaosd logged %d recovered injections, want 2:\n%s", n, tail(recovering.Log(), 40))
			}
			expFigure(t, "crash recovery ("+tt.name+"): new process ready after", ready)
			expFigure(t, "crash recovery ("+tt.name+"): both faults reverted after the new process started", took)
			recovering.Stop(30 * time.Second)
			assertNothingLeft(t, c)
		})
	}
}

// crashHeld returns the VirtualService carrying an abort with chaosd's
// intent and the node cordoned with chaosd's intent, "" for none.
func crashHeld(ctx context.Context, c *cluster.Cluster) (vs, node string) {
	list, err := c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).List(ctx, metav1.ListOptions{LabelSelector: experiments.LabelInjected + "=true"})
	if err == nil {
		for _, v := range list.Items {
			if len(v.Spec.Http) > 0 && v.Spec.Http[0].Fault.GetAbort() != nil {
				vs = v.Name
			}
		}
	}
	if nodes, err := expMarkedNodes(ctx, c); err == nil && len(nodes) == 1 {
		node = nodes[0]
	}
	return vs, node
}

// crashReverted reports whether the VirtualService has its original spec
// and no chaosd marks, and the node is schedulable and unmarked.
func crashReverted(ctx context.Context, c *cluster.Cluster, vs, node string, spec []byte) bool {
	v, err := expFetchVS(ctx, c, cluster.DemoNamespace, vs)
	if err != nil || !bytes.Equal(v.Spec, spec) || chaosdMarked(v.Metadata.Labels, v.Metadata.Annotations) {
		return false
	}
	n, err := c.Kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	return err == nil && !n.Spec.Unschedulable && !chaosdMarked(n.Labels, n.Annotations)
}
