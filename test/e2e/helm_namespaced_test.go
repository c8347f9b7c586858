//go:build e2e

package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/targets"
	"github.com/chaosd/chaosd/test/cluster"
)

// TestHelmNamespacedScope proves rbac.scope=namespaced works and confines
// chaosd to rbac.namespaces:
//   - the chart refuses, at render time, experiments aimed elsewhere, at
//     nodes or without target namespaces (helm template and install alike);
//   - installed, chaosd runs locally AUTHENTICATED AS THE RELEASE'S
//     SERVICEACCOUNT with the Deployment's --namespaced --watch-namespaces:
//     one `chaosd once` of every action kind the scope allows and a `chaosd
//     run` (Lease, readiness, status, metrics, recovery) meet no 403, and a
//     reload aiming at nodes is rejected while the last good config stays;
//   - chaosd itself refuses configs aimed at another namespace or at nodes,
//     with the validation error and its exit code, before any cluster access;
//   - forced past that, the API server refuses the ServiceAccount outside
//     rbac.namespaces, and so chaosd meets 403s.
func TestHelmNamespacedScope(t *testing.T) {
	helm := newHelmCLI(t)
	c := cluster.Start(t, cluster.Options{Kwok: true, IstioCRDs: true, DemoWorkload: true, Alertmanager: cluster.AlertmanagerOptions{Enabled: true}})
	ctx := context.Background()

	t.Run("the chart refuses experiments outside rbac.namespaces", func(t *testing.T) {
		tests := []struct {
			name, values, want string
		}{
			{"pod in another namespace", helmNamespacedValues("pod-kill-other", "{kind: pod, namespaces: ["+helmOtherNS+"], mode: one}", "{type: pod-kill}"),
				`config.experiments[0] (pod-kill-other): target namespace "` + helmOtherNS + `" is not in rbac.namespaces, so chaosd has no access to it`},
			{"virtualservice in another namespace", helmNamespacedValues("abort-other", "{kind: virtualservice, namespaces: [go-demo-8, "+helmOtherNS+"], mode: one}", "{type: http-abort, status: 500}") + "      duration: 1m\n",
				`config.experiments[0] (abort-other): target namespace "` + helmOtherNS + `" is not in rbac.namespaces`},
			{"pod in every namespace", helmNamespacedValues("pod-kill-anywhere", "{kind: pod, mode: one}", "{type: pod-kill}"),
				`config.experiments[0] (pod-kill-anywhere): target kind pod needs target.namespaces with rbac.scope=namespaced`},
			{"node experiment", helmNamespacedValues("cordon", "{kind: node, mode: one}", "{type: node-cordon}") + "      duration: 1m\n",
				`config.experiments[0] (cordon): target kind node needs cluster-wide access to nodes; it cannot run with rbac.scope=namespaced`},
			{"zone experiment", helmNamespacedValues("zone", "{kind: zone}", "{type: node-cordon}") + "      duration: 1m\n",
				`config.experiments[0] (zone): target kind zone needs cluster-wide access to nodes`},
			// values.schema.json catches this one before the templates do.
			{"no namespaces", "rbac: {scope: namespaced}\n", `at '/rbac/namespaces': minItems: got 0, want 1`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vals := helm.writeValues(t, tt.values)
				out, err := helm.run(nil, "template", helmRelease, helm.chart, "--namespace", helmNamespace, "--kube-version", "1.28.0", "-f", vals)
				if err == nil || !strings.Contains(out, tt.want) {
					t.Errorf("helm template: %v, want failure with %q:\n%s", err, tt.want, out)
				}
				out, err = helm.run(c, "install", helmRelease, helm.chart, "--namespace", helmNamespace, "--create-namespace", "--wait=false", "-f", vals)
				if err == nil || !strings.Contains(out, tt.want) {
					t.Errorf("helm install: %v, want failure with %q:\n%s", err, tt.want, out)
				}
			})
		}
		if out, err := helm.run(c, "list", "--all-namespaces", "--all", "-q"); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("releases after refused installs: %q, %v", out, err)
		}
		if left := helmLeftovers(t, ctx, c); len(left) > 0 {
			t.Errorf("refused installs left objects: %v", left)
		}
	})

	var hits atomic.Int64
	load := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(load.Close)
	values := strings.NewReplacer("ALERTMANAGER_URL", c.AlertmanagerURL, "LOAD_URL", load.URL).Replace(helmNamespacedActionsValues)
	out, err := helm.run(c, "install", helmRelease, helm.chart, "--namespace", helmNamespace, "--create-namespace",
		"--wait=false", "-f", helm.writeValues(t, values))
	if err != nil {
		t.Fatalf("helm install (namespaced): %v\n%s", err, out)
	}
	if !strings.Contains(out, "only act in go-demo-8") || strings.Contains(out, "not support") {
		t.Errorf("install notes do not describe the namespaced scope, or still call it unsupported:\n%s", out)
	}
	t.Cleanup(func() {
		_, _ = helm.run(c, "uninstall", helmRelease, "--namespace", helmNamespace, "--ignore-not-found")
	})
	if l, err := c.Kube.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: helmInstanceSel}); err != nil || len(l.Items) > 0 {
		t.Fatalf("namespaced scope created ClusterRoles: %v %v", l, err)
	}
	// The flags the chart's Deployment gives chaosd in this scope are the
	// ones every chaosd below runs with.
	dep, err := c.Kube.AppsV1().Deployments(helmNamespace).Get(ctx, helmFullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if args := dep.Spec.Template.Spec.Containers[0].Args; !helmHasAll(args, helmNamespacedScope.args) {
		t.Fatalf("container args %v lack %v", args, helmNamespacedScope.args)
	}
	victim := helmOtherNamespacePod(t, ctx, c)
	kubeconfig := helmTokenKubeconfig(t, c, helmNamespace, helmFullname)

	ok := t.Run("every action kind as the ServiceAccount", func(t *testing.T) {
		helmEveryAction(t, ctx, c, kubeconfig, &hits, helmNamespacedScope)
	})
	if ok {
		t.Run("chaosd run as the ServiceAccount", func(t *testing.T) {
			helmCheckNamespacedDaemon(t, ctx, c, kubeconfig)
		})
	}

	t.Run("chaosd refuses configs outside its namespaces", func(t *testing.T) {
		helmCheckScopeRefusals(t, kubeconfig)
		if _, err := c.Kube.CoreV1().Pods(helmOtherNS).Get(ctx, victim, metav1.GetOptions{}); err != nil {
			t.Errorf("the pod in %s: %v, want untouched", helmOtherNS, err)
		}
	})

	t.Run("the API server refuses the ServiceAccount outside rbac.namespaces", func(t *testing.T) {
		sa := helmClientFor(t, kubeconfig)
		dry := metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}
		demo, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=go-demo-8"})
		if err != nil || len(demo.Items) == 0 {
			t.Fatalf("demo pods: %v", err)
		}
		// Allowed where the Role is (server-side dry run: nothing is deleted).
		if err := sa.CoreV1().Pods(cluster.DemoNamespace).Delete(ctx, demo.Items[0].Name, dry); err != nil {
			t.Errorf("dry-run delete in go-demo-8: %v, want allowed", err)
		}
		forbidden := map[string]error{
			"delete a pod in " + helmOtherNS: sa.CoreV1().Pods(helmOtherNS).Delete(ctx, victim, dry),
			"evict a pod in " + helmOtherNS: sa.PolicyV1().Evictions(helmOtherNS).Evict(ctx, &policyv1.Eviction{
				ObjectMeta: metav1.ObjectMeta{Namespace: helmOtherNS, Name: victim}, DeleteOptions: &dry}),
		}
		_, forbidden["list pods cluster-wide"] = sa.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		_, forbidden["list nodes"] = sa.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		_, forbidden["list namespaces"] = sa.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		for what, err := range forbidden {
			if !apierrors.IsForbidden(err) {
				t.Errorf("%s as the ServiceAccount: %v, want 403 Forbidden", what, err)
			}
		}
	})

	t.Run("chaosd forced to aim at another namespace meets 403s", func(t *testing.T) {
		// A config the chart and chaosd's validation would refuse, forced
		// through: run cluster-wide, or told to watch the other namespace.
		cfg := newConfigDir(t, helmKillOtherConfig)
		tests := []struct {
			name string
			args []string
			want *regexp.Regexp
		}{
			{"cluster-wide", nil,
				regexp.MustCompile(`pods is forbidden: User \\?"system:serviceaccount:chaosd:chaosd\\?" cannot list resource \\?"pods`)},
			{"watching " + helmOtherNS, []string{"--namespaced", "--watch-namespaces=" + helmOtherNS},
				regexp.MustCompile(`cannot list resource \\?"pods\\?" in API group \\?"\\?" in the namespace \\?"` + helmOtherNS)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// 100s is a hang guard that still tells the two apart: waiting
				// out the inventory's 2-minute sync timeout would exceed it.
				code, out := helmChaosd(t, kubeconfig, 100*time.Second, append([]string{"once", "kill-other", "--config", cfg.Path,
					"--namespace", helmNamespace, "--configmap", helmConfigMap, "--journal-dir", t.TempDir(), "--log-format", "json"}, tt.args...)...)
				// It stops on the first refusal (exit 2, an error) rather than
				// wait out the sync timeout.
				if code != 2 || !tt.want.MatchString(out) || !strings.Contains(out, targets.ErrDenied.Error()) {
					t.Errorf("exit %d, want 2 on the API server's 403 listing pods:\n%s", code, tail(out, 30))
				}
			})
		}
		if _, err := c.Kube.CoreV1().Pods(helmOtherNS).Get(ctx, victim, metav1.GetOptions{}); err != nil {
			t.Errorf("the pod in %s: %v, want untouched", helmOtherNS, err)
		}
	})

	t.Run("helm uninstall leaves nothing behind", func(t *testing.T) {
		helmCheckUninstall(t, ctx, c, helm)
	})
}

