//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/test/cluster"
)

// The release the chart's README installs: `helm install chaosd charts/chaosd
// --namespace chaosd --create-namespace`. Its full name, ServiceAccount,
// ClusterRole and Lease are all "chaosd", its ConfigMap "chaosd-config".
const (
	helmRelease      = "chaosd"
	helmNamespace    = "chaosd" // = chaosdNamespace
	helmFullname     = "chaosd"
	helmConfigMap    = "chaosd-config" // = chaosdConfigMap
	helmInstanceSel  = "app.kubernetes.io/instance=" + helmRelease
	helmOtherNS      = "other-team"
	helmCmdTimeout   = 3 * time.Minute
	helmOnceTimeout  = 3 * time.Minute
	helmTokenSeconds = 3600
)

// helmAllActionsValues enables one experiment per action kind (pod-kill twice:
// delete and evict; zone is node-cordon on a zone), against the harness's
// Alertmanager as guard. Helm merges it with the chart's default config:
// windows and minPodAge are removed with null (the cluster is seconds old),
// the experiments list replaces the default one. Every schedule is hourly,
// so a `chaosd run` started from it schedules nothing during the test.
// EXTRA_EXPERIMENTS is where an upgrade adds one.
const helmAllActionsValues = `
rbac:
  nodeExperiments: true
` + helmConfigValues + helmPodAndHTTPExperiments + helmNodeExperiments + helmLoadExperiment + `EXTRA_EXPERIMENTS`

// helmNamespacedActionsValues is a namespaced release for go-demo-8 with
// one experiment per action kind that scope allows: all but node and zone.
const helmNamespacedActionsValues = `
rbac:
  scope: namespaced
  namespaces: [go-demo-8]
` + helmConfigValues + helmPodAndHTTPExperiments + helmLoadExperiment

// helmConfigValues is the config both scopes share; the experiments follow.
const helmConfigValues = `config:
  dryRun: false
  windows: null
  guard:
    alertmanager:
      url: ALERTMANAGER_URL
      block: ['severity="critical"']
    pollInterval: 500ms
    cooldown: 1m
  policies:
    default:
      minPodAge: null
  experiments:
`

// The experiments of the action kinds, by what they need: pods and
// VirtualServices of go-demo-8, nodes, an HTTP endpoint.
const (
	helmPodAndHTTPExperiments = `    - name: pod-kill-delete
      schedule: "@every 1h"
      target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
      action: {type: pod-kill, gracePeriod: 0s}
      observe: 1s
    - name: pod-kill-evict
      schedule: "@every 1h"
      target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
      action: {type: pod-kill, method: evict}
      observe: 1s
    - name: http-abort
      schedule: "@every 1h"
      target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
      action: {type: http-abort, status: 500, percent: 50}
      duration: 2s
      observe: 1s
    - name: http-delay
      schedule: "@every 1h"
      target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
      action: {type: http-delay, delay: 1s, percent: 50}
      duration: 2s
      observe: 1s
    - name: http-fault
      schedule: "@every 1h"
      target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
      action:
        type: http-fault
        abort: {status: 503, percent: 10}
        fixedDelay: {delay: 1s, percent: 10}
      duration: 2s
      observe: 1s
`
	helmNodeExperiments = `    - name: node-cordon
      schedule: "@every 1h"
      target: {kind: node, selector: type=kwok, mode: one}
      action: {type: node-cordon}
      duration: 2s
      observe: 1s
    - name: node-drain
      schedule: "@every 1h"
      target: {kind: node, selector: type=kwok, podNamespace: go-demo-8, mode: one}
      action: {type: node-drain, deleteEmptyDirData: true, gracePeriod: 0s, timeout: 1m}
      duration: 2s
      observe: 1s
    - name: node-delete
      schedule: "@every 1h"
      target: {kind: node, selector: type=kwok, mode: one}
      action: {type: node-delete, restore: true}
      duration: 2s
      observe: 1s
    - name: zone-cordon
      schedule: "@every 1h"
      target: {kind: zone, selector: type=kwok}
      action: {type: node-cordon}
      duration: 2s
      observe: 1s
`
	helmLoadExperiment = `    - name: http-load
      schedule: "@every 1h"
      target: {kind: url, url: LOAD_URL}
      action: {type: http-load, concurrency: 2, rate: 20, duration: 2s}
      observe: 1s
`
)

