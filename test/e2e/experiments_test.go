//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
	"github.com/chaosd/chaosd/test/cluster"
)

// The experiments e2e tests prove each action kind against the real local
// control plane: through `chaosd once` (the user-facing path, judged and
// journaled) wherever possible, and through experiments.Engine on the
// cluster's clients where a test needs to hold a fault for as long as the
// cluster takes to react (node-delete and pod garbage collection).

const podKillConfig = `
policies:
  ignore-pdbs: {respectPodDisruptionBudgets: false}
experiments:
  - name: kill-api
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: pod-kill, gracePeriod: 0s}
    observe: 1s
  - name: evict-db
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8-db, mode: one}
    action: {type: pod-kill, method: evict}
    observe: 1s
  - name: evict-db-ignoring-pdbs
    schedule: "@every 1h"
    policy: ignore-pdbs
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8-db, mode: one}
    action: {type: pod-kill, method: evict}
    observe: 0s
`

// TestExperimentsPodKill proves pod-kill: a Deployment's pod is deleted and
// a Ready replacement is journaled; the database pod is evicted through the
// Eviction API, which a PodDisruptionBudget can refuse.
func TestExperimentsPodKill(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	cfg := newConfigDir(t, withMonitoring(c, expGuard+podKillConfig))

	t.Run("deployment pod killed and replaced", func(t *testing.T) {
		before := expPodUIDs(t, c, "app=go-demo-8")
		// Pod conditions have one-second timestamps, so the journal's
		// readyAfterSeconds is 0 for a sub-second replacement: watch too.
		var killSeen, readySeen atomic.Int64
		stop := expDuring(func(ctx context.Context) {
			list, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=go-demo-8"})
			if err != nil {
				return
			}
			now, live := time.Now().UnixNano(), 0
			for _, p := range list.Items {
				_, old := before[p.Name]
				if old && p.DeletionTimestamp == nil {
					live++
				}
				if !old && p.DeletionTimestamp == nil && expPodIsReady(&p) && readySeen.Load() == 0 {
					readySeen.Store(now)
				}
			}
			if live < len(before) && killSeen.Load() == 0 {
				killSeen.Store(now)
			}
		})
		t.Cleanup(stop)
		r := expOnce(t, c, cfg.Path, "kill-api")
		stop()
		expWantVerdict(t, r, 0, "passed")
		killed := expChosenPod(t, r)
		if _, ok := before[killed]; !ok {
			t.Fatalf("killed pod %s was not one of the Deployment's pods %v", killed, before)
		}
		rep := r.Rec.Replacement
		if rep == nil || !rep.Ready || rep.ReplacedBy == "" || rep.Owner == "" {
			t.Fatalf("journal replacement = %+v, want a ready replacement", rep)
		}
		if _, old := before[rep.ReplacedBy]; old {
			t.Fatalf("replacement %s existed before the kill", rep.ReplacedBy)
		}
		expWantPodGone(t, c, killed, before[killed])
		expWantPodReady(t, c, rep.ReplacedBy)
		if killSeen.Load() == 0 || readySeen.Load() == 0 {
			t.Fatalf("never saw the kill (%d) and a new Ready pod (%d) while chaosd ran", killSeen.Load(), readySeen.Load())
		}
		expFigure(t, "pod-kill: journal replacement.readyAfterSeconds (1 s timestamp resolution)", time.Duration(rep.ReadyAfterSeconds*float64(time.Second)))
		// 0 means both were first seen by the same 50ms poll.
		expFigure(t, "pod-kill: kill to replacement Ready, watched every 50ms", time.Duration(readySeen.Load()-killSeen.Load()))
		expFigure(t, "chaosd once kill-api wall time", r.Took)
		expWaitDemoAvailable(t, c, time.Minute)
	})

	t.Run("database pod evicted", func(t *testing.T) {
		before := expPodUIDs(t, c, "app=go-demo-8-db")
		r := expOnce(t, c, cfg.Path, "evict-db")
		expWantVerdict(t, r, 0, "passed")
		killed := expChosenPod(t, r)
		if _, ok := before[killed]; !ok {
			t.Fatalf("evicted pod %s was not the database pod %v", killed, before)
		}
		if rep := r.Rec.Replacement; rep == nil || !rep.Ready {
			t.Fatalf("journal replacement = %+v, want a ready replacement", rep)
		}
		expWantPodGone(t, c, killed, before[killed])
		expWaitDemoAvailable(t, c, time.Minute)
	})

	t.Run("eviction refused by a PodDisruptionBudget", func(t *testing.T) {
		// Only the Eviction API consults PDBs: a refusal proves evict is
		// not a plain delete.
		expCreatePDB(t, c, "e2e-db-no-disruption", "app=go-demo-8-db", intstr.FromInt32(0))
		before := expPodUIDs(t, c, "app=go-demo-8-db")

		r := expOnce(t, c, cfg.Path, "evict-db-ignoring-pdbs")
		expWantVerdict(t, r, 2, "error")
		if !strings.Contains(r.Rec.Reason, "blocked by PodDisruptionBudget") {
			t.Fatalf("reason %q does not say the PDB blocked the eviction", r.Rec.Reason)
		}
		if after := expPodUIDs(t, c, "app=go-demo-8-db"); !expSameUIDs(before, after) {
			t.Fatalf("database pods changed although the eviction was refused: %v -> %v", before, after)
		}

		// With PDBs respected (the default), the picker does not even try.
		r = expOnce(t, c, cfg.Path, "evict-db")
		expWantVerdict(t, r, 3, "skipped")
		if !strings.Contains(r.Rec.Reason, "pdb") {
			t.Fatalf("skip reason %q does not mention the PDB", r.Rec.Reason)
		}
	})
}

