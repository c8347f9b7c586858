//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/test/cluster"
	"github.com/chaosd/chaosd/test/traffic"
)

// trafficLandingQueries prove an abort from the proxyless client's own
// metrics: it emits no istio_requests_total.
const trafficLandingQueries = `    landing:
      query: 'sum(increase(grpc_client_handled_total{job="grpc-demo",grpc_code!="OK"}[{{.window}}]))'
      trafficQuery: 'sum(increase(grpc_client_handled_total{job="grpc-demo"}[{{.window}}]))'
`

// trafficLandingConfig: a normal abort on the demo's VirtualService; one on
// a VirtualService bound only to a gateway nobody runs; one on a host no
// Service serves (default Istio landing queries, which see no traffic);
// each unreachable one also forced to run.
const trafficLandingConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['alertname="GRPCDemoErrorRatioHigh"']}
  prometheus: {url: PROMETHEUS_URL}
  pollInterval: 500ms
experiments:
  - name: landing-abort
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: app=grpc-demo, mode: one}
    action: {type: http-abort, status: 503, percent: 20}
    duration: 8s
    observe: 3s
` + trafficLandingQueries + `  - name: reach-gateway
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: reach=gateway, mode: one}
    action: {type: http-abort, status: 503, percent: 100}
    duration: 8s
    observe: 3s
` + trafficLandingQueries + `  - name: reach-gateway-forced
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: reach=gateway, mode: one}
    action: {type: http-abort, status: 503, percent: 100}
    duration: 8s
    observe: 3s
    reach: {runWhenUnreachable: true}
` + trafficLandingQueries + `  - name: reach-ghost
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: reach=ghost, mode: one}
    action: {type: http-abort, status: 503, percent: 100}
    duration: 8s
    observe: 3s
  - name: reach-ghost-forced
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [grpc-demo], selector: reach=ghost, mode: one}
    action: {type: http-abort, status: 503, percent: 100}
    duration: 8s
    observe: 3s
    reach: {runWhenUnreachable: true}
  - name: kill-bare-client
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [grpc-demo], mode: one}
    action: {type: pod-kill}
  - name: drain-monitoring-node
    schedule: "@every 1h"
    target: {kind: node, mode: one}
    action: {type: node-drain}
    duration: 10s
