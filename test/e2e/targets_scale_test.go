//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/chaosd/chaosd/internal/targets"
	"github.com/chaosd/chaosd/test/cluster"
)

// Scale measurements of target picking. The suite runs them at 10 000 pods
// (about two minutes here); larger sizes are opt-in:
//
//	CHAOSD_E2E_SCALE=10000   pods, as namespaces × 10 Deployments × 10 replicas
//	                         (10000 → 100 namespaces; 100000 → 1000); the default
//	CHAOSD_E2E_SCALE_PICKS   picks per experiment for the latency figures (200)
//	CHAOSD_E2E_SCALE_ROLLOUT how long the pods may take to become available
//	                         (20m); past it, the measurements run on the pods
//	                         that exist, and the log says how many run
//	CHAOSD_E2E_SCALE_MEMLIMITS GOMEMLIMIT values to measure chaosd run with,
//	                         besides none, comma-separated (48MiB)
//
// Nothing is asserted about speed or size: the figures are logged (and go
// into docs/benchmarks.md, "Targets", with the command for each row); the
// assertions are about correctness: every pick finds one pod, and the
// inventory and the real binary see the pods that exist.

// targetsScaleExperiments are what a pick at scale looks like: one walks
// every pod's metadata (no selector at all), the other narrows to one
// Deployment's pods first, as most real experiments do.
const targetsScaleExperiments = `experiments:
  - name: any-pod
    schedule: "@every 1s"
    target: {kind: pod, mode: one}
    action: {type: pod-kill}
    observe: 0s
  - name: one-app
    schedule: "@every 1s"
    target: {kind: pod, namespaceSelector: chaosd-e2e/bulk=true, selector: app=app-003, mode: one}
    action: {type: pod-kill}
    observe: 0s
`