const httpFaultConfig = `
experiments:
  - name: abort-half
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 3s
    observe: 0s
  - name: abort-and-delay
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action:
      type: http-fault
      abort: {status: 500, percent: 50}
      fixedDelay: {delay: 15s, percent: 50}
    duration: 3s
    observe: 0s
  - name: abort-all
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-abort, status: 503, percent: 100}
    duration: 3s
    observe: 0s
  - name: abort-while-edited
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 6s
    observe: 0s
`

// TestExperimentsHTTPFaults proves http-abort, http-fault (abort plus fixed
// delay) and a 100% abort on go-demo-8's VirtualService against the real
// API server, which validates the VirtualService schema and refuses
// strategic merge patches: the fault is stored as Istio expects while held,
// and the revert leaves the spec byte for byte as it was, even when someone
// else edits the VirtualService during the fault.
func TestExperimentsHTTPFaults(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	// The demo VirtualServices carry no labels; label go-demo-8's so the
	// experiments select it and not the repeater's.
	expUpdateVS(t, c, "go-demo-8", func(vs *istiov1.VirtualService) {
		if vs.Labels == nil {
			vs.Labels = map[string]string{}
		}
		vs.Labels["app"] = "go-demo-8"
	})
	cfg := newConfigDir(t, withMonitoring(c, expGuard+httpFaultConfig))

	t.Run("50% abort added and removed", func(t *testing.T) {
		held := expHTTPFaultRoundTrip(t, c, cfg.Path, "abort-half")
		f := held.HTTP[0].Fault
		if f == nil || f.Abort == nil || f.Abort.HTTPStatus != 500 || f.Abort.Percentage == nil || f.Abort.Percentage.Value != 50 || f.Delay != nil {
			t.Fatalf("stored fault while held = %s, want abort 500 at 50%% and no delay", expJSON(f))
		}
	})
	t.Run("50% abort and 15s delay together", func(t *testing.T) {
		held := expHTTPFaultRoundTrip(t, c, cfg.Path, "abort-and-delay")
		f := held.HTTP[0].Fault
		if f == nil || f.Abort == nil || f.Abort.HTTPStatus != 500 || f.Abort.Percentage == nil || f.Abort.Percentage.Value != 50 {
			t.Fatalf("stored abort while held = %s, want 500 at 50%%", expJSON(f))
		}
		if f.Delay == nil || f.Delay.FixedDelay != "15s" || f.Delay.Percentage == nil || f.Delay.Percentage.Value != 50 {
			t.Fatalf("stored delay while held = %s, want fixedDelay 15s at 50%%", expJSON(f))
		}
	})
	t.Run("100% abort", func(t *testing.T) {
		held := expHTTPFaultRoundTrip(t, c, cfg.Path, "abort-all")
		f := held.HTTP[0].Fault
		if f == nil || f.Abort == nil || f.Abort.HTTPStatus != 503 || f.Abort.Percentage == nil || f.Abort.Percentage.Value != 100 {
			t.Fatalf("stored fault while held = %s, want abort 503 at 100%%", expJSON(f))
		}
	})
	t.Run("another client's edit during the fault survives the revert", func(t *testing.T) {
		expHTTPFaultConflict(t, c, cfg.Path)
	})
}

// expHTTPFaultRoundTrip runs an http-* experiment on go-demo-8's
// VirtualService, returns the spec as the API server stored it while the
// fault was held, and checks that the revert restored the spec byte for byte
// with a new resourceVersion and without chaosd's marks.
func expHTTPFaultRoundTrip(t *testing.T, c *cluster.Cluster, cfgPath, experiment string) expSpec {
	t.Helper()
	before := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8")
	var held *expVS
	stop := expDuring(func(ctx context.Context) {
		if v, err := expFetchVS(ctx, c, cluster.DemoNamespace, "go-demo-8"); err == nil && v.injected() && held == nil {
			held = &v
		}
	})
	t.Cleanup(stop)
	r := expOnce(t, c, cfgPath, experiment)
	stop()
	expWantVerdict(t, r, 0, "passed")
	if held == nil {
		t.Fatalf("never saw the fault in the API server while %s held it", experiment)
	}
	in, ok := held.Metadata.Annotations[experiments.AnnotationInjection]
	if !ok || !strings.Contains(in, `"experiment":"`+experiment+`"`) {
		t.Fatalf("intent annotation while held = %q, want one naming experiment %s", in, experiment)
	}
	after := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8")
	if !bytes.Equal(after.Spec, before.Spec) {
		t.Fatalf("spec after the revert differs from before:\nbefore %s\nafter  %s", before.Spec, after.Spec)
	}
	if after.Metadata.ResourceVersion == before.Metadata.ResourceVersion {
		t.Fatalf("resourceVersion unchanged (%s): the fault never reached the API server", after.Metadata.ResourceVersion)
	}
	if chaosdMarked(after.Metadata.Labels, after.Metadata.Annotations) {
		t.Fatalf("chaosd's marks left after the revert: %v %v", after.Metadata.Labels, after.Metadata.Annotations)
	}
	if expJSON(after.Metadata.Labels) != expJSON(before.Metadata.Labels) || expJSON(after.Metadata.Annotations) != expJSON(before.Metadata.Annotations) {
		t.Fatalf("metadata changed: labels %v -> %v, annotations %v -> %v", before.Metadata.Labels, after.Metadata.Labels,
			before.Metadata.Annotations, after.Metadata.Annotations)
	}
	return held.spec(t)
}

