//go:build e2e

package e2e

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/crashpoint"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/test/cluster"
)

// crashPointsConfig has one experiment per fault kind (and per pod-kill
// method, and node and zone for cordon and drain), all hourly so the
// recovering daemon never starts one itself. LOAD_URL is the test's server.
const crashPointsConfig = `
experiments:
  - name: abort
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 1s
    observe: 0s
  - name: delay
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-delay, delay: 2s, percent: 50}
    duration: 1s
    observe: 0s
  - name: fault
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action:
      type: http-fault
      abort: {status: 500, percent: 50}
      fixedDelay: {delay: 2s, percent: 50}
    duration: 1s
    observe: 0s
  - name: kill-delete
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: pod-kill, gracePeriod: 0s}
    observe: 0s
  - name: kill-evict
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: pod-kill, method: evict, gracePeriod: 0s}
    observe: 0s
  - name: cordon-node
    schedule: "@every 1h"
    target: {kind: node, mode: one}
    action: {type: node-cordon}
    duration: 1s
    observe: 0s
  - name: cordon-zone
    schedule: "@every 1h"
    target: {kind: zone, mode: one}
    action: {type: node-cordon}
    duration: 1s
    observe: 0s
  - name: drain-node
    schedule: "@every 1h"
    target: {kind: node, podNamespace: go-demo-8, mode: one}
    action: {type: node-drain, gracePeriod: 0s, timeout: 1m}
    duration: 1s
    observe: 0s
  - name: drain-zone
    schedule: "@every 1h"
    target: {kind: zone, mode: one}
    action: {type: node-drain, gracePeriod: 0s, timeout: 1m}
    duration: 1s
    observe: 0s
  - name: delete-node
    schedule: "@every 1h"
    target: {kind: node, mode: one}
    action: {type: node-delete, restore: true}
    duration: 1s
    observe: 0s
  - name: load
    schedule: "@every 1h"
    target: {kind: url, url: LOAD_URL}
    action: {type: http-load, concurrency: 2, rate: 20, duration: 2s}
    observe: 0s
`

// crashExperiment is one experiment of crashPointsConfig and the kind of
// fault it injects.
type crashExperiment struct {
	name   string
	action config.ActionType
	zone   bool
}

// crashExperiments lists every fault kind chaosd has; the table of cases
// is generated from it and experiments.CrashPoints, so a point added to a
// kind is tested without touching this file. node-delete comes last: a
// restored Node takes a moment to be Ready again.
var crashExperiments = []crashExperiment{
	{"abort", config.ActionHTTPAbort, false},
	{"delay", config.ActionHTTPDelay, false},
	{"fault", config.ActionHTTPFault, false},
	{"kill-delete", config.ActionPodKill, false},
	{"kill-evict", config.ActionPodKill, false},
	{"cordon-node", config.ActionNodeCordon, false},
	{"cordon-zone", config.ActionNodeCordon, true},
	{"drain-node", config.ActionNodeDrain, false},
	{"drain-zone", config.ActionNodeDrain, true},
	{"load", config.ActionHTTPLoad, false},
	{"delete-node", config.ActionNodeDelete, false},
}

// crashLeaves says whether a crash at point leaves something chaosd wrote
// in the cluster (an intent, a fault, a cordon, a snapshot) for recovery
// to revert: exactly the points between the first write of an inject and
// the last write of its revert.
func crashLeaves(point string) bool {
	switch point {
	case experiments.CrashVSInjectWrite, experiments.CrashVSRevertRead,
		experiments.CrashNodeInjectMid, experiments.CrashNodeInjectWrite, experiments.CrashDrainEvicted,
		experiments.CrashNodeRevertRead, experiments.CrashNodeRevertMid,
		experiments.CrashNodeDeleteSnapshot, experiments.CrashNodeDeleteWrite, experiments.CrashNodeRestoreCreate:
		return true
	}
	return false
}

// crashInjects says whether the fault itself was applied by the time of a
// crash at point (a route fault, a cordon, a kill, a request, a delete).
func crashInjects(point string) bool {
	switch point {
	case experiments.CrashVSInjectRead, experiments.CrashNodeInjectRead, experiments.CrashNodeDeleteRead,
		experiments.CrashNodeDeleteSnapshot, experiments.CrashPodKillRead, experiments.CrashLoadStart:
		return false
	}
	return true
}