// helmScope is what differs between the chart's RBAC scopes when chaosd
// runs as the release's ServiceAccount.
type helmScope struct {
	// actions names the experiments of the scope's values, one per action
	// kind it allows, in order.
	actions []string
	// events are the Regarding.Kind/Reason of Events chaosd must record.
	events []string
	// args are the scope's flags in the chart's container args.
	args []string
}

var (
	helmClusterScope = helmScope{
		actions: []string{"pod-kill-delete", "pod-kill-evict", "http-abort", "http-delay", "http-fault", "node-cordon", "node-drain", "node-delete", "zone-cordon", "http-load"},
		events:  []string{"VirtualService/ChaosInjected", "VirtualService/ChaosReverted", "Node/ChaosInjected", "Node/ChaosReverted"},
	}
	helmNamespacedScope = helmScope{
		actions: []string{"pod-kill-delete", "pod-kill-evict", "http-abort", "http-delay", "http-fault", "http-load"},
		events:  []string{"VirtualService/ChaosInjected", "VirtualService/ChaosReverted"},
		args:    []string{"--namespaced", "--watch-namespaces=" + cluster.DemoNamespace},
	}
)

// helmUpgradeExperiment is what `helm upgrade` adds to the config.
const helmUpgradeExperiment = `
    - name: added-by-upgrade
      schedule: "@every 2h"
      target: {kind: url, url: LOAD_URL}
      action: {type: http-load, concurrency: 1, duration: 1s}
`

// TestHelmClusterScope installs the chart with the real helm binary, then
// runs chaosd locally AUTHENTICATED AS THE CHART'S SERVICEACCOUNT (a token
// from the TokenRequest API): one `chaosd once` of every action kind and a
// short `chaosd run` with leader election must meet no 403 at all. Then
// `helm upgrade` changes the config and the running chaosd picks it up by
// hot reload; `helm uninstall` leaves nothing of the release behind.
//
// kwok fakes the chart's pods (Running, no container), so the chaosd under
// test is a local process: the RBAC it meets is exactly the chart's, only
// the process runs outside the cluster.
func TestHelmClusterScope(t *testing.T) {
	helm := newHelmCLI(t)
	c := cluster.Start(t, cluster.FullOptions())
	ctx := context.Background()

	var hits atomic.Int64
	load := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(load.Close)
	values := func(extra string) string {
		return strings.NewReplacer("ALERTMANAGER_URL", c.AlertmanagerURL, "LOAD_URL", load.URL,
			"EXTRA_EXPERIMENTS", strings.ReplaceAll(extra, "LOAD_URL", load.URL)).Replace(helmAllActionsValues)
	}

	begin := time.Now()
	out, err := helm.run(c, "install", helmRelease, helm.chart, "--namespace", helmNamespace, "--create-namespace",
		"--wait=false", "-f", helm.writeValues(t, values("")))
	if err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	if !strings.Contains(out, "STATUS: deployed") || !strings.Contains(out, "WARNING: dry run is OFF") {
		t.Errorf("helm install output lacks the deployed status or the dry-run warning:\n%s", out)
	}
	t.Logf("helm install (every object admitted by the API server) took %s", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		_, _ = helm.run(c, "uninstall", helmRelease, "--namespace", helmNamespace, "--ignore-not-found")
	})
	helmCheckInstalled(t, ctx, c)

	helmDaemonSet(t, ctx, c) // so node-drain has a DaemonSet pod to look up and skip
	kubeconfig := helmTokenKubeconfig(t, c, helmNamespace, helmFullname)
	var daemon *chaosdProcess
	var cfg *configDir
	ok := t.Run("every action kind as the ServiceAccount", func(t *testing.T) {
		helmEveryAction(t, ctx, c, kubeconfig, &hits, helmClusterScope)
	})
	if ok {
		// Started here, not in a subtest: it lives on until the upgrade.
		cfg = newConfigDir(t, helmConfigMapData(t, ctx, c))
		daemon = helmStartDaemon(t, c, kubeconfig, cfg.Path, helmClusterScope)
	}
	ok = ok && t.Run("chaosd run as the ServiceAccount", func(t *testing.T) {
		helmCheckDaemon(t, ctx, c, daemon, helmClusterScope)
	})
	ok = ok && t.Run("helm upgrade is hot-reloaded without a restart", func(t *testing.T) {
		helmCheckUpgrade(t, ctx, c, helm, daemon, cfg, values(helmUpgradeExperiment))
	})
	if daemon != nil {
		helmStopDaemon(t, daemon)
	}
	if ok {
		t.Run("helm uninstall leaves nothing behind", func(t *testing.T) {
			helmCheckUninstall(t, ctx, c, helm)
		})
	}
}