// helmGuard is the chart's default guard: these configs are refused, or
// stopped by a 403, before any run asks it.
const helmGuard = "guard:\n  alertmanager: {url: \"http://alertmanager-operated.monitoring:9093\"}\n"

// helmKillOtherConfig aims a pod-kill at helmOtherNS, outside rbac.namespaces.
const helmKillOtherConfig = helmGuard + "experiments:\n  - name: kill-other\n    schedule: \"@every 1h\"\n" +
	"    target: {kind: pod, namespaces: [" + helmOtherNS + "], mode: one}\n    action: {type: pod-kill}\n    observe: 1s\n"

// helmDrainConfig is a node experiment, which namespaced mode refuses.
const helmDrainConfig = helmGuard + "experiments:\n  - name: drain\n    schedule: \"@every 1h\"\n" +
	"    target: {kind: node, mode: one}\n    action: {type: node-drain}\n    duration: 1m\n"

// Validation messages of chaosd --namespaced --watch-namespaces=go-demo-8.
const (
	helmNotWatched = `experiments[0].target.namespaces[0]: namespace "` + helmOtherNS + `" is not watched (--watch-namespaces=go-demo-8), so chaosd has no access to it`
	helmNoNodes    = `experiments[0].target.kind: target kind node needs cluster-wide access to nodes; it cannot run with --namespaced`
)