// expHTTPFaultConflict has another client insert a route in front of the
// faulted one and change the faulted route's timeout while chaosd holds the
// abort; the revert must take out only chaosd's fault.
func expHTTPFaultConflict(t *testing.T, c *cluster.Cluster, cfgPath string) {
	before := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8")
	var (
		edited  bool
		editErr error
	)
	stop := expDuring(func(ctx context.Context) {
		if edited {
			return
		}
		v, err := expFetchVS(ctx, c, cluster.DemoNamespace, "go-demo-8")
		if err != nil || !v.injected() {
			return
		}
		edited = true
		editErr = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			vs, err := c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).Get(ctx, "go-demo-8", metav1.GetOptions{})
			if err != nil {
				return err
			}
			vs.Spec.Http[0].Timeout = durationpb.New(7 * time.Second)
			canary := &networkingv1.HTTPRoute{
				Name: "e2e-canary",
				Match: []*networkingv1.HTTPMatchRequest{{Headers: map[string]*networkingv1.StringMatch{
					"x-canary": {MatchType: &networkingv1.StringMatch_Exact{Exact: "true"}},
				}}},
				Route: []*networkingv1.HTTPRouteDestination{{Destination: &networkingv1.Destination{
					Host: "go-demo-8", Subset: "primary", Port: &networkingv1.PortSelector{Number: 80},
				}}},
			}
			vs.Spec.Http = append([]*networkingv1.HTTPRoute{canary}, vs.Spec.Http...)
			_, err = c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).Update(ctx, vs, metav1.UpdateOptions{})
			return err
		})
	})
	t.Cleanup(stop)
	r := expOnce(t, c, cfgPath, "abort-while-edited")
	stop()
	if !edited || editErr != nil {
		t.Fatalf("the other client's edit during the fault: attempted %v, error %v", edited, editErr)
	}
	expWantVerdict(t, r, 0, "passed")

	after := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8")
	s := after.spec(t)
	if len(s.HTTP) != 2 || s.HTTP[0].Name != "e2e-canary" || len(s.HTTP[0].Match) == 0 {
		t.Fatalf("the other client's new route is gone after the revert: %s", after.Spec)
	}
	if s.HTTP[1].Timeout != "7s" {
		t.Fatalf("the other client's timeout is gone after the revert: %s", after.Spec)
	}
	for i, rt := range s.HTTP {
		if rt.Fault != nil {
			t.Fatalf("route %d still carries a fault after the revert: %s", i, after.Spec)
		}
	}
	if chaosdMarked(after.Metadata.Labels, after.Metadata.Annotations) {
		t.Fatalf("chaosd's marks left after the revert: %v %v", after.Metadata.Labels, after.Metadata.Annotations)
	}

	// Put the demo route back as it was for the tests that follow.
	expUpdateVS(t, c, "go-demo-8", func(vs *istiov1.VirtualService) {
		proto.Reset(&vs.Spec)
		if err := json.Unmarshal(before.Spec, &vs.Spec); err != nil {
			t.Fatalf("decode original spec: %v", err)
		}
	})
	if got := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8"); !bytes.Equal(got.Spec, before.Spec) {
		t.Fatalf("could not restore the original spec: %s", got.Spec)
	}
}

const nodeFaultConfig = `
experiments:
  - name: drain-node
    schedule: "@every 1h"
    target: {kind: node, podNamespace: go-demo-8, mode: one}
    action: {type: node-drain, gracePeriod: 0s, timeout: 1m}
    duration: 3s
    observe: 0s
  - name: drain-blocked
    schedule: "@every 1h"
    target: {kind: node, selector: chaosd-e2e/drain=blocked, podNamespace: go-demo-8, mode: one}
    action: {type: node-drain, gracePeriod: 0s, timeout: 12s}
    duration: 2s
    observe: 0s
  - name: zone-outage
    schedule: "@every 1h"
    target: {kind: zone, mode: one}
    action: {type: node-cordon}
    duration: 3s
    observe: 0s
`