// helmCheckInstalled checks what the install created: cluster-scope RBAC
// including node-delete, and the Deployment's pods faked by kwok.
func helmCheckInstalled(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	t.Helper()
	cr, err := c.Kube.RbacV1().ClusterRoles().Get(ctx, helmFullname, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ClusterRole: %v", err)
	}
	var nodeVerbs []string
	for _, r := range cr.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if g == "*" || res == "*" || slices.Contains(r.Verbs, "*") {
					t.Errorf("ClusterRole grants a wildcard: %+v", r)
				}
			}
		}
		if slices.Contains(r.Resources, "nodes") {
			nodeVerbs = append(nodeVerbs, r.Verbs...)
		}
	}
	for _, v := range []string{"patch", "update", "delete", "create"} {
		if !slices.Contains(nodeVerbs, v) {
			t.Errorf("ClusterRole lacks %s on nodes with rbac.nodeExperiments: %v", v, nodeVerbs)
		}
	}
	eventually(t, time.Minute, "the chart's 2 pods Running (kwok)", func() bool {
		pods, err := c.Kube.CoreV1().Pods(helmNamespace).List(ctx, metav1.ListOptions{LabelSelector: helmInstanceSel})
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return err == nil && running == 2
	})
}

// helmEveryAction runs `chaosd once` for every experiment of the config the
// chart rendered, as the chart's ServiceAccount with the scope's flags, and
// requires PASSED and no 403 for each, and no fault left behind in between.
func helmEveryAction(t *testing.T, ctx context.Context, c *cluster.Cluster, kubeconfig string, hits *atomic.Int64, scope helmScope) {
	cfg := newConfigDir(t, helmConfigMapData(t, ctx, c))
	journal := filepath.Join(t.TempDir(), "journal")
	for _, exp := range scope.actions {
		// Stop at the first failure: a 403 on the inventory makes every
		// further run wait out chaosd's 2-minute sync timeout.
		if t.Failed() {
			break
		}
		t.Run(exp, func(t *testing.T) {
			helmSettle(t, ctx, c)
			begin := time.Now()
			code, out := helmChaosd(t, kubeconfig, helmOnceTimeout, append([]string{"once", exp, "--config", cfg.Path,
				"--namespace", helmNamespace, "--configmap", helmConfigMap, "--journal-dir", journal,
				"--identity", "helm-e2e-once", "--log-format", "json"}, scope.args...)...)
			t.Logf("chaosd once %s as system:serviceaccount:chaosd:chaosd: exit %d in %s", exp, code, time.Since(begin).Round(time.Millisecond))
			helmRequireNoForbidden(t, "chaosd once "+exp, out)
			if code != 0 || !strings.Contains(out, "PASSED") {
				t.Fatalf("exit %d, want 0 and PASSED:\n%s", code, tail(out, 60))
			}
			assertNothingLeft(t, c)
		})
	}
	if t.Failed() {
		return
	}
	if hits.Load() == 0 {
		t.Error("http-load sent no request to the load target")
	}
	t.Logf("http-load: %d requests reached the target", hits.Load())
	helmRequireNoForbidden(t, "the journal", helmReadTree(t, journal))
	helmCheckEvents(t, ctx, c, scope.events)
}