`

// TestTrafficLanding proves, against a real istiod and the proxyless gRPC
// demo under load, that chaosd checks before injecting that a fault can
// reach traffic and proves after it that it landed:
//   - plan --cluster says the demo's abort reaches the proxyless client,
//     that the gateway-only and the unserved-host aborts reach nothing,
//     that killing the bare client pod is permanent, and that draining
//     the node evicts the guard's Prometheus;
//   - the normal abort passes with landing evidence from Prometheus;
//   - the unreachable ones are skipped (exit 3, reason unreachable,
//     nothing injected), and forced to run end no-effect (exit 7).
func TestTrafficLanding(t *testing.T) {
	trafficSkipExisting(t)
	opts := trafficOptions()
	opts.Kwok, opts.Nodes = true, 1
	c := expStart(t, opts)
	ctx := context.Background()
	trafficLandingObjects(t, c)
	// The load: 100/s, at most 4 minutes and 24,000 requests.
	_, stop := c.Traffic.StartLoad(traffic.Load{Rate: 100, Requests: 24000, Duration: 4 * time.Minute, Timeout: 5 * time.Second, InFlight: 200})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	eventually(t, time.Minute, "Prometheus to scrape the demo client", func() bool {
		return promHasData(t, c, `grpc_client_handled_total{job="grpc-demo"}`)
	})
	cfg := newConfigDir(t, withMonitoring(c, trafficLandingConfig))

	t.Run("plan --cluster tells reach before anything runs", func(t *testing.T) {
		planCfg := newConfigDir(t, strings.Replace(withMonitoring(c, trafficLandingConfig), c.PrometheusURL, "http://prometheus.monitoring.svc:9090", 1))
		code, out := runChaosdCommand(t, c, 2*time.Minute, "plan", "--cluster", "-f", planCfg.Path, "--namespace", chaosdNamespace, "--seed", "7")
		if code != 0 {
			t.Fatalf("plan --cluster exit %d:\n%s", code, out)
		}
		t.Logf("plan --cluster:\n%s", out)
		for _, want := range []string{
			"reach:      virtualservice/grpc-demo/grpc-demo: reachable: 1 caller(s) with proxyless gRPC: grpc-demo/client",
			"reach:      virtualservice/grpc-demo/grpc-demo-public: unreachable: gateway grpc-demo/public: no such Gateway; bound only to gateways public",
			"would skip: virtualservice/grpc-demo/grpc-demo-public (verdict skipped, reason unreachable)",
			"reach:      virtualservice/grpc-demo/ghost: unreachable: no Service or ServiceEntry serves its hosts ghost.grpc-demo.svc.cluster.local",
			"would run:  all the same (reach.runWhenUnreachable)",
			"reach:      pod/grpc-demo/client: reachable (permanent): bare pod: no controller replaces it, the kill is permanent",
			"warning:    evicts monitoring/prometheus-0, which serves the guard's Prometheus (http://prometheus.monitoring.svc:9090)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("plan lacks %q", want)
			}
		}
	})
	t.Run("a normal abort is reachable and proven landed", func(t *testing.T) {
		r := expOnce(t, c, cfg.Path, "landing-abort")
		expWantVerdict(t, r, 0, "passed")
		if len(r.Rec.Reach) != 1 || !r.Rec.Reach[0].Reachable {
			t.Errorf("journal reach %+v, want one reachable target", r.Rec.Reach)
		}
		l := r.Rec.Landing
		if l == nil || l.State != "landed" || l.Faulted == nil || *l.Faulted < 1 || l.Requests == nil || *l.Requests < 20 {
			t.Fatalf("journal landing %+v, want landed with faulted requests", l)
		}
		t.Logf("landing: %s", l.Summary)
	})
	for _, tt := range []struct{ experiment, wantLanding, wantReason string }{
		{"reach-gateway", "not-landed", "bound only to gateways public"},
		{"reach-ghost", "too-little-traffic", "no Service or ServiceEntry serves its hosts"},
	} {
		t.Run(tt.experiment+" is skipped as unreachable", func(t *testing.T) {
			r := expOnce(t, c, cfg.Path, tt.experiment)
			expWantVerdict(t, r, 3, "skipped")
			if !strings.HasPrefix(r.Rec.Reason, "unreachable: ") || !strings.Contains(r.Rec.Reason, tt.wantReason) {
				t.Errorf("reason %q, want unreachable: …%s", r.Rec.Reason, tt.wantReason)
			}
			if len(r.Rec.Injections) != 0 {
				t.Errorf("an unreachable run injected %+v", r.Rec.Injections)
			}
		})
		t.Run(tt.experiment+" forced to run ends no-effect", func(t *testing.T) {
			r := expOnce(t, c, cfg.Path, tt.experiment+"-forced")
			expWantVerdict(t, r, 7, "no-effect")
			if len(r.Rec.Injections) != 1 || r.Rec.Injections[0].RevertedAt == nil {
				t.Errorf("forced run: injections %+v, want one reverted", r.Rec.Injections)
			}
			if l := r.Rec.Landing; l == nil || l.State != tt.wantLanding {
				t.Errorf("journal landing %+v, want %s", l, tt.wantLanding)
			} else {
				t.Logf("landing: %s", l.Summary)
			}
		})
	}
	// The demo's own VirtualService is untouched by the others' runs.
	vs, err := c.Istio.NetworkingV1().VirtualServices(cluster.TrafficNamespace).Get(ctx, cluster.TrafficName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if vs.Spec.Http[0].Fault != nil {
		t.Errorf("the demo's route still carries a fault: %v", vs.Spec.Http[0].Fault)
	}
}

// trafficLandingObjects adds what the reach cases need: a VirtualService
// for the demo's host bound only to a gateway that does not exist, one for
// a host no Service serves, and a pod standing for the guard's Prometheus
// (behind Service monitoring/prometheus) on the only node.
func trafficLandingObjects(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	ctx := context.Background()
	route := func(host string) []*networkingv1.HTTPRoute {
		return []*networkingv1.HTTPRoute{{Route: []*networkingv1.HTTPRouteDestination{{Destination: &networkingv1.Destination{Host: host}}}}}
	}
	for _, vs := range []*istiov1.VirtualService{
		{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.TrafficNamespace, Name: "grpc-demo-public", Labels: map[string]string{"reach": "gateway"}},
			Spec: networkingv1.VirtualService{Hosts: []string{cluster.TrafficName}, Gateways: []string{"public"}, Http: route(cluster.TrafficName)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.TrafficNamespace, Name: "ghost", Labels: map[string]string{"reach": "ghost"}},
			Spec: networkingv1.VirtualService{Hosts: []string{"ghost.grpc-demo.svc.cluster.local"}, Http: route("ghost.grpc-demo.svc.cluster.local")}},
	} {
		if _, err := c.Istio.NetworkingV1().VirtualServices(vs.Namespace).Create(ctx, vs, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sel := map[string]string{"app.kubernetes.io/name": "prometheus"}
	if _, err := c.Kube.CoreV1().Services("monitoring").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "prometheus"},
		Spec:       corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Name: "web", Port: 9090}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	client := c.Traffic.Mesh.ClientPod()
	prom := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "prometheus-0", Labels: sel},
		Spec: corev1.PodSpec{NodeSelector: client.Spec.NodeSelector, Tolerations: client.Spec.Tolerations,
			AutomountServiceAccountToken: new(false), Containers: []corev1.Container{{Name: "prometheus", Image: "prom/prometheus"}}},
	}
	if _, err := c.Kube.CoreV1().Pods("monitoring").Create(ctx, prom, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the client and prometheus pods to run on the kwok node", func() bool {
		for _, p := range []struct{ ns, name string }{{cluster.TrafficNamespace, traffic.ClientName}, {"monitoring", "prometheus-0"}} {
			pod, err := c.Kube.CoreV1().Pods(p.ns).Get(ctx, p.name, metav1.GetOptions{})
			if err != nil || !expPodIsReady(pod) {
				return false
			}
		}
		return true
	})
}