// helmCheckNamespacedDaemon runs `chaosd run` as the ServiceAccount with
// the chart's namespaced flags on the chart's config: it must become ready,
// lead, publish its status, serve metrics and recover without a 403, and
// reject a reload aiming at nodes while keeping the last good config.
func helmCheckNamespacedDaemon(t *testing.T, ctx context.Context, c *cluster.Cluster, kubeconfig string) {
	cfg := newConfigDir(t, helmConfigMapData(t, ctx, c))
	p := helmStartDaemon(t, c, kubeconfig, cfg.Path, helmNamespacedScope) // returns once /readyz answers 200
	helmCheckDaemon(t, ctx, c, p, helmNamespacedScope)
	if code, body := p.Get(t, "/metrics"); code != http.StatusOK || !strings.Contains(body, "chaosd_build_info") {
		t.Errorf("GET /metrics: %d, want 200 with chaosd_build_info", code)
	}

	good := p.Status(t).ConfigHash
	cfg.Swap(t, helmDrainConfig)
	var st control.Status
	eventually(t, time.Minute, "chaosd to reject the reload aiming at nodes", func() bool {
		st = p.Status(t)
		return st.ConfigError != ""
	})
	if !strings.Contains(st.ConfigError, helmNoNodes) || st.ConfigHash != good || len(st.Next) != len(helmNamespacedScope.actions) {
		t.Errorf("after the reload: configError %q, hash %s (was %s), %d next; want %q and the last good config",
			st.ConfigError, st.ConfigHash, good, len(st.Next), helmNoNodes)
	}
	helmStopDaemon(t, p)
}