// TestExperimentsNodeFaults proves node-drain (completing, and blocked by a
// PodDisruptionBudget) and a zone outage on six kwok nodes, two per zone:
// nodes are cordoned while the fault is held and uncordoned after, pods are
// evicted through the Eviction API.
func TestExperimentsNodeFaults(t *testing.T) {
	opts := cluster.FullOptions()
	opts.Nodes = 6
	c := expStart(t, opts)
	cfg := newConfigDir(t, withMonitoring(c, expGuard+nodeFaultConfig))

	t.Run("drain of a node hosting go-demo-8 completes and uncordons", func(t *testing.T) {
		var (
			mu      sync.Mutex
			cordons = map[string]bool{}
			left    = map[string]int{} // go-demo-8 pods still on the node, last seen while cordoned
			first   = map[string]time.Time{}
			last    = map[string]time.Time{}
		)
		stop := expDuring(func(ctx context.Context) {
			names, err := expMarkedNodes(ctx, c)
			if err != nil {
				return
			}
			for _, n := range names {
				pods, err := expPodsOn(ctx, c, cluster.DemoNamespace, n)
				if err != nil {
					continue
				}
				mu.Lock()
				cordons[n], left[n], last[n] = true, len(pods), time.Now()
				if first[n].IsZero() {
					first[n] = last[n]
				}
				mu.Unlock()
			}
		})
		t.Cleanup(stop)
		r := expOnce(t, c, cfg.Path, "drain-node")
		stop()
		expWantVerdict(t, r, 0, "passed")
		node := expChosen(t, r).Name
		if !cordons[node] || len(cordons) != 1 {
			t.Fatalf("nodes seen cordoned while held: %v, want only %s", cordons, node)
		}
		if left[node] != 0 {
			t.Fatalf("%d go-demo-8 pods still on %s at the end of the hold", left[node], node)
		}
		// How long the cordon was held is chaosd's own record (a poller's first
		// and last sighting would depend on how busy the machine is).
		if len(r.Rec.Injections) != 1 || r.Rec.Injections[0].RevertedAt == nil {
			t.Fatalf("want one reverted injection, got %+v", r.Rec.Injections)
		}
		if held := r.Rec.Injections[0].RevertedAt.Sub(r.Rec.Injections[0].InjectedAt); held < 3*time.Second {
			t.Fatalf("node %s held cordoned for %s by the journal, want the 3s duration", node, held)
		}
		t.Logf("node %s seen cordoned by the poller from %s to %s", node, first[node].Format(time.StampMilli), last[node].Format(time.StampMilli))
		expWantSchedulable(t, c, node)
		expWaitDemoAvailable(t, c, 2*time.Minute)
		expFigure(t, "chaosd once drain-node wall time (drain, 3s hold, uncordon)", r.Took)
		expFigure(t, "drain-node inject phase (cordon + evictions)", expPhaseGap(r, "pick", "inject"))
	})

	t.Run("drain blocked by a PodDisruptionBudget reports it and uncordons", func(t *testing.T) {
		// One API replica under the demo's PDB (minAvailable 1): no
		// disruption is allowed, so its eviction is refused.
		expScale(t, c, "go-demo-8", 1)
		t.Cleanup(func() { expScale(t, c, "go-demo-8", 2) })
		expWaitPDBAllows(t, c, "go-demo-8", 0, 1)
		api := expPodUIDs(t, c, "app=go-demo-8")
		if len(api) != 1 {
			t.Fatalf("want one go-demo-8 pod, got %v", api)
		}
		var apiPod string
		for name := range api {
			apiPod = name
		}
		pod, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).Get(context.Background(), apiPod, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		node := pod.Spec.NodeName
		expLabelNode(t, c, node, "chaosd-e2e/drain", "blocked")

		var seen []string
		stop := expDuring(func(ctx context.Context) {
			if names, err := expMarkedNodes(ctx, c); err == nil && len(names) > 0 {
				seen = names
			}
		})
		t.Cleanup(stop)
		r := expOnce(t, c, cfg.Path, "drain-blocked")
		stop()
		expWantVerdict(t, r, 2, "error")
		if !strings.Contains(r.Rec.Reason, "blocked by PodDisruptionBudget") {
			t.Fatalf("reason %q does not say a PodDisruptionBudget blocked the drain", r.Rec.Reason)
		}
		t.Logf("verdict %s: %s", r.Rec.Verdict, r.Rec.Reason)
		if len(seen) != 1 || seen[0] != node {
			t.Fatalf("nodes seen cordoned: %v, want [%s]", seen, node)
		}
		expWantSchedulable(t, c, node)
		if now := expPodUIDs(t, c, "app=go-demo-8"); !expSameUIDs(api, now) {
			t.Fatalf("the PDB-protected pod was evicted: %v -> %v", api, now)
		}
		expFigure(t, "chaosd once drain-blocked wall time (drain timeout 12s)", r.Took)
	})

	t.Run("zone outage cordons every node of one zone and uncordons them", func(t *testing.T) {
		var most []string
		stop := expDuring(func(ctx context.Context) {
			if names, err := expMarkedNodes(ctx, c); err == nil && len(names) > len(most) {
				most = names
			}
		})
		t.Cleanup(stop)
		r := expOnce(t, c, cfg.Path, "zone-outage")
		stop()
		expWantVerdict(t, r, 0, "passed")
		zone := expChosen(t, r).Zone
		inZone := expNodesInZone(t, c, zone)
		if len(inZone) != 2 {
			t.Fatalf("zone %q has nodes %v, want 2 of the 6", zone, inZone)
		}
		if !expSameStrings(most, inZone) {
			t.Fatalf("nodes cordoned at once: %v, want every node of zone %s: %v", most, zone, inZone)
		}
		for _, n := range inZone {
			expWantSchedulable(t, c, n)
		}
	})
}

