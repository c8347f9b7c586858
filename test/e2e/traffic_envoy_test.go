//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/chaosd/chaosd/test/cluster"
)

// The same traffic tests, on a real cluster with real Envoy sidecars: the
// book's go-demo-8 (HTTP) in namespace go-demo-8 with sidecar injection,
// and a client Job in that namespace whose requests go through its own
// sidecar, so the VirtualService fault is applied by Envoy. They run only
// when asked for (CHAOSD_E2E_ENVOY=1 with CHAOSD_E2E_KUBECONFIG, see
// test/README.md): this machine has no Envoy and cannot run them.

// envEnvoy opts in to the Envoy traffic tests on an existing cluster.
const envEnvoy = "CHAOSD_E2E_ENVOY"

// envoyClientImage is any image with sh, date, seq and curl; override it
// with CHAOSD_E2E_CLIENT_IMAGE where the cluster cannot pull it.
const envoyClientImage = "curlimages/curl:8.11.1"

// envoyFaultsConfig holds each fault 60 s, long enough for a few hundred
// of the client's requests; go-demo-8 answers /demo/hello on port 80.
const envoyFaultsConfig = `experiments:
  - name: envoy-abort-half
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 60s
    observe: 0s
  - name: envoy-delay-half
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-delay, delay: 2s, percent: 50}
    duration: 60s
    observe: 0s
`

// TestTrafficEnvoyFaults: on a real cluster with Envoy sidecars, a 50%
// abort fails half the client's requests with the configured 500 and a
// 50% × 2 s delay slows half of them by at least 2 s; after each revert no
// request is affected and the VirtualService is byte for byte what it was.
func TestTrafficEnvoyFaults(t *testing.T) {
	if cluster.ExistingFromEnv(os.Getenv) == nil || os.Getenv(envEnvoy) != "1" {
		t.Skipf("needs a real cluster with Istio's Envoy sidecars and the book's go-demo-8: set %s=1 and %s (test/README.md)", envEnvoy, cluster.EnvKubeconfig)
	}
	c := expStart(t, cluster.Options{})
	envoyPreflight(t, c)
	cfg := newConfigDir(t, withMonitoring(c, expGuard+envoyFaultsConfig))

	t.Run("50% abort fails half the requests with 500", func(t *testing.T) {
		during, after := envoyRound(t, c, cfg.Path, "envoy-abort-half")
		failed := func(r envoyRequest) bool { return r.code != 200 }
		envoyWantShare(t, during, failed, 0.5)
		for _, r := range during {
			if r.code != 200 && r.code != 500 {
				t.Fatalf("a request under the abort ended %d, want 200 or the configured 500", r.code)
			}
		}
		envoyWantNone(t, after, failed, "failed")
	})
	t.Run("50% × 2s delay slows half the requests by at least 2s", func(t *testing.T) {
		during, after := envoyRound(t, c, cfg.Path, "envoy-delay-half")
		delayed := func(r envoyRequest) bool { return r.seconds >= 2 }
		envoyWantShare(t, during, delayed, 0.5)
		envoyWantNone(t, after, delayed, "delayed")
	})
}

// envoyPreflight fails, once the test was asked for, when the cluster is
// not what it needs: go-demo-8's pods must carry an istio-proxy sidecar.
func envoyPreflight(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	pods, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app=go-demo-8"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("go-demo-8's pods in namespace %s: %v (%d found); deploy the book's go-demo-8 with sidecar injection", cluster.DemoNamespace, err, len(pods.Items))
	}
	for _, p := range pods.Items {
		if !envoyHasSidecar(p) {
			t.Fatalf("pod %s has no istio-proxy sidecar: label namespace %s istio-injection=enabled and restart go-demo-8", p.Name, cluster.DemoNamespace)
		}
	}
	expGetVS(t, c, cluster.DemoNamespace, "go-demo-8")
}

// envoyHasSidecar: Istio injects istio-proxy as a container or, with
// native sidecars, as a restartable init container.
func envoyHasSidecar(p corev1.Pod) bool {
	for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for _, ct := range cs {
			if ct.Name == "istio-proxy" {
				return true
			}
		}
	}
	return false
}

// envoyRequest is one of the client's requests: when it started (the
// pod's clock, in seconds), its HTTP status, and its total time.
type envoyRequest struct {
	at      time.Time
	code    int
	seconds float64
}