// helmDaemonSet runs a DaemonSet on every node, in a namespace of its own.
// kubectl's drain logic GETs the DaemonSet of each DaemonSet pod before
// skipping it, a permission only a drain of such a node exercises.
func helmDaemonSet(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	t.Helper()
	const ns = "helm-e2e-agents"
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "agent"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{cluster.NodeTypeLabel: cluster.NodeTypeKwok},
					Containers:   []corev1.Container{{Name: "agent", Image: "registry.example/agent:1"}},
				},
			},
		},
	}
	if _, err := c.Kube.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the DaemonSet ready on 3 nodes", func() bool {
		got, err := c.Kube.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
		return err == nil && got.Status.NumberReady == 3
	})
}

// helmSettle waits until the demo is whole again: all nodes Ready and
// schedulable, the Deployments available, and the PDB allowing a
// disruption (its status lags behind the pods).
func helmSettle(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := c.WaitNodesReady(wctx, 3); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "every node schedulable", func() bool {
		nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) != 3 {
			return false
		}
		for _, n := range nodes.Items {
			if n.Spec.Unschedulable {
				return false
			}
		}
		return true
	})
	if err := c.WaitDemoReady(wctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "PDB go-demo-8 to allow a disruption", func() bool {
		pdb, err := c.Kube.PolicyV1().PodDisruptionBudgets(cluster.DemoNamespace).Get(ctx, "go-demo-8", metav1.GetOptions{})
		return err == nil && pdb.Status.DisruptionsAllowed >= 1
	})
}

// helmCheckEvents requires the Events chaosd recorded as the ServiceAccount
// (events.k8s.io, reporting controller "chaosd"), as Kind/Reason: on
// VirtualServices in go-demo-8 and on Nodes (which land in "default").
func helmCheckEvents(t *testing.T, ctx context.Context, c *cluster.Cluster, want []string) {
	t.Helper()
	kinds := map[string]int{}
	for _, ns := range []string{cluster.DemoNamespace, metav1.NamespaceDefault} {
		evs, err := c.Kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs.Items {
			if ev.ReportingController == "chaosd" {
				kinds[ev.Regarding.Kind+"/"+ev.Reason]++
			}
		}
	}
	t.Logf("Events recorded by chaosd: %v", kinds)
	for _, w := range want {
		if kinds[w] == 0 {
			t.Errorf("no %s Event recorded by chaosd", w)
		}
	}
}

// helmStartDaemon runs `chaosd run` as startChaosd does, but with the
// ServiceAccount's kubeconfig and the chart's container args: leader
// election on the Lease named like the release, its ConfigMap, the scope's
// flags.
func helmStartDaemon(t *testing.T, c *cluster.Cluster, kubeconfig, cfgPath string, scope helmScope) *chaosdProcess {
	t.Helper()
	addr := freeLoopbackAddr(t)
	args := append([]string{"run", "--config", cfgPath, "--kubeconfig", kubeconfig, "--namespace", helmNamespace,
		"--identity", "helm-e2e-replica", "--leader-elect=true", "--lease-name", helmFullname,
		"--configmap", helmConfigMap, "--listen", addr, "--journal-dir", filepath.Join(t.TempDir(), "journal"),
		"--log-format", "json", "--log-level", "info"}, scope.args...)
	return launchChaosd(t, addr, args)
}