// TestExperimentsNodeDelete proves node-delete with restore: while the Node
// is gone its pods are garbage-collected and rescheduled onto other nodes,
// and the revert re-creates the Node with the same name and labels from the
// snapshot ConfigMap, which is then removed.
func TestExperimentsNodeDelete(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	t.Run("chaosd once deletes and restores the node", func(t *testing.T) {
		cfg := newConfigDir(t, withMonitoring(c, expGuard+`
experiments:
  - name: delete-node
    schedule: "@every 1h"
    target: {kind: node, podNamespace: go-demo-8, mode: one}
    action: {type: node-delete, restore: true}
    duration: 3s
    observe: 0s
`))
		before := expNodes(t, c)
		var (
			mu      sync.Mutex
			missing = map[string]bool{}
			snaps   = map[string]bool{}
		)
		stop := expDuring(func(ctx context.Context) {
			list, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				return
			}
			present := map[string]bool{}
			for _, n := range list.Items {
				present[n.Name] = true
			}
			cms, _ := c.Kube.CoreV1().ConfigMaps(chaosdNamespace).List(ctx, metav1.ListOptions{LabelSelector: experiments.LabelSnapshot})
			mu.Lock()
			defer mu.Unlock()
			for name := range before {
				if !present[name] {
					missing[name] = true
				}
			}
			if cms != nil {
				for _, cm := range cms.Items {
					snaps[cm.Name] = true
				}
			}
		})
		t.Cleanup(stop)
		r := expOnce(t, c, cfg.Path, "delete-node")
		stop()
		expWantVerdict(t, r, 0, "passed")
		node := expChosen(t, r).Name
		if !missing[node] || len(missing) != 1 {
			t.Fatalf("nodes seen missing while held: %v, want only %s", missing, node)
		}
		if len(snaps) != 1 {
			t.Fatalf("snapshot ConfigMaps seen while held: %v, want one", snaps)
		}
		expWantNodeRestored(ctx, t, c, before[node])
	})

	t.Run("pods move to other nodes while the node is gone", func(t *testing.T) {
		// The Engine holds the fault for as long as pod garbage collection
		// takes (kube-controller-manager deletes pods of a missing node
		// after a 40s quarantine, checking every 20s).
		engine := expEngine(t, c, "e2e-node-delete")
		node := expNodeHostingDemo(t, c)
		before := expNodes(t, c)[node]
		podsBefore, err := expPodsOn(ctx, c, cluster.DemoNamespace, node)
		if err != nil || len(podsBefore) == 0 {
			t.Fatalf("pods of go-demo-8 on %s: %d (%v)", node, len(podsBefore), err)
		}
		exp := config.Experiment{Name: "delete-node-until-pods-move", Action: config.Action{Type: config.ActionNodeDelete, Restore: true}, Duration: 5 * time.Minute}
		start := time.Now()
		inj, err := engine.Inject(ctx, experiments.Run{ID: "e2e-node-delete", Experiment: exp.Name}, exp, targets.Target{Kind: config.TargetNode, Name: node})
		if err != nil {
			t.Fatalf("inject node-delete: %v", err)
		}
		t.Cleanup(func() { _ = engine.Revert(context.Background(), inj) })
		if _, err := c.Kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("node %s after node-delete: %v, want NotFound", node, err)
		}
		snap := inj.Detail.(*experiments.NodeSnapshot)
		if !snap.Restore || snap.Node != node {
			t.Fatalf("snapshot = %+v", snap)
		}

		gone := map[types.UID]bool{}
		var gcAfter time.Duration
		eventually(t, 3*time.Minute, "pod GC to delete the pods of the deleted node", func() bool {
			for _, p := range podsBefore {
				if gone[p.UID] {
					continue
				}
				cur, err := c.Kube.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
				if apierrors.IsNotFound(err) || (err == nil && cur.UID != p.UID) {
					gone[p.UID] = true
				}
			}
			gcAfter = time.Since(start)
			return len(gone) == len(podsBefore)
		})
		expWaitDemoAvailable(t, c, 2*time.Minute)
		movedAfter := time.Since(start)
		all, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range all.Items {
			if p.Spec.NodeName == node {
				t.Fatalf("pod %s is still bound to the deleted node %s", p.Name, node)
			}
		}
		expFigure(t, "node-delete: pods of the deleted node garbage-collected after", gcAfter)
		expFigure(t, "node-delete: demo Deployments available on other nodes after", movedAfter)

		revertStart := time.Now()
		if err := engine.Revert(ctx, inj); err != nil {
			t.Fatalf("revert node-delete: %v", err)
		}
		expFigure(t, "node-delete: revert (re-create Node, remove snapshot)", time.Since(revertStart))
		ready := expWantNodeRestored(ctx, t, c, before)
		expFigure(t, "node-delete: restored Node Ready after revert", ready)
	})
}

// TestExperimentsLoadBurst proves http-load: 50 concurrent workers for 3s
// against a server on 127.0.0.1; the journal's counts match what the server
// answered.
func TestExperimentsLoadBurst(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	var (
		total, failed, inflight, peak atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		if total.Add(1)%10 == 0 {
			failed.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	cfg := newConfigDir(t, withMonitoring(c, expGuard+`
experiments:
  - name: burst
    schedule: "@every 1h"
    target: {kind: url, url: `+srv.URL+`/limiter}
    action: {type: http-load, concurrency: 50, duration: 3s}
    observe: 0s
`))
	r := expOnce(t, c, cfg.Path, "burst")
	expWantVerdict(t, r, 0, "passed")
	load := r.Rec.Load
	if load == nil {
		t.Fatal("journal has no load section")
	}
	if load.Requests == 0 || int64(load.Requests) != total.Load() {
		t.Fatalf("journal load.requests = %d, the server answered %d", load.Requests, total.Load())
	}
	if got := int64(load.StatusCodes["200"]); got != total.Load()-failed.Load() {
		t.Fatalf("journal 200s = %d, server sent %d (codes %v)", got, total.Load()-failed.Load(), load.StatusCodes)
	}
	if got := int64(load.StatusCodes["503"]); got != failed.Load() {
		t.Fatalf("journal 503s = %d, server sent %d (codes %v)", got, failed.Load(), load.StatusCodes)
	}
	if p := peak.Load(); p > 50 {
		t.Fatalf("%d requests in flight at once, concurrency is 50", p)
	}
	// The lower bound is correctness (the burst ran its 3s); the upper one
	// is a hang guard only, wide enough for a busy machine.
	if load.DurationSeconds < 2.5 || load.DurationSeconds > 60 {
		t.Fatalf("burst lasted %.2fs, want about 3s", load.DurationSeconds)
	}
	t.Logf("FIGURE http-load burst: %d requests in %.2fs (%.0f req/s), %d in flight at peak, p50 %.1fms p99 %.1fms, codes %v",
		load.Requests, load.DurationSeconds, load.Rate, peak.Load(), load.Latencies.P50*1000, load.Latencies.P99*1000, load.StatusCodes)
}

// expUpdateVS edits a go-demo-8 VirtualService with Get → Update, retrying
// conflicts.
func expUpdateVS(t testing.TB, c *cluster.Cluster, name string, edit func(vs *istiov1.VirtualService)) {
	t.Helper()
	expUpdateVSAs(t, c, name, "", edit)
}

// expUpdateVSAs is expUpdateVS writing as fieldManager ("" for the
// client's default), for tests that need the writer to show in
// managedFields.
func expUpdateVSAs(t testing.TB, c *cluster.Cluster, name, fieldManager string, edit func(vs *istiov1.VirtualService)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vs, err := c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		edit(vs)
		_, err = c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).Update(ctx, vs, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	})
	if err != nil {
		t.Fatalf("update virtualservice %s: %v", name, err)
	}
}