// envoyRound starts the client, runs the experiment with chaosd once while
// the client sends, and returns the requests that started while the fault
// was surely in place and those that started well after its revert. The
// margins (5 s after the injection for Envoy to get the route, 10 s after
// the revert) also absorb a small skew between the node's clock and this
// machine's.
func envoyRound(t *testing.T, c *cluster.Cluster, cfgPath, experiment string) (during, after []envoyRequest) {
	t.Helper()
	before := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8")
	job := envoyStartClient(t, c, experiment, 150*time.Second)
	// Positive signal that traffic flows through the sidecar before chaosd starts.
	eventually(t, 3*time.Minute, "the client's first 20 requests", func() bool { // hang guard: image pull and sidecar start
		return len(envoyRequests(t, c, job, false)) >= 20
	})
	r := expOnce(t, c, cfgPath, experiment)
	if r.Code != 0 && r.Code != 1 {
		t.Fatalf("chaosd once %s: exit %d (%s: %s), want passed or weakness:\n%s", experiment, r.Code, r.Rec.Verdict, r.Rec.Reason, tail(r.Out, 40))
	}
	if len(r.Rec.Injections) != 1 || r.Rec.Injections[0].RevertedAt == nil {
		t.Fatalf("want one reverted injection, got %+v", r.Rec.Injections)
	}
	injected, reverted := r.Rec.Injections[0].InjectedAt, *r.Rec.Injections[0].RevertedAt
	if vs := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8"); !bytes.Equal(vs.Spec, before.Spec) {
		t.Fatalf("spec after the revert differs from before:\nbefore %s\nafter  %s", before.Spec, vs.Spec)
	}
	var reqs []envoyRequest
	eventually(t, 5*time.Minute, "the client Job to finish", func() bool { // hang guard: its own loop ends 150 s after it starts
		reqs = envoyRequests(t, c, job, true)
		return reqs != nil
	})
	for _, q := range reqs {
		switch {
		case q.at.After(injected.Add(5*time.Second)) && q.at.Before(reverted.Add(-time.Second)):
			during = append(during, q)
		case q.at.After(reverted.Add(10 * time.Second)):
			after = append(after, q)
		}
	}
	t.Logf("%s: %d requests, %d while the fault was held, %d after the revert", experiment, len(reqs), len(during), len(after))
	if len(during) < 100 || len(after) < 20 {
		t.Fatalf("%d requests under the fault and %d after it, want at least 100 and 20 to judge by", len(during), len(after))
	}
	assertNothingLeft(t, c)
	return during, after
}

// envoyStartClient creates a Job in go-demo-8's namespace, so that the
// namespace's injection gives it a sidecar, that requests go-demo-8 for
// about d from four workers, printing "epoch-seconds status total-seconds" per request, then
// stops its sidecar so the Job can complete.
func envoyStartClient(t *testing.T, c *cluster.Cluster, name string, d time.Duration) string {
	t.Helper()
	image := envoyClientImage
	if v := os.Getenv("CHAOSD_E2E_CLIENT_IMAGE"); v != "" {
		image = v
	}
	// Four workers, so that a delay of 2 s on half the requests still
	// leaves a few hundred requests in a 60 s hold; one echo per request
	// is one short write, so the workers' lines do not interleave.
	script := fmt.Sprintf(`for i in $(seq 1 120); do curl -fs -o /dev/null localhost:15021/healthz/ready && break; sleep 1; done
end=$(( $(date +%%s) + %d ))
for w in 1 2 3 4; do
  while [ "$(date +%%s)" -lt "$end" ]; do
    echo "$(date +%%s) $(curl -s -o /dev/null -m 10 -w '%%{http_code} %%{time_total}' http://go-demo-8.%s/demo/hello)"
    sleep 0.1
  done &
done
wait
curl -fs -X POST localhost:15020/quitquitquit >/dev/null || true`, int(d.Seconds()), cluster.DemoNamespace)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "chaosd-e2e-" + name + "-", Namespace: cluster.DemoNamespace},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "chaosd-e2e-client"}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "client", Image: image, Command: []string{"sh", "-c", script}}},
				},
			},
		},
	}
	created, err := c.Kube.BatchV1().Jobs(cluster.DemoNamespace).Create(context.Background(), job, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create the client Job: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Kube.BatchV1().Jobs(cluster.DemoNamespace).Delete(context.Background(), created.Name,
			metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
	})
	return created.Name
}

// envoyRequests parses the client's log. With finished it returns nil until
// the Job has completed, and fails the test if the Job failed.
func envoyRequests(t *testing.T, c *cluster.Cluster, job string, finished bool) []envoyRequest {
	t.Helper()
	ctx := context.Background()
	if finished {
		j, err := c.Kube.BatchV1().Jobs(cluster.DemoNamespace).Get(ctx, job, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get the client Job: %v", err)
		}
		if j.Status.Failed > 0 {
			t.Fatalf("the client Job failed: %+v", j.Status)
		}
		if j.Status.Succeeded == 0 {
			return nil
		}
	}
	pods, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
	if err != nil {
		t.Fatalf("list the client's pods: %v", err)
	}
	if len(pods.Items) != 1 {
		return nil
	}
	raw, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{Container: "client"}).DoRaw(ctx)
	if err != nil {
		return nil // not started yet
	}
	var out []envoyRequest
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		at, err1 := strconv.ParseInt(f[0], 10, 64)
		code, err2 := strconv.Atoi(f[1])
		secs, err3 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("client log line %q is not \"epoch status seconds\"", line)
		}
		out = append(out, envoyRequest{at: time.Unix(at, 0), code: code, seconds: secs})
	}
	return out
}

// envoyWantShare: the share of reqs matching is want ± 10 points (at least
// 100 requests, so ±10 points is at least two standard deviations; the
// client sends a few hundred to a few thousand, four and more).
func envoyWantShare(t *testing.T, reqs []envoyRequest, matching func(envoyRequest) bool, want float64) {
	t.Helper()
	n := 0
	for _, r := range reqs {
		if matching(r) {
			n++
		}
	}
	got := float64(n) / float64(len(reqs))
	t.Logf("MEASURED %d of %d requests affected: %.3f", n, len(reqs), got)
	if got < want-0.10 || got > want+0.10 {
		t.Fatalf("%d of %d requests affected (%.3f), want %.2f ± 0.10", n, len(reqs), got, want)
	}
}

func envoyWantNone(t *testing.T, reqs []envoyRequest, matching func(envoyRequest) bool, what string) {
	t.Helper()
	for _, r := range reqs {
		if matching(r) {
			t.Fatalf("a request %s after the revert: %+v", what, r)
		}
	}
}