// helmCheckDaemon waits for the daemon to lead (Lease), publish its status
// on the chart's ConfigMap and run a recovery pass (VirtualServices, and
// cluster-wide nodes and snapshots), then requires no 403 in its log.
func helmCheckDaemon(t *testing.T, ctx context.Context, c *cluster.Cluster, p *chaosdProcess, scope helmScope) {
	eventually(t, time.Minute, "the Lease held by helm-e2e-replica", func() bool {
		l, err := c.Kube.CoordinationV1().Leases(helmNamespace).Get(ctx, helmFullname, metav1.GetOptions{})
		return err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == "helm-e2e-replica"
	})
	eventually(t, time.Minute, "status published on the chart's ConfigMap", func() bool {
		cm, err := c.Kube.CoreV1().ConfigMaps(helmNamespace).Get(ctx, helmConfigMap, metav1.GetOptions{})
		return err == nil && strings.Contains(cm.Annotations["chaosd.io/status"], `"leader":"helm-e2e-replica"`)
	})
	st := p.Status(t)
	if st.State != "running" || len(st.Next) != len(scope.actions) {
		t.Errorf("status: state %q with %d next activations, want running with %d", st.State, len(st.Next), len(scope.actions))
	}
	// The window for a 403 is two Lease renewals (every 2 s) observed on the
	// Lease itself, not a sleep: each renewal is a round of chaosd's API calls.
	renewed := func() time.Time {
		l, err := c.Kube.CoordinationV1().Leases(helmNamespace).Get(ctx, helmFullname, metav1.GetOptions{})
		if err != nil || l.Spec.RenewTime == nil {
			return time.Time{}
		}
		return l.Spec.RenewTime.Time
	}
	for i := range 2 {
		before := renewed()
		eventually(t, time.Minute, fmt.Sprintf("Lease renewal %d", i+1), func() bool { return renewed().After(before) })
	}
	helmRequireNoForbidden(t, "chaosd run", p.Log())
}

// helmStopDaemon stops chaosd run (SIGTERM) and requires a clean stop and
// no 403 in its whole log.
func helmStopDaemon(t *testing.T, p *chaosdProcess) {
	t.Helper()
	p.Stop(30 * time.Second)
	helmRequireNoForbidden(t, "chaosd run", p.Log())
	if !strings.Contains(p.Log(), "chaosd stopped") {
		t.Errorf("chaosd run did not stop cleanly:\n%s", tail(p.Log(), 40))
	}
}