// expPodUIDs maps the live pods of go-demo-8 matching selector to their UIDs.
func expPodUIDs(t testing.TB, c *cluster.Cluster, selector string) map[string]types.UID {
	t.Helper()
	list, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = p.UID
		}
	}
	return out
}

func expSameUIDs(a, b map[string]types.UID) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// expChosen returns the one target a run chose.
func expChosen(t testing.TB, r expRun) targets.Target {
	t.Helper()
	if len(r.Rec.Selection.Chosen) != 1 {
		t.Fatalf("run chose %v, want one target", r.Rec.Selection.Chosen)
	}
	return r.Rec.Selection.Chosen[0]
}

func expChosenPod(t testing.TB, r expRun) string {
	t.Helper()
	tg := expChosen(t, r)
	if tg.Kind != config.TargetPod || tg.Namespace != cluster.DemoNamespace {
		t.Fatalf("chosen target %s is not a go-demo-8 pod", tg)
	}
	return tg.Name
}

// expWantPodGone waits until the pod with this name and UID no longer exists.
func expWantPodGone(t testing.TB, c *cluster.Cluster, name string, uid types.UID) {
	t.Helper()
	eventually(t, 30*time.Second, "killed pod "+name+" gone", func() bool {
		p, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err) || (err == nil && p.UID != uid)
	})
}

func expWantPodReady(t testing.TB, c *cluster.Cluster, name string) {
	t.Helper()
	p, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("replacement %s: %v", name, err)
	}
	if !expPodIsReady(p) {
		t.Fatalf("replacement %s is not Ready: %+v", name, p.Status.Conditions)
	}
}

func expPodIsReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// expCreatePDB creates a PDB in go-demo-8 with maxUnavailable and waits
// until the disruption controller has computed it; it is deleted when the
// test ends.
func expCreatePDB(t testing.TB, c *cluster.Cluster, name, selector string, maxUnavailable intstr.IntOrString) {
	t.Helper()
	sel, err := metav1.ParseToLabelSelector(selector)
	if err != nil {
		t.Fatal(err)
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cluster.DemoNamespace},
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &maxUnavailable, Selector: sel},
	}
	if _, err := c.Kube.PolicyV1().PodDisruptionBudgets(cluster.DemoNamespace).Create(context.Background(), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PDB %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = c.Kube.PolicyV1().PodDisruptionBudgets(cluster.DemoNamespace).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	expWaitPDBAllows(t, c, name, 0, 1)
}

// expWaitPDBAllows waits until the disruption controller reports allowed
// disruptions for the PDB's current spec with healthy pods.
func expWaitPDBAllows(t testing.TB, c *cluster.Cluster, name string, allowed, healthy int32) {
	t.Helper()
	var last policyv1.PodDisruptionBudgetStatus
	eventually(t, time.Minute, "PDB "+name+" status to settle", func() bool {
		pdb, err := c.Kube.PolicyV1().PodDisruptionBudgets(cluster.DemoNamespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		last = pdb.Status
		return pdb.Status.ObservedGeneration == pdb.Generation && pdb.Status.DisruptionsAllowed == allowed && pdb.Status.CurrentHealthy == healthy
	})
	t.Logf("PDB %s: %d disruptions allowed, %d/%d healthy", name, last.DisruptionsAllowed, last.CurrentHealthy, last.DesiredHealthy)
}

// expScale sets a demo Deployment's replicas and waits until exactly that
// many of its pods are live and it is available.
func expScale(t testing.TB, c *cluster.Cluster, name string, replicas int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := c.Kube.AppsV1().Deployments(cluster.DemoNamespace).GetScale(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Replicas = replicas
		_, err = c.Kube.AppsV1().Deployments(cluster.DemoNamespace).UpdateScale(ctx, name, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("scale %s to %d: %v", name, replicas, err)
	}
	eventually(t, time.Minute, "deployment "+name+" at "+strconv.Itoa(int(replicas))+" replicas", func() bool {
		return len(expPodUIDs(t, c, "app="+name)) == int(replicas)
	})
	if err := c.WaitDeploymentsAvailable(ctx, cluster.DemoNamespace, name); err != nil {
		t.Fatal(err)
	}
}

// expLabelNode sets a label on a node until the test ends.
func expLabelNode(t testing.TB, c *cluster.Cluster, node, key, value string) {
	t.Helper()
	set := func(v *string) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := c.Kube.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if v == nil {
				delete(n.Labels, key)
			} else {
				n.Labels[key] = *v
			}
			_, err = c.Kube.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{})
			return err
		})
	}
	if err := set(&value); err != nil {
		t.Fatalf("label node %s: %v", node, err)
	}
	t.Cleanup(func() {
		if err := set(nil); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("unlabel node %s: %v", node, err)
		}
	})
}

