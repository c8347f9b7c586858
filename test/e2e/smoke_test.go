//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	apinetworkingv1 "istio.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/chaosd/chaosd/test/cluster"
)

// smokeRules fires DemoUnhealthy as soon as the demo exporter reports
// demo_healthy 0.
const smokeRules = `groups:
- name: smoke
  rules:
  - alert: DemoUnhealthy
    expr: demo_healthy == 0
    for: 0s
    labels:
      severity: critical
    annotations:
      summary: the demo service reports unhealthy
`

// TestSmokeCluster checks that the harness gives tests what they rely on:
// ready fake nodes, an available demo workload, Istio CRD validation as a
// real cluster does it, an alert path from Prometheus to Alertmanager, and a
// teardown that leaves no process behind.
func TestSmokeCluster(t *testing.T) {
	opts := cluster.FullOptions()
	opts.Prometheus.Rules = smokeRules
	begin := time.Now()
	c := cluster.Start(t, opts)
	t.Logf("cluster with demo workload ready in %s", time.Since(begin).Round(time.Millisecond))
	for _, p := range c.Timings() {
		t.Logf("  %-14s %s", p.Phase, p.Took)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	t.Run("nodes ready", func(t *testing.T) {
		if err := c.WaitNodesReady(ctx, 3); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("demo workload available", func(t *testing.T) {
		if err := c.WaitDemoReady(ctx); err != nil {
			t.Fatal(err)
		}
		pods, err := c.Kube.CoreV1().Pods(cluster.DemoNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName == "" || p.Status.PodIP == "" {
				t.Errorf("pod %s: node %q, IP %q; want both set by scheduler and kwok", p.Name, p.Spec.NodeName, p.Status.PodIP)
			}
		}
	})
	t.Run("valid abort fault accepted", func(t *testing.T) { testValidFault(ctx, t, c) })
	t.Run("fault validation", func(t *testing.T) { testFaultValidation(ctx, t, c) })
	t.Run("alert reaches alertmanager", func(t *testing.T) { testAlertPath(ctx, t, c) })
	t.Run("teardown leaves no process", func(t *testing.T) { testTeardown(t, c) })
}

// testValidFault injects the abort fault chaosd uses and re-applies the demo
// manifest, which must remove it again (the http list is atomic).
func testValidFault(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	vss := c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace)
	vs, err := vss.Get(ctx, "go-demo-8", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	faulty := vs.DeepCopy()
	faulty.Spec.Http[0].Fault = &apinetworkingv1.HTTPFaultInjection{Abort: &apinetworkingv1.HTTPFaultInjection_Abort{
		ErrorType:  &apinetworkingv1.HTTPFaultInjection_Abort_HttpStatus{HttpStatus: 500},
		Percentage: &apinetworkingv1.Percent{Value: 50},
	}}
	if _, err := vss.Update(ctx, faulty, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update with abort fault: %v", err)
	}
	got, err := vss.Get(ctx, "go-demo-8", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if abort := got.Spec.Http[0].GetFault().GetAbort(); abort.GetHttpStatus() != 500 || abort.GetPercentage().GetValue() != 50 {
		t.Fatalf("stored abort = %v, want httpStatus 500 at 50%%", abort)
	}

	if err := c.ApplyDemoWorkload(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = vss.Get(ctx, "go-demo-8", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f := got.Spec.Http[0].GetFault(); f != nil {
		t.Errorf("fault after re-applying the demo manifest = %v, want none", f)
	}
}

// testFaultValidation records what the CRD's OpenAPI schema enforces, so
// chaosd knows what it must validate itself. Server-side dry run: nothing
// is stored.
func testFaultValidation(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	dyn, err := dynamic.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	vsGVR := schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	tests := []struct {
		name     string
		abort    map[string]any
		rejected bool
	}{
		{name: "httpStatus and grpcStatus together (oneOf)", abort: map[string]any{
			"httpStatus": int64(500), "grpcStatus": "UNAVAILABLE", "percentage": map[string]any{"value": 50.0},
		}, rejected: true},
		// The schema has no bounds on percentage: chaosd must reject this.
		{name: "percentage above 100 passes the schema", abort: map[string]any{
			"httpStatus": int64(500), "percentage": map[string]any{"value": 150.0},
		}, rejected: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := faultyVirtualService(tt.abort)
			_, err := dyn.Resource(vsGVR).Namespace(cluster.DemoNamespace).Create(ctx, vs,
				metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			switch {
			case tt.rejected && !apierrors.IsInvalid(err):
				t.Errorf("create error = %v, want Invalid", err)
			case !tt.rejected && err != nil:
				t.Errorf("create error = %v, want accepted", err)
			case err != nil:
				t.Logf("rejected as expected: %v", err)
			}
		})
	}
}

func faultyVirtualService(abort map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1",
		"kind":       "VirtualService",
		"metadata":   map[string]any{"name": "smoke-fault", "namespace": cluster.DemoNamespace},
		"spec": map[string]any{
			"hosts": []any{"go-demo-8"},
			"http": []any{map[string]any{
				"fault": map[string]any{"abort": abort},
				"route": []any{map[string]any{"destination": map[string]any{"host": "go-demo-8"}}},
			}},
		},
	}}
}

// testAlertPath turns the demo exporter unhealthy and waits for the alert in
// Alertmanager's v2 API, which is where chaosd's alert guard looks.
func testAlertPath(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	if c.External() || c.PrometheusURL == "" || c.AlertmanagerURL == "" {
		t.Skip("needs the harness's own Prometheus scraping the in-process demo exporter")
	}
	c.Exporter.SetHealthy(false)
	defer c.Exporter.SetHealthy(true)
	begin := time.Now()
	for {
		alerts, err := activeAlerts(ctx, c.AlertmanagerURL, `alertname="DemoUnhealthy"`)
		if err != nil {
			t.Logf("query alertmanager: %v", err)
		}
		if len(alerts) > 0 {
			t.Logf("alert %v active in Alertmanager %s after the exporter turned unhealthy", alerts[0].Labels, time.Since(begin).Round(time.Millisecond))
			if alerts[0].Labels["severity"] != "critical" {
				t.Errorf("severity = %q, want critical", alerts[0].Labels["severity"])
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("DemoUnhealthy never reached Alertmanager: %v", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// testTeardown stops the cluster early and checks every component is gone.
func testTeardown(t *testing.T, c *cluster.Cluster) {
	if c.External() {
		t.Skip("nothing to tear down in an existing cluster")
	}
	pids := c.PIDs()
	if len(pids) < 7 {
		t.Errorf("PIDs = %v, want all 7 components", pids)
	}
	begin := time.Now()
	if err := c.Down(); err != nil {
		t.Fatalf("Down: %v", err)
	}
	t.Logf("cluster stopped in %s", time.Since(begin).Round(time.Millisecond))
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after Down: kill -0 = %v", name, pid, err)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("%s (pid %d): /proc entry still present", name, pid)
		}
	}
}