// helmCheckUpgrade runs `helm upgrade` with one more experiment and checks
// that the running chaosd adopts it without any pod being restarted.
//
// Emulation, honestly: kwok pods run no container, so no kubelet ever
// refreshes a mounted ConfigMap. The test plays the kubelet: it reads
// config.yaml from the ConfigMap helm upgraded and swaps it into the local
// chaosd's config directory the way the kubelet updates a ConfigMap volume
// (new timestamped dir, atomic ..data symlink rename). What is proven for
// real: helm upgrade changes the ConfigMap and nothing else in the pod
// template (no rollout, same pods), and chaosd reloads that exact content.
func helmCheckUpgrade(t *testing.T, ctx context.Context, c *cluster.Cluster, helm *helmCLI, p *chaosdProcess, cfg *configDir, values string) {
	before := helmPodUIDs(t, ctx, c)
	dep, err := c.Kube.AppsV1().Deployments(helmNamespace).Get(ctx, helmFullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := helm.run(c, "upgrade", helmRelease, helm.chart, "--namespace", helmNamespace, "--wait=false",
		"-f", helm.writeValues(t, values)); err != nil {
		t.Fatalf("helm upgrade: %v\n%s", err, out)
	}
	data := helmConfigMapData(t, ctx, c)
	if !strings.Contains(data, "added-by-upgrade") {
		t.Fatalf("ConfigMap after helm upgrade lacks the new experiment:\n%s", data)
	}
	want := sha256.Sum256([]byte(data))
	swapped := time.Now()
	cfg.Swap(t, data)
	var st control.Status
	eventually(t, time.Minute, "chaosd to report the upgraded config", func() bool {
		st = p.Status(t)
		return st.ConfigHash == hex.EncodeToString(want[:])
	})
	t.Logf("config swapped in -> new hash in /api/v1/status: %s", time.Since(swapped).Round(time.Millisecond))
	// An Event in chaosd's own namespace, through the chart's Role.
	eventually(t, 30*time.Second, "a ConfigReloaded Event on the chart's ConfigMap", func() bool {
		evs, err := c.Kube.EventsV1().Events(helmNamespace).List(ctx, metav1.ListOptions{})
		for _, ev := range evs.Items {
			if ev.Reason == "ConfigReloaded" && ev.Regarding.Kind == "ConfigMap" && ev.Regarding.Name == helmConfigMap {
				return err == nil
			}
		}
		return false
	})
	if st.ConfigError != "" || !slices.ContainsFunc(st.Next, func(n control.NextActivation) bool {
		return n.Experiment == "added-by-upgrade"
	}) {
		t.Errorf("after reload: configError %q, next %v; want no error and added-by-upgrade scheduled", st.ConfigError, st.Next)
	}
	after, err := c.Kube.AppsV1().Deployments(helmNamespace).Get(ctx, helmFullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Generation != dep.Generation {
		t.Errorf("Deployment generation %d -> %d: helm upgrade of the config rolled the pods", dep.Generation, after.Generation)
	}
	if got := helmPodUIDs(t, ctx, c); !slices.Equal(got, before) {
		t.Errorf("pods before the upgrade %v, after %v: want the same pods", before, got)
	}
}

func helmPodUIDs(t *testing.T, ctx context.Context, c *cluster.Cluster) []string {
	t.Helper()
	pods, err := c.Kube.CoreV1().Pods(helmNamespace).List(ctx, metav1.ListOptions{LabelSelector: helmInstanceSel})
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, p := range pods.Items {
		uids = append(uids, string(p.UID))
	}
	slices.Sort(uids)
	return uids
}

// helmCheckUninstall runs `helm uninstall` and looks for anything of the
// release left, cluster-scoped and in every namespace. What chaosd created
// at run time is not the release's: its Lease and its Events stay (Events
// expire with the API server's --event-ttl), as does the namespace helm
// created with --create-namespace. chaosd's own injection records (node
// snapshot ConfigMaps) must be gone: every fault was reverted.
func helmCheckUninstall(t *testing.T, ctx context.Context, c *cluster.Cluster, helm *helmCLI) {
	if out, err := helm.run(c, "uninstall", helmRelease, "--namespace", helmNamespace, "--wait"); err != nil {
		t.Fatalf("helm uninstall: %v\n%s", err, out)
	}
	var left []string
	eventually(t, 2*time.Minute, "nothing of the release left", func() bool {
		left = helmLeftovers(t, ctx, c)
		return len(left) == 0
	})
	assertNothingLeft(t, c)
	if _, err := c.Kube.CoordinationV1().Leases(helmNamespace).Get(ctx, helmFullname, metav1.GetOptions{}); err == nil {
		t.Logf("left by design: Lease %s/%s (created by chaosd at run time, not by the chart)", helmNamespace, helmFullname)
	}
	if out, err := helm.run(c, "list", "--all-namespaces", "--all", "-q"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("helm list after uninstall: %q, %v", out, err)
	}
}

// helmLeftovers lists every object of the kinds the chart creates (plus the
// ReplicaSets and pods of its Deployment, and helm's release Secrets) that
// still carries the release's instance label, cluster-scoped or in any
// namespace, and the cluster-scoped RBAC by name in case a label went missing.
func helmLeftovers(t *testing.T, ctx context.Context, c *cluster.Cluster) []string {
	t.Helper()
	meta, err := metadata.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	rbac := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: r}
	}
	core := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Version: "v1", Resource: r}
	}
	apps := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: r}
	}
	kinds := []schema.GroupVersionResource{
		rbac("clusterroles"), rbac("clusterrolebindings"), rbac("roles"), rbac("rolebindings"),
		core("serviceaccounts"), core("configmaps"), core("secrets"), core("services"), core("pods"),
		core("persistentvolumeclaims"), apps("deployments"), apps("replicasets"),
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	}
	var left []string
	list := func(gvr schema.GroupVersionResource, selector string) {
		l, err := meta.Resource(gvr).Namespace(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			left = append(left, fmt.Sprintf("%s: %v", gvr.Resource, err))
			return
		}
		for _, o := range l.Items {
			left = append(left, gvr.Resource+" "+strings.TrimPrefix(o.Namespace+"/"+o.Name, "/"))
		}
	}
	for _, gvr := range kinds {
		list(gvr, helmInstanceSel)
	}
	list(core("secrets"), "owner=helm,name="+helmRelease) // helm's release records
	for _, gvr := range kinds[:2] {
		if _, err := meta.Resource(gvr).Get(ctx, helmFullname, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, fmt.Sprintf("%s %s by name: %v", gvr.Resource, helmFullname, err))
		}
	}
	return left
}