func expWantSchedulable(t testing.TB, c *cluster.Cluster, name string) {
	t.Helper()
	n, err := c.Kube.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Spec.Unschedulable || chaosdMarked(n.Labels, n.Annotations) {
		t.Fatalf("node %s after the revert: unschedulable=%v labels %v annotations %v", name, n.Spec.Unschedulable, n.Labels, n.Annotations)
	}
}

func expNodesInZone(t testing.TB, c *cluster.Cluster, zone string) []string {
	t.Helper()
	list, err := c.Kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: config.DefaultZoneLabel + "=" + zone})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range list.Items {
		out = append(out, n.Name)
	}
	return out
}

// expNodes returns every node by name.
func expNodes(t testing.TB, c *cluster.Cluster) map[string]corev1.Node {
	t.Helper()
	list, err := c.Kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corev1.Node{}
	for _, n := range list.Items {
		out[n.Name] = n
	}
	return out
}

// expNodeHostingDemo returns a node running a go-demo-8 API pod.
func expNodeHostingDemo(t testing.TB, c *cluster.Cluster) string {
	t.Helper()
	list, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app=go-demo-8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
			return p.Spec.NodeName
		}
	}
	t.Fatal("no node runs a go-demo-8 pod")
	return ""
}

// expWantNodeRestored checks that the node exists again with the same name,
// labels and annotations (chaosd's own aside), that no snapshot is left, and
// waits until kwok reports it Ready; it returns how long that took.
func expWantNodeRestored(ctx context.Context, t testing.TB, c *cluster.Cluster, before corev1.Node) time.Duration {
	t.Helper()
	start := time.Now()
	n, err := c.Kube.CoreV1().Nodes().Get(ctx, before.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("node %s not restored: %v", before.Name, err)
	}
	if n.UID == before.UID {
		t.Fatalf("node %s has its old UID: it was never deleted", n.Name)
	}
	if got, want := expLabelsWithout(n.Labels), expLabelsWithout(before.Labels); got != want {
		t.Fatalf("restored node labels:\n got  %s\n want %s", got, want)
	}
	if got, want := expLabelsWithout(n.Annotations), expLabelsWithout(before.Annotations); got != want {
		t.Fatalf("restored node annotations:\n got  %s\n want %s", got, want)
	}
	if n.Spec.Unschedulable || chaosdMarked(n.Labels, n.Annotations) {
		t.Fatalf("restored node %s: unschedulable=%v, chaosd marks %v %v", n.Name, n.Spec.Unschedulable, n.Labels, n.Annotations)
	}
	cms, err := c.Kube.CoreV1().ConfigMaps(chaosdNamespace).List(ctx, metav1.ListOptions{LabelSelector: experiments.LabelSnapshot})
	if err != nil || len(cms.Items) != 0 {
		t.Fatalf("snapshot ConfigMaps after restore: %v (%v)", cms, err)
	}
	eventually(t, time.Minute, "restored node "+n.Name+" Ready", func() bool {
		cur, err := c.Kube.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, cond := range cur.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	})
	return time.Since(start)
}