// helmCheckScopeRefusals hands chaosd, with the chart's namespaced flags,
// configs aimed at another namespace and at nodes: run, once and validate
// each refuse them with the validation message and their exit code, and
// meet no 403 (they stop before reading the cluster).
func helmCheckScopeRefusals(t *testing.T, kubeconfig string) {
	other, drain := newConfigDir(t, helmKillOtherConfig), newConfigDir(t, helmDrainConfig)
	common := []string{"--namespace", helmNamespace, "--configmap", helmConfigMap, "--journal-dir", t.TempDir()}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"once at another namespace", append([]string{"once", "kill-other", "--config", other.Path}, common...), 2, helmNotWatched},
		{"once at nodes", append([]string{"once", "drain", "--config", drain.Path}, common...), 2, helmNoNodes},
		{"run at another namespace", append([]string{"run", "--config", other.Path, "--listen", freeLoopbackAddr(t)}, common...), 1, helmNotWatched},
		{"run at nodes", append([]string{"run", "--config", drain.Path, "--listen", freeLoopbackAddr(t)}, common...), 1, helmNoNodes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := helmChaosd(t, kubeconfig, time.Minute, append(tt.args, helmNamespacedScope.args...)...)
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tt.wantCode, tt.want, tail(out, 20))
			}
			helmRequireNoForbidden(t, tt.name, out)
		})
	}
	t.Run("validate", func(t *testing.T) {
		cmd := exec.Command(chaosdBinary(t), "validate", "-f", other.Path, "-f", drain.Path, "--watch-namespaces=go-demo-8")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), helmNotWatched) || !strings.Contains(string(out), helmNoNodes) {
			t.Errorf("chaosd validate --watch-namespaces: %v, want exit 1 with both problems:\n%s", err, out)
		}
	})
}

// helmHasAll reports whether args contain every one of want.
func helmHasAll(args, want []string) bool {
	for _, w := range want {
		if !slices.Contains(args, w) {
			return false
		}
	}
	return true
}

// helmNamespacedValues is a namespaced-scope release for go-demo-8 with a
// single experiment.
func helmNamespacedValues(name, target, action string) string {
	return `rbac:
  scope: namespaced
  namespaces: [go-demo-8]
config:
  dryRun: false
  experiments:
    - name: ` + name + `
      schedule: "@every 1h"
      target: ` + target + `
      action: ` + action + `
`
}

// helmOtherNamespacePod creates a pod outside rbac.namespaces.
func helmOtherNamespacePod(t *testing.T, ctx context.Context, c *cluster.Cluster) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: helmOtherNS}}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: helmOtherNS, Name: "bystander", Labels: map[string]string{"app": "bystander"}},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{cluster.NodeTypeLabel: cluster.NodeTypeKwok},
			Containers:   []corev1.Container{{Name: "app", Image: "registry.example/bystander:1"}},
		},
	}
	if _, err := c.Kube.CoreV1().Pods(helmOtherNS).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return pod.Name
}