// --- helm, tokens, chaosd as the ServiceAccount ---

// helmCLI runs the real helm binary with its own config, cache and data
// directories, so nothing outside the test's temp dir is touched.
type helmCLI struct {
	bin   string
	chart string
	env   []string
}

var (
	helmFindOnce sync.Once
	helmFound    string
	helmFindErr  error
)

// newHelmCLI finds helm as test/helm does: $CHAOSD_E2E_BIN/helm, helm on
// PATH, else the bin directory hack/e2e-bins.sh prints last.
func newHelmCLI(t *testing.T) *helmCLI {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	helmFindOnce.Do(func() { helmFound, helmFindErr = helmFind(root) })
	if helmFindErr != nil {
		t.Fatalf("no helm binary: %v", helmFindErr)
	}
	home := t.TempDir()
	return &helmCLI{bin: helmFound, chart: filepath.Join(root, "charts", "chaosd"), env: append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"), "KUBECONFIG=/dev/null")}
}

func helmFind(root string) (string, error) {
	if dir := os.Getenv("CHAOSD_E2E_BIN"); dir != "" {
		return filepath.Join(dir, "helm"), nil
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p, nil
	}
	cmd := exec.Command(filepath.Join(root, "hack", "e2e-bins.sh"))
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/e2e-bins.sh: %w: %s", err, tail(stderr.String(), 5))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	p := filepath.Join(strings.TrimSpace(lines[len(lines)-1]), "helm")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// run runs helm against c (nil: no cluster, for helm template) and returns
// its combined output.
func (h *helmCLI) run(c *cluster.Cluster, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), helmCmdTimeout)
	defer cancel()
	if c != nil {
		args = append(args, "--kubeconfig", c.Kubeconfig)
	}
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = h.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (h *helmCLI) writeValues(t *testing.T, values string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "values-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(values); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// helmTokenKubeconfig asks the TokenRequest API for a token of the
// ServiceAccount and writes a kubeconfig using it, for the same API server
// and CA as the admin kubeconfig. This is what a pod of the chart mounts.
func helmTokenKubeconfig(t *testing.T, c *cluster.Cluster, namespace, sa string) string {
	t.Helper()
	exp := int64(helmTokenSeconds)
	tr, err := c.Kube.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", namespace, sa, err)
	}
	admin, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	server := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: server.Server, CertificateAuthorityData: server.CertificateAuthorityData,
		CertificateAuthority: server.CertificateAuthority}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts[sa] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: sa, Namespace: namespace}
	cfg.CurrentContext = sa
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func helmClientFor(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// helmChaosd runs a chaosd command with the given kubeconfig. At the
// timeout it sends SIGTERM (chaosd reverts and exits), then SIGKILL.
func helmChaosd(t *testing.T, kubeconfig string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaosdBinary(t), append(args, "--kubeconfig", kubeconfig)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("chaosd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return 0, string(out)
}

// helmRequireNoForbidden fails on any 403 in chaosd's output: its own log,
// client-go's (klog, on stderr) and the Event broadcaster's.
func helmRequireNoForbidden(t *testing.T, what, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("%s met a 403: %s", what, line)
		}
	}
}

func helmConfigMapData(t *testing.T, ctx context.Context, c *cluster.Cluster) string {
	t.Helper()
	cm, err := c.Kube.CoreV1().ConfigMaps(helmNamespace).Get(ctx, helmConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the chart's ConfigMap: %v", err)
	}
	return cm.Data["config.yaml"]
}

// helmReadTree concatenates every file under dir.
func helmReadTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	return b.String()
}