// TestTargetsScale measures, at CHAOSD_E2E_SCALE pods: the inventory's sync
// time, heap and bytes transferred; pick latency and bytes per pick; what
// one full pod LIST (the naive approach, per tick) transfers; and the peak
// RSS of the real `chaosd run` picking in dry-run, with and without
// GOMEMLIMIT.
func TestTargetsScale(t *testing.T) {
	pods := 10000
	if v := os.Getenv("CHAOSD_E2E_SCALE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("CHAOSD_E2E_SCALE=%q: want a positive pod count", v)
		}
		pods = n
	}
	picks := e2eEnvInt("CHAOSD_E2E_SCALE_PICKS", 200)
	rollout := 20 * time.Minute
	if v := os.Getenv("CHAOSD_E2E_SCALE_ROLLOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CHAOSD_E2E_SCALE_ROLLOUT=%q: %v", v, err)
		}
		rollout = d
	}
	const deployments, replicas = 10, 10
	namespaces := max(1, (pods+99)/100)
	pods = namespaces * deployments * replicas
	// Fewer, larger nodes schedule faster; keep 10% headroom.
	const podsPerNode = 2500
	nodes := max(3, (pods*11/10+podsPerNode-1)/podsPerNode)
	// The test creates each Deployment's ReplicaSet and pods itself, bound
	// to nodes (ApplyBulkBound): on two cores, the controllers, the
	// scheduler and their Events could not bring 100k pods up in time.
	c := cluster.Start(t, cluster.Options{Kwok: true, Nodes: nodes, PodsPerNode: podsPerNode, NoWorkloadControllers: true, StartTimeout: 10 * time.Minute})
	if c.External() {
		t.Skip("a scale test would load someone else's cluster")
	}
	cfg := targetsParse(t, targetsScaleExperiments)

	// The binary's fixed cost, on an empty cluster.
	t.Run("chaosd run peak RSS without pods", func(t *testing.T) { targetsMeasureChaosd(t, c, "", 6) })

	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), rollout)
	defer cancel()
	if err := c.ApplyBulkBound(ctx, namespaces, deployments, replicas); err != nil {
		t.Fatal(err)
	}
	created := time.Since(begin)
	if err := c.WaitBulkPodsReady(ctx, pods); err != nil {
		t.Logf("rollout incomplete after %s: %v; measuring what exists", rollout, err)
	}
	existing, running := targetsCountPods(t, c), targetsCountRunning(t, c)
	t.Logf("cluster: %d pods wanted in %d namespaces on %d nodes; Deployments, ReplicaSets and pods created in %s; after %s %d pods exist, %d running",
		pods, namespaces, nodes, created.Round(time.Second), time.Since(begin).Round(time.Second), existing, running)

	t.Run("inventory and picks in process", func(t *testing.T) {
		counter := &targetsByteCounter{}
		kube, meta := targetsCountingClients(t, c, counter)
		runtime.GC()
		heapBefore := targetsHeapInuse()
		src := targets.NewClusterSource(targets.ClusterOptions{Kube: kube, Metadata: meta})
		srcCtx, stop := context.WithCancel(context.Background())
		defer stop()
		syncStart := time.Now()
		src.Start(srcCtx)
		syncCtx, done := context.WithTimeout(srcCtx, 5*time.Minute)
		defer done()
		if !src.WaitForCacheSync(syncCtx) {
			t.Fatal("inventory did not sync within 5m")
		}
		syncTook := time.Since(syncStart)
		// Nothing changes the pods after the rollout: the inventory must hold
		// exactly the pods the API server has.
		index, err := src.Pods(srcCtx)
		if err != nil {
			t.Fatal(err)
		}
		if inInventory, now := index.Len(), targetsCountPods(t, c); inInventory != now {
			t.Errorf("the inventory holds %d pods, the API server %d", inInventory, now)
		}
		runtime.GC()
		heap := targetsHeapInuse() - heapBefore
		syncBytes := counter.total()
		t.Logf("inventory: synced %d pods in %s, %s transferred (%d B/pod), live heap +%s (%d B/pod)",
			existing, syncTook.Round(time.Millisecond), targetsMiB(syncBytes), syncBytes/int64(max(existing, 1)),
			targetsMiB(int64(heap)), int64(heap)/int64(max(existing, 1)))

		picker := targets.NewPicker(targets.Options{Source: src, OwnNamespace: chaosdNamespace})
		for _, name := range []string{"any-pod", "one-app"} {
			exp, _ := cfg.Experiment(name)
			policy := cfg.PolicyFor(exp)
			var lat []time.Duration
			var considered int
			liveBefore := counter.live()
			for seed := range uint64(picks) {
				start := time.Now()
				res, err := picker.Pick(context.Background(), exp, policy, rand.New(rand.NewPCG(seed, seed)))
				lat = append(lat, time.Since(start))
				if err != nil {
					t.Fatalf("%s seed %d: %v", name, seed, err)
				}
				if len(res.Targets) != 1 {
					t.Fatalf("%s seed %d: picked %v of %d considered, rejected %v; want one pod", name, seed, res.Targets, res.Considered, res.Rejected)
				}
				considered = res.Considered
			}
			perPick := (counter.live() - liveBefore) / int64(picks)
			slices.Sort(lat)
			t.Logf("pick %s: %d picks over %d candidates: p50 %s, p99 %s, max %s; %d B read from the API server per pick",
				name, picks, considered, targetsPct(lat, 50), targetsPct(lat, 99), lat[len(lat)-1].Round(time.Microsecond), perPick)
		}

		// The naive approach: list every pod in full, as a daemon that
		// re-lists each tick does. Paged like kubectl (500 per page).
		runtime.GC()
		liveBefore, heapBefore := counter.live(), targetsHeapInuse()
		listStart := time.Now()
		n, opts := 0, metav1.ListOptions{Limit: 500}
		for {
			list, err := kube.CoreV1().Pods(metav1.NamespaceAll).List(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			n += len(list.Items)
			if opts.Continue = list.Continue; opts.Continue == "" {
				break
			}
		}
		t.Logf("full pod LIST (paged 500): %d pods in %s, %s transferred (%d B/pod)",
			n, time.Since(listStart).Round(time.Millisecond), targetsMiB(counter.live()-liveBefore), (counter.live()-liveBefore)/int64(max(n, 1)))
		if n > 20000 {
			return // holding one unpaged list of every pod grows with n; 10k shows the slope
		}
		runtime.GC()
		liveBefore = counter.live()
		listStart = time.Now()
		all, err := kube.CoreV1().Pods(metav1.NamespaceAll).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("full pod LIST (one response): %d pods in %s, %s transferred, live heap +%s holding the list",
			len(all.Items), time.Since(listStart).Round(time.Millisecond), targetsMiB(counter.live()-liveBefore), targetsMiB(int64(targetsHeapInuse()-heapBefore)))
		runtime.KeepAlive(all)
	})

	t.Run("chaosd run peak RSS", func(t *testing.T) {
		t.Run("default", func(t *testing.T) { targetsMeasureChaosd(t, c, "", 30) })
		limits := os.Getenv("CHAOSD_E2E_SCALE_MEMLIMITS")
		if limits == "" {
			limits = "48MiB"
		}
		for limit := range strings.SplitSeq(limits, ",") {
			t.Run("GOMEMLIMIT="+limit, func(t *testing.T) { targetsMeasureChaosd(t, c, limit, 30) })
		}
	})
}