// TestExperimentsCrashPoints kills `chaosd once` (built with -tags
// chaosdcrash) at every named step of inject and revert of every fault
// kind, against the real control plane, and lets the product's restart
// path clean up: a running `chaosd run` recovers the dead process's faults.
// The dead process's liveness Lease is deleted right after the kill, which
// is what its expiry 15 s later amounts to (TestExperimentsDaemonLeavesLiveOnceFaultAlone
// and the daemon's unit tests prove the wait for it). For each case:
//
//   - the process died by SIGKILL at the named point (its marker line on
//     stderr), and left exactly what that point implies;
//   - after the daemon's recovery: no fault, no intent, no cordon, no
//     unschedulable taint, no snapshot left, no Node lost;
//   - the journal says what happened: the dead run's in-progress record,
//     and the daemon's record of the run it recovered (verdict aborted);
//   - nothing was injected twice: each object was faulted, cordoned,
//     killed or deleted at most once, and no request was sent after the
//     crash.
//
// One control plane and one daemon serve every case; the wall time is
// logged as "FIGURE crash points".
func TestExperimentsCrashPoints(t *testing.T) {
	start := time.Now()
	opts := cluster.FullOptions()
	opts.Nodes = 6 // two per zone: a zone fault has a first node and a next
	c := expStart(t, opts)
	bin := crashBinary(t)

	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	cfg := newConfigDir(t, withMonitoring(c, expGuard+strings.ReplaceAll(crashPointsConfig, "LOAD_URL", srv.URL)))

	proxy := cluster.NewAPIProxy(t, c)
	passes := proxy.Count(safetyRecoveryList)
	daemonJournal := filepath.Join(t.TempDir(), "daemon-journal")
	daemon := startChaosdVia(t, c, proxy.Kubeconfig, cfg.Path, "--identity", "e2e-crash-daemon", "--recover-every", "1s",
		"--journal-dir", daemonJournal)

	type crashCase struct {
		exp   crashExperiment
		point string
	}
	var cases []crashCase
	hit := map[config.ActionType]map[string]bool{}
	for _, e := range crashExperiments {
		for _, p := range experiments.CrashPoints(e.action, e.zone) {
			cases = append(cases, crashCase{e, p})
		}
	}
	for _, tc := range cases {
		t.Run(tc.exp.name+"/"+tc.point, func(t *testing.T) {
			crashCheckClean(t, c)
			if tc.exp.action == config.ActionPodKill || tc.exp.action == config.ActionNodeDrain {
				expWaitDemoAvailable(t, c, 2*time.Minute) // the PDBs allow a disruption again
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			count := crashWatch(ctx, t, c)
			nodesBefore := slices.Sorted(func(yield func(string) bool) {
				for n := range expNodes(t, c) {
					if !yield(n) {
						return
					}
				}
			})
			hits.Store(0)

			run := crashOnce(t, c, bin, cfg.Path, tc.exp.name, tc.point)
			left, err := chaosdLeftovers(ctx, c.Kube, c.Istio)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(left) > 0; got != crashLeaves(tc.point) {
				// Not fatal: recovery below still cleans up for the next case.
				t.Errorf("after the crash at %s: leftovers %q, want some: %v", tc.point, left, crashLeaves(tc.point))
			}
			hitsAtCrash := hits.Load()

			crashExpireLease(t, c)
			p0 := passes()
			eventually(t, time.Minute, "two recovery passes of the daemon after the crash", func() bool { return passes() >= p0+2 })
			eventually(t, time.Minute, "nothing left after recovery", func() bool {
				left, err := chaosdLeftovers(ctx, c.Kube, c.Istio)
				return err == nil && len(left) == 0 && crashTaintedNodes(ctx, c) == ""
			})
			crashCheckClean(t, c)
			eventually(t, time.Minute, "every Node back", func() bool {
				return slices.Equal(nodesBefore, slices.Sorted(func(yield func(string) bool) {
					for n := range expNodes(t, c) {
						if !yield(n) {
							return
						}
					}
				}))
			})

			// The journal: the dead run's own in-progress record, and the
			// daemon's record of what it recovered.
			if run.RunID == "" || run.Verdict != "" || len(run.Selection.Chosen) == 0 {
				t.Errorf("the crashed run's journal: run %q verdict %q chose %v, want an in-progress record naming its target",
					run.RunID, run.Verdict, run.Selection.Chosen)
			}
			rec, found := crashJournal(t, daemonJournal, run.RunID)
			switch {
			case crashLeaves(tc.point) && !found:
				t.Errorf("the daemon's journal has no record of run %s, whose faults it recovered:\n%s", run.RunID, tail(daemon.Log(), 30))
			case crashLeaves(tc.point) && (rec.Verdict != "aborted" || !strings.Contains(crashTimeline(rec), "recovered by e2e-crash-daemon")):
				t.Errorf("the daemon's record of run %s: verdict %q, timeline %s; want aborted and recovered by e2e-crash-daemon",
					run.RunID, rec.Verdict, crashTimeline(rec))
			case !crashLeaves(tc.point) && found:
				t.Errorf("the daemon journaled run %s although nothing of it was left: %s", run.RunID, crashTimeline(rec))
			}

			// Nothing injected twice.
			cancel()
			got := count.wait()
			want := 0
			if crashInjects(tc.point) {
				want = 1
			}
			for obj, n := range got.perObject {
				if n > 1 {
					t.Errorf("%s was faulted %d times", obj, n)
				}
			}
			switch tc.exp.action {
			case config.ActionHTTPLoad:
				if after := hits.Load(); after != hitsAtCrash || (hitsAtCrash > 0) != crashInjects(tc.point) {
					t.Errorf("requests: %d at the crash, %d after recovery; want none after the crash, some before: %v", hitsAtCrash, after, crashInjects(tc.point))
				}
			case config.ActionPodKill:
				if got.kinds["pod"] != want {
					t.Errorf("pods killed: %d, want %d (%v)", got.kinds["pod"], want, got.perObject)
				}
			case config.ActionNodeDelete:
				if got.kinds["node-deleted"] != want {
					t.Errorf("nodes deleted: %d, want %d (%v)", got.kinds["node-deleted"], want, got.perObject)
				}
			case config.ActionNodeCordon, config.ActionNodeDrain:
				if got.kinds["cordon"] < want {
					t.Errorf("nodes cordoned: %d, want at least one (%v)", got.kinds["cordon"], got.perObject)
				}
			default:
				if got.kinds["virtualservice"] != want {
					t.Errorf("virtualservices faulted: %d, want %d (%v)", got.kinds["virtualservice"], want, got.perObject)
				}
			}
			if hit[tc.exp.action] == nil {
				hit[tc.exp.action] = map[string]bool{}
			}
			hit[tc.exp.action][tc.point] = !t.Failed()
		})
	}
	// Coverage: every point of every kind's step list was hit and passed
	// (unless -run picked some cases only).
	if run := flag.Lookup("test.run"); run != nil && strings.Contains(run.Value.String(), "/") {
		t.Logf("-run %s selects some cases only: coverage not checked", run.Value)
		return
	}
	for _, e := range crashExperiments {
		for _, p := range experiments.CrashPoints(e.action, e.zone) {
			if !hit[e.action][p] {
				t.Errorf("crash point %s of %s (%s) was not covered by a passing case", p, e.action, e.name)
			}
		}
	}
	daemon.Stop(30 * time.Second)
	t.Logf("FIGURE crash points: %d cases (fault kind x crash point) in %s", len(cases), time.Since(start).Round(time.Second))
}

// crashBinary returns $CHAOSD_CRASH_BIN, or builds chaosd with -tags
// chaosdcrash once per test binary.
func crashBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("CHAOSD_CRASH_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "chaosd-crash")
	out, err := exec.Command("go", "build", "-tags", "chaosdcrash", "-o", bin, "github.com/chaosd/chaosd/cmd/chaosd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -tags chaosdcrash: %v\n%s", err, out)
	}
	return bin
}