// expPhaseGap is the time from the first timeline entry of phase from to
// the first of phase to in a run's journal.
func expPhaseGap(r expRun, from, to string) time.Duration {
	var a, b time.Time
	for _, e := range r.Rec.Timeline {
		if string(e.Phase) == from && a.IsZero() {
			a = e.At
		}
		if string(e.Phase) == to && b.IsZero() {
			b = e.At
		}
	}
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

func expJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Helpers of the experiments e2e tests (experiments_test.go and
// experiments_crash_test.go): a cluster that is checked for leftover faults
// when the test ends, `chaosd once` with its journal record, and raw reads
// of VirtualServices as the API server stores them.

// expGuard is the guard of every experiments config: Alertmanager only.
// These tests prove what the faults do to the cluster, not how runs are
// judged, so no Prometheus check can make a run wait for a scrape.
const expGuard = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  pollInterval: 500ms
`

// expStart starts a cluster for an experiments test, creates chaosd's
// namespace, and at the end of the test reverts whatever chaosd fault is
// still recorded in the cluster (failing the test if there was one) and
// checks that nothing is left.
func expStart(t *testing.T, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	c := cluster.Start(t, opts)
	ensureChaosdNamespace(t, c)
	t.Cleanup(func() {
		expRevertLeftovers(t, c)
		assertNothingLeft(t, c)
	})
	return c
}

// expEngine is an experiments.Engine on the cluster's real clients, as
// chaosd builds it.
func expEngine(t testing.TB, c *cluster.Cluster, identity string) *experiments.Engine {
	t.Helper()
	e, err := experiments.NewEngine(experiments.Options{
		Kube: c.Kube, Istio: c.Istio, Namespace: chaosdNamespace, Identity: identity, Logger: zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// expRevertLeftovers reverts every chaosd injection still recorded in the
// cluster, treating all of them as orphaned (its engine reads no liveness
// Leases, so every other writer counts as gone). Any it finds is a test failure:
// every path under test must revert on its own.
func expRevertLeftovers(t testing.TB, c *cluster.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := expEngine(t, c, "e2e-cleanup").Recover(ctx)
	if err != nil {
		t.Errorf("cleanup: recover leftover faults: %v", err)
	}
	if rep.Found > 0 {
		t.Errorf("cleanup: %d chaosd fault(s) were left in the cluster: reverted %+v, failed %+v", rep.Found, rep.Reverted, rep.Failed)
	}
}

// expRun is the outcome of one `chaosd once`.
type expRun struct {
	Code int
	Out  string
	Rec  journal.Record
	Took time.Duration
}

// expOnce runs `chaosd once EXPERIMENT` with its own journal directory and
// returns the exit code and the run's journal record.
func expOnce(t testing.TB, c *cluster.Cluster, cfgPath, experiment string) expRun {
	t.Helper()
	dir := t.TempDir()
	start := time.Now()
	code, out := runChaosdCommand(t, c, 4*time.Minute, "once", experiment, "--config", cfgPath,
		"--namespace", chaosdNamespace, "--journal-dir", dir, "--log-format", "json")
	r := expRun{Code: code, Out: out, Took: time.Since(start)}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("want one journal file in %s, got %v (%v); exit %d:\n%s", dir, files, err, code, tail(out, 60))
	}
	if r.Rec, err = journal.ReadFile(files[0]); err != nil {
		t.Fatal(err)
	}
	return r
}

// expWantVerdict fails unless the run ended with the exit code and verdict.
func expWantVerdict(t testing.TB, r expRun, code int, verdict string) {
	t.Helper()
	if r.Code != code || string(r.Rec.Verdict) != verdict {
		t.Fatalf("exit %d verdict %q (%s), want exit %d verdict %q:\n%s", r.Code, r.Rec.Verdict, r.Rec.Reason, code, verdict, tail(r.Out, 60))
	}
}

// expDuring calls poll every 50ms in the background until the returned stop
// is called; stop waits for the last poll, so what poll recorded is safe to
// read afterwards. poll must not call t.Fatal.
func expDuring(poll func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// expVS is a VirtualService as the API server serves it: the spec is kept
// as the raw bytes of the response, so specs compare byte for byte.
type expVS struct {
	Metadata struct {
		ResourceVersion string            `json:"resourceVersion"`
		Labels          map[string]string `json:"labels"`
		Annotations     map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

// expSpec is the part of a VirtualService spec the assertions look at.
type expSpec struct {
	HTTP []struct {
		Name    string          `json:"name"`
		Match   json.RawMessage `json:"match"`
		Timeout string          `json:"timeout"`
		Fault   *expFault       `json:"fault"`
	} `json:"http"`
}

type expFault struct {
	Abort *struct {
		HTTPStatus int            `json:"httpStatus"`
		Percentage *expPercentage `json:"percentage"`
	} `json:"abort"`
	Delay *struct {
		FixedDelay string         `json:"fixedDelay"`
		Percentage *expPercentage `json:"percentage"`
	} `json:"delay"`
}

type expPercentage struct {
	Value float64 `json:"value"`
}

func (v expVS) spec(t testing.TB) expSpec {
	t.Helper()
	var s expSpec
	if err := json.Unmarshal(v.Spec, &s); err != nil {
		t.Fatalf("decode virtualservice spec %s: %v", v.Spec, err)
	}
	return s
}

func (v expVS) injected() bool {
	return v.Metadata.Labels[experiments.LabelInjected] == "true"
}

// expFetchVS reads a VirtualService through the API server's REST endpoint.
func expFetchVS(ctx context.Context, c *cluster.Cluster, ns, name string) (expVS, error) {
	raw, err := c.Kube.Discovery().RESTClient().Get().
		AbsPath(fmt.Sprintf("/apis/networking.istio.io/v1/namespaces/%s/virtualservices/%s", ns, name)).DoRaw(ctx)
	if err != nil {
		return expVS{}, err
	}
	var v expVS
	if err := json.Unmarshal(raw, &v); err != nil {
		return expVS{}, fmt.Errorf("decode virtualservice %s/%s: %w", ns, name, err)
	}
	return v, nil
}

func expGetVS(t testing.TB, c *cluster.Cluster, ns, name string) expVS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := expFetchVS(ctx, c, ns, name)
	if err != nil {
		t.Fatalf("get virtualservice %s/%s: %v", ns, name, err)
	}
	return v
}

// expPodsOn returns the live (not terminating) pods of namespace on node.
func expPodsOn(ctx context.Context, c *cluster.Cluster, namespace, node string) ([]corev1.Pod, error) {
	list, err := c.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// expMarkedNodes returns the names of nodes carrying chaosd's intent that
// are unschedulable, sorted.
func expMarkedNodes(ctx context.Context, c *cluster.Cluster) ([]string, error) {
	list, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: experiments.LabelInjected + "=true"})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range list.Items {
		if n.Spec.Unschedulable {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// expWaitDemoAvailable waits until every demo Deployment is available again.
func expWaitDemoAvailable(t testing.TB, c *cluster.Cluster, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.WaitDemoReady(ctx); err != nil {
		t.Fatalf("demo workload not available again: %v", err)
	}
}

// expFigure logs a measured figure in a form easy to copy into
// docs/benchmarks.md.
func expFigure(t testing.TB, name string, d time.Duration) {
	t.Helper()
	t.Logf("FIGURE %s: %s", name, d.Round(time.Millisecond))
}

func expSameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func expLabelsWithout(m map[string]string, drop ...string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !slices.Contains(drop, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s,", k, m[k])
	}
	return b.String()
}