// targetsMeasureChaosd runs `chaosd run` in dry-run, picking every second,
// until wantRuns runs finished, and logs its peak and current RSS, heap,
// CPU time and GC count. memLimit "" runs without GOMEMLIMIT.
func targetsMeasureChaosd(t *testing.T, c *cluster.Cluster, memLimit string, wantRuns float64) {
	t.Helper()
	if memLimit == "" {
		memLimit = "off"
	}
	t.Setenv("GOMEMLIMIT", memLimit) // inherited by the chaosd process
	// A dry-run benchmark of picks: no guard, so that no preflight stands
	// between the scheduler and the picker, opted out of explicitly.
	cfgDir := newConfigDir(t, "dryRun: true\nguard: {unguarded: true}\n"+targetsScaleExperiments)
	begin := time.Now()
	p := startChaosd(t, c, cfgDir.Path, "--log-level", "warn")
	ready := time.Since(begin)
	pid := p.cmd.Process.Pid
	// Let it pick for a while: every second, one experiment at a time.
	deadline := time.Now().Add(3 * time.Minute)
	runs := 0.0
	for time.Now().Before(deadline) {
		if runs = targetsMetricSum(t, p.URL, "chaosd_runs_total"); runs >= wantRuns {
			break
		}
		time.Sleep(time.Second)
	}
	hwm, rss := targetsProcStatus(t, pid, "VmHWM"), targetsProcStatus(t, pid, "VmRSS")
	anon, file := targetsProcStatus(t, pid, "RssAnon"), targetsProcStatus(t, pid, "RssFile")
	heap := targetsMetricSum(t, p.URL, "go_memstats_heap_inuse_bytes")
	noTarget := targetsMetricSum(t, p.URL, "chaosd_runs_no_target_total")
	cpu, gcs := targetsMetricSum(t, p.URL, "process_cpu_seconds_total"), targetsMetricSum(t, p.URL, "go_gc_duration_seconds_count")
	t.Logf("chaosd run (GOMEMLIMIT=%s): ready in %s; %.0f dry-run picks (%.0f without target) in %s: peak RSS (VmHWM) %s, RSS now %s (anonymous %s, file-backed %s), heap in use %s; %.1f CPU s, %.0f GCs",
		memLimit, ready.Round(time.Millisecond), runs, noTarget, time.Since(begin).Round(time.Second), targetsMiB(hwm), targetsMiB(rss),
		targetsMiB(anon), targetsMiB(file), targetsMiB(int64(heap)), cpu, gcs)
	if runs < 1 {
		t.Errorf("no run finished within 3m:\n%s", tail(p.Log(), 40))
	}
	p.Stop(30 * time.Second)
}

// targetsByteCounter counts response body bytes read from the API server,
// split into watches (the informers' streams) and everything else (the
// picks' live reads and any LIST).
type targetsByteCounter struct {
	watch, other atomic.Int64
}

func (b *targetsByteCounter) live() int64  { return b.other.Load() }
func (b *targetsByteCounter) total() int64 { return b.watch.Load() + b.other.Load() }

type targetsCountingRT struct {
	next http.RoundTripper
	n    *targetsByteCounter
}

func (rt targetsCountingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	into := &rt.n.other
	if req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1" {
		into = &rt.n.watch
	}
	resp.Body = &targetsCountingBody{ReadCloser: resp.Body, n: into}
	return resp, nil
}

type targetsCountingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *targetsCountingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// targetsCountingClients builds kube and metadata clients as `chaosd run`
// does, but without its client-side rate limit (50 QPS, burst 100: 200
// back-to-back picks would measure the token bucket), counting what they
// read. Bodies are counted
// after the transport's transparent gzip decoding, so the figures are an
// upper bound on bytes on the wire.
func targetsCountingClients(t testing.TB, c *cluster.Cluster, n *targetsByteCounter) (kubernetes.Interface, metadata.Interface) {
	t.Helper()
	cfg := rest.CopyConfig(c.RESTConfig)
	cfg.QPS = -1 // no client-side limit: measure the pick, not the token bucket
	cfg.UserAgent = "chaosd-scale-test"
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return targetsCountingRT{next: rt, n: n} })
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kube, meta
}

// targetsCountPods counts every pod from one LIST of one item: the
// server's remainingItemCount.
func targetsCountPods(t testing.TB, c *cluster.Cluster) int {
	t.Helper()
	list, err := c.Kube.CoreV1().Pods(metav1.NamespaceAll).List(context.Background(), metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := len(list.Items)
	if list.RemainingItemCount != nil {
		n += int(*list.RemainingItemCount)
	}
	return n
}

// targetsCountRunning counts pods in phase Running, paged.
func targetsCountRunning(t testing.TB, c *cluster.Cluster) int {
	t.Helper()
	n, opts := 0, metav1.ListOptions{Limit: 500, FieldSelector: "status.phase=Running"}
	for {
		list, err := c.Kube.CoreV1().Pods(metav1.NamespaceAll).List(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		n += len(list.Items)
		if opts.Continue = list.Continue; opts.Continue == "" {
			return n
		}
	}
}

// targetsProcStatus reads a size field (kB) of /proc/<pid>/status, in bytes.
func targetsProcStatus(t testing.TB, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parse %s %q: %v", field, rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// targetsMetricSum sums every sample of a metric on chaosd's /metrics.
func targetsMetricSum(t testing.TB, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

func targetsHeapInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func targetsMiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func targetsPct(sorted []time.Duration, p int) time.Duration {
	i := min(len(sorted)-1, (len(sorted)*p+99)/100-1)
	return sorted[max(i, 0)].Round(time.Microsecond)
}

func e2eEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
