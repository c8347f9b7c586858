//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/test/cluster"
)

// namespacedPlanConfig aims only at go-demo-8.
const namespacedPlanConfig = `
experiments:
  - name: kill-api
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: pod-kill}
  - name: abort-api
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 1m
`

// namespacedRequest matches a request for resources (not API discovery)
// and returns the namespace it is scoped to, "" for a cluster-wide one.
func namespacedRequest(r *http.Request) (ns string, resource bool) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// /api/v1/RES..., /apis/G/V/RES...: resource requests are longer than
	// discovery (/api, /api/v1, /apis, /apis/G, /apis/G/V).
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "", false
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		if len(parts) == 2 { // the Namespace object itself
			return "", true
		}
		return parts[1], true
	}
	return "", true
}

// TestTargetsPlanClusterWatchNamespaces: `chaosd plan --cluster
// --watch-namespaces go-demo-8` plans against the real API server reading
// only go-demo-8 (and chaosd's own namespace), as chaosd run --namespaced
// does; every resource request is counted at an API proxy. A config aiming
// outside the watched namespaces is refused before anything is read.
func TestTargetsPlanClusterWatchNamespaces(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	proxy := cluster.NewAPIProxy(t, c)
	var (
		mu      sync.Mutex // the proxy counts from its handlers' goroutines
		outside []string
	)
	inside := proxy.Count(func(r *http.Request) bool {
		ns, res := namespacedRequest(r)
		if res && ns != cluster.DemoNamespace && ns != chaosdNamespace {
			mu.Lock()
			outside = append(outside, r.Method+" "+r.URL.String())
			mu.Unlock()
		}
		return res && ns == cluster.DemoNamespace
	})
	plan := func(cfg string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // hang guard
		defer cancel()
		cmd := exec.CommandContext(ctx, chaosdBinary(t), "plan", "--cluster", "-f", newConfigDir(t, cfg).Path, "--watch-namespaces", cluster.DemoNamespace,
			"--namespace", chaosdNamespace, "--seed", "7", "--kubeconfig", proxy.Kubeconfig)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}

	code, out := plan(namespacedPlanConfig)
	t.Logf("chaosd plan --cluster --watch-namespaces %s:\n%s", cluster.DemoNamespace, out)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"would pick: pod/go-demo-8/go-demo-8-", "would pick: virtualservice/go-demo-8/go-demo-8"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	if inside() == 0 {
		t.Error("no request for go-demo-8's resources reached the proxy: the plan did not go through it")
	}
	mu.Lock()
	if len(outside) > 0 {
		t.Errorf("the plan read outside the watched namespace: %q", outside)
	}
	mu.Unlock()

	code, out = plan(strings.ReplaceAll(namespacedPlanConfig, "namespaces: [go-demo-8], selector: app=go-demo-8", "namespaces: [kube-system], selector: app=go-demo-8"))
	if code == 0 || !strings.Contains(out, "kube-system") {
		t.Errorf("a config aiming at kube-system: exit %d, want a refusal naming it:\n%s", code, out)
	}
}

// TestTargetsNamespacedWatchCount measures how many watches `chaosd run`
// opens per watched namespace in namespaced mode: it starts the daemon
// through an API proxy watching 1 and then 3 namespaces and counts the
// watch requests per namespace once it is ready and has settled. Logged as
// "FIGURE watches per watched namespace" for docs/benchmarks.md.
func TestTargetsNamespacedWatchCount(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	extra := []string{"chaosd-e2e-watch-a", "chaosd-e2e-watch-b"}
	for _, ns := range extra {
		_, err := c.Kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	cfg := newConfigDir(t, withMonitoring(c, expGuard+namespacedPlanConfig))
	for _, watched := range [][]string{{cluster.DemoNamespace}, append([]string{cluster.DemoNamespace}, extra...)} {
		t.Run(fmt.Sprintf("%d namespaces", len(watched)), func(t *testing.T) {
			proxy := cluster.NewAPIProxy(t, c)
			counts := map[string]func() int64{}
			for _, ns := range append(append([]string{}, watched...), chaosdNamespace, "") {
				counts[ns] = proxy.Count(func(r *http.Request) bool {
					got, res := namespacedRequest(r)
					return res && got == ns && r.URL.Query().Get("watch") == "true"
				})
			}
			var mu sync.Mutex
			kinds := map[string]int{} // resource -> watches in the first watched namespace
			proxy.Count(func(r *http.Request) bool {
				if ns, res := namespacedRequest(r); res && ns == watched[0] && r.URL.Query().Get("watch") == "true" {
					path := strings.Split(r.URL.Path, "/")
					mu.Lock()
					kinds[path[len(path)-1]]++
					mu.Unlock()
				}
				return false
			})
			p := startChaosdVia(t, c, proxy.Kubeconfig, cfg.Path, "--watch-namespaces", strings.Join(watched, ","))
			// The window is the informers' own progress, not a sleep: it ends
			// once every watched namespace has its six watches (pods, PDBs and
			// the four workload kinds) and chaosd's own namespace its one, so
			// any cluster-wide watch opened with them has been counted by then.
			eventually(t, time.Minute, "every informer's watch", func() bool {
				for _, ns := range watched {
					if counts[ns]() < 6 {
						return false
					}
				}
				return counts[chaosdNamespace]() >= 1
			})
			var per []string
			for _, ns := range watched {
				per = append(per, fmt.Sprintf("%s=%d", ns, counts[ns]()))
			}
			t.Logf("FIGURE watches per watched namespace (%d watched): %s; chaosd's own namespace %d; cluster-wide %d",
				len(watched), strings.Join(per, " "), counts[chaosdNamespace](), counts[""]())
			mu.Lock()
			t.Logf("watches in %s by resource: %v", watched[0], kinds)
			mu.Unlock()
			if n := counts[""](); n != 0 {
				t.Errorf("%d cluster-wide watches in namespaced mode, want none", n)
			}
			p.Stop(30 * time.Second)
		})
	}
}