// crashOnce runs the crash build's `chaosd once` armed at point, fails
// unless it died by SIGKILL right after writing that point's marker, and
// returns the run's in-progress journal record.
func crashOnce(t *testing.T, c *cluster.Cluster, bin, cfgPath, experiment, point string) journal.Record {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // hang guard
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "once", experiment, "--config", cfgPath, "--kubeconfig", c.Kubeconfig,
		"--namespace", chaosdNamespace, "--journal-dir", dir, "--log-format", "json", "--identity", "e2e-crash")
	cmd.Env = append(os.Environ(), crashpoint.EnvVar+"="+point)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	marker := crashpoint.Marker + point + "\n"
	if err == nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL || !strings.HasSuffix(out.String(), marker) {
		t.Fatalf("chaosd once %s armed at %s: %v (%v), want killed right after %q:\n%s", experiment, point, err, ws, marker, tail(out.String(), 30))
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("want the crashed run's journal file in %s, got %v (%v)", dir, files, err)
	}
	rec, err := journal.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// crashExpireLease deletes the liveness Leases of the crashed once
// processes: what their expiry does, without waiting 15 s for it.
func crashExpireLease(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	ctx := context.Background()
	leases, err := c.Kube.CoordinationV1().Leases(chaosdNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leases.Items {
		if h := l.Spec.HolderIdentity; h != nil && strings.HasPrefix(*h, "e2e-crash-once-") {
			if err := c.Kube.CoordinationV1().Leases(chaosdNamespace).Delete(ctx, l.Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// crashCheckClean fails the test now if any chaosd fault or unschedulable
// taint is left: the next case would start from a dirty cluster.
func crashCheckClean(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	assertNothingLeft(t, c)
	if tainted := crashTaintedNodes(context.Background(), c); tainted != "" {
		t.Errorf("a node keeps the unschedulable taint: %s", tainted)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// crashTaintedNodes names the nodes carrying the taint the node controller
// adds to cordoned nodes, "" for none (and on a read error: the caller
// retries).
func crashTaintedNodes(ctx context.Context, c *cluster.Cluster) string {
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "cannot list nodes: " + err.Error()
	}
	var tainted []string
	for _, n := range nodes.Items {
		for _, tn := range n.Spec.Taints {
			if tn.Key == corev1.TaintNodeUnschedulable {
				tainted = append(tainted, n.Name)
			}
		}
	}
	return strings.Join(tainted, ",")
}

// crashJournal reads the record of run from a journal directory.
func crashJournal(t *testing.T, dir, run string) (journal.Record, bool) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*-"+run+".json"))
	if len(files) == 0 {
		return journal.Record{}, false
	}
	rec, err := journal.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return rec, true
}

func crashTimeline(rec journal.Record) string {
	var b strings.Builder
	for _, e := range rec.Timeline {
		fmt.Fprintf(&b, "\n  %s %s %s %s", e.Phase, e.Target, e.Message, e.Error)
	}
	return b.String()
}

// crashCounts is how often each object was faulted: a VirtualService
// gaining a route fault, a Node becoming unschedulable or deleted, a pod
// of the demo marked for deletion.
type crashCounts struct {
	perObject map[string]int
	kinds     map[string]int
}

type crashCounter struct {
	mu   sync.Mutex
	c    crashCounts
	done sync.WaitGroup
}

func (k *crashCounter) add(kind, obj string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.c.perObject[kind+" "+obj]++
	k.c.kinds[kind]++
}

// wait returns the counts once every watch has stopped (cancel its ctx).
func (k *crashCounter) wait() crashCounts {
	k.done.Wait()
	return k.c
}

// crashWatch watches VirtualServices, Nodes and the demo's pods from now
// until ctx ends and counts each object's transitions into a faulted state.
func crashWatch(ctx context.Context, t *testing.T, c *cluster.Cluster) *crashCounter {
	t.Helper()
	k := &crashCounter{c: crashCounts{perObject: map[string]int{}, kinds: map[string]int{}}}
	vsFaulted := func(vs *istiov1.VirtualService) bool {
		for _, r := range vs.Spec.Http {
			if r.Fault != nil {
				return true
			}
		}
		return false
	}
	vss, err := c.Istio.NetworkingV1().VirtualServices(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vsState := map[string]bool{}
	for _, vs := range vss.Items {
		vsState[vs.Namespace+"/"+vs.Name] = vsFaulted(vs)
	}
	vsW, err := c.Istio.NetworkingV1().VirtualServices(metav1.NamespaceAll).Watch(ctx, metav1.ListOptions{ResourceVersion: vss.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cordoned := map[string]bool{}
	for _, n := range nodes.Items {
		cordoned[n.Name] = n.Spec.Unschedulable
	}
	nodeW, err := c.Kube.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{ResourceVersion: nodes.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dying := map[types.UID]bool{}
	for _, p := range pods.Items {
		dying[p.UID] = p.DeletionTimestamp != nil
	}
	podW, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).Watch(ctx, metav1.ListOptions{ResourceVersion: pods.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	follow := func(w watch.Interface, on func(watch.Event)) {
		k.done.Add(1)
		go func() {
			defer k.done.Done()
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						return
					}
					on(ev)
				}
			}
		}()
	}
	follow(vsW, func(ev watch.Event) {
		vs, ok := ev.Object.(*istiov1.VirtualService)
		if !ok {
			return
		}
		key := vs.Namespace + "/" + vs.Name
		now := ev.Type != watch.Deleted && vsFaulted(vs)
		if now && !vsState[key] {
			k.add("virtualservice", key)
		}
		vsState[key] = now
	})
	follow(nodeW, func(ev watch.Event) {
		n, ok := ev.Object.(*corev1.Node)
		if !ok {
			return
		}
		if ev.Type == watch.Deleted {
			k.add("node-deleted", n.Name)
			cordoned[n.Name] = false
			return
		}
		if n.Spec.Unschedulable && !cordoned[n.Name] {
			k.add("cordon", n.Name)
		}
		cordoned[n.Name] = n.Spec.Unschedulable
	})
	follow(podW, func(ev watch.Event) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		if (ev.Type == watch.Deleted || p.DeletionTimestamp != nil) && !dying[p.UID] {
			dying[p.UID] = true
			k.add("pod", p.Namespace+"/"+p.Name)
		}
	})
	return k
}
