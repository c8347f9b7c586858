package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/test/traffic"
)

// The gRPC demo's place in the mesh. chaosd never targets its own
// namespace, so the demo lives in one of its own.
const (
	TrafficNamespace = "grpc-demo"
	TrafficName      = "grpc-demo"
	// TrafficJob is the demo's Prometheus scrape job.
	TrafficJob = "grpc-demo"
)

// TrafficDemo is the gRPC demo service with real traffic (Options.Traffic):
// a server on a loopback address of its own, registered in the mesh, and a
// client that reaches it through istiod, both in this process and both
// exporting request metrics on one endpoint.
type TrafficDemo struct {
	Mesh   traffic.Mesh
	Server *traffic.Server
	// Client calls the demo through istiod; set once istiod routes to it.
	Client *traffic.Client

	reg     *prometheus.Registry
	metrics *http.Server
	addr    string

	mu    sync.Mutex
	loads []func() error // stopped by close
}

// newTrafficDemo starts the server on 127.0.0.x (x from rng, 2–254) and the
// metrics endpoint; the client comes once istiod runs (connectTraffic).
func newTrafficDemo(rng *rand.Rand) (*TrafficDemo, error) {
	d := &TrafficDemo{reg: prometheus.NewRegistry()}
	ip := net.IPv4(127, 0, 0, byte(2+rng.IntN(253)))
	var err error
	if d.Server, err = traffic.StartServer(net.JoinHostPort(ip.String(), "0"), d.reg); err != nil {
		return nil, err
	}
	d.Mesh = traffic.Mesh{Namespace: TrafficNamespace, Name: TrafficName, Server: d.Server.Addr()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("listen for demo metrics: %w", err), d.Server.Stop())
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
	d.addr = ln.Addr().String()
	d.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = d.metrics.Serve(ln) }()
	return d, nil
}

// Handled reads the demo's own grpc_{client,server}_handled_total (see
// traffic.Handled): what Prometheus scrapes, read without it.
func (d *TrafficDemo) Handled(name, code string) (float64, error) {
	return traffic.Handled(d.reg, name, code)
}

// MetricsAddr is the host:port Prometheus scrapes.
func (d *TrafficDemo) MetricsAddr() string { return d.addr }

// close stops the client, the server and the metrics endpoint.
func (d *TrafficDemo) close() error {
	var errs []error
	d.mu.Lock()
	loads := d.loads
	d.loads = nil
	d.mu.Unlock()
	for _, stop := range loads {
		errs = append(errs, stop())
	}
	if d.Client != nil {
		errs = append(errs, d.Client.Close())
	}
	errs = append(errs, d.Server.Stop())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := d.metrics.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("stop demo metrics: %w", err))
	}
	return errors.Join(errs...)
}

// connectTraffic registers the demo in the mesh, dials it through istiod
// and waits for the first successful call: the positive signal that istiod
// knows the Service, the WorkloadEntry and the route.
func (c *Cluster) connectTraffic(ctx context.Context) error {
	start := time.Now()
	d := c.Traffic
	if err := d.Mesh.Register(ctx, c.Kube, c.Istio); err != nil {
		return fmt.Errorf("register the gRPC demo: %w", err)
	}
	bootstrap, err := d.Mesh.Bootstrap(c.IstiodXDSAddr, traffic.ClientName)
	if err != nil {
		return err
	}
	if d.Client, err = traffic.Dial(d.Mesh.Target(), bootstrap, d.reg, nil); err != nil {
		return err
	}
	err = poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		o := d.Client.Call(ctx, 2*time.Second)
		return o.Code == codes.OK, fmt.Sprintf("call %s: %s: %s", d.Mesh.Target(), o.Code, o.Message), nil
	})
	if err != nil {
		return fmt.Errorf("gRPC demo through istiod: %w", err)
	}
	c.record("traffic", start)
	return nil
}

// StartLoad sends load through the demo client in the background. The
// returned stop cancels what is left of it, waits for the requests under
// way, and returns the load's error, if any; the cluster's Down stops it
// too.
func (d *TrafficDemo) StartLoad(load traffic.Load) (rec *traffic.Recorder, stop func() error) {
	rec = traffic.NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- load.Run(ctx, clock.RealClock{}, d.Client, rec) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	d.mu.Lock()
	d.loads = append(d.loads, stop)
	d.mu.Unlock()
	return rec, stop
}

// trafficTarget is the demo's scrape job.
func (d *TrafficDemo) trafficTarget() ScrapeTarget {
	return ScrapeTarget{Job: TrafficJob, Addresses: []string{d.addr}}
}

// TrafficAlertRules are the gRPC demo's alert rules, in the shape of
// Istio's istio_requests_total rules, over the client's request metrics
// (the caller's view, like Istio's reporter="source": a fault aborted in
// the client never reaches the server):
//   - GRPCDemoErrorRatioHigh: the rate of non-OK requests over the rate of
//     all requests above 25% for 2s;
//   - GRPCDemoLatencyHigh: p99 latency above 500ms for 2s.
//
// The client counts only the codes it has seen, so "or on() vector(0)"
// makes the ratio 0, not empty, before the first failure. The windows are
// seconds, not Istio's minutes, to suit 1s scrapes and
// tests that wait for them; both alerts are critical, so chaosd's
// Alertmanager guard blocks on them.
const TrafficAlertRules = `groups:
- name: grpc-demo
  rules:
  - alert: GRPCDemoErrorRatioHigh
    expr: |
      (sum(rate(grpc_client_handled_total{job="grpc-demo",grpc_service="chaosd.demo.Demo",grpc_code!="OK"}[5s])) or on() vector(0))
        /
      sum(rate(grpc_client_handled_total{job="grpc-demo",grpc_service="chaosd.demo.Demo"}[5s]))
        > 0.25
    for: 2s
    labels: {severity: critical}
    annotations: {summary: "more than 25% of the gRPC demo's requests fail"}
  - alert: GRPCDemoLatencyHigh
    expr: |
      histogram_quantile(0.99, sum by (le) (rate(grpc_client_handling_seconds_bucket{job="grpc-demo",grpc_service="chaosd.demo.Demo"}[5s])))
        > 0.5
    for: 2s
    labels: {severity: critical}
    annotations: {summary: "the gRPC demo's p99 latency is above 500ms"}
`

// TrafficErrorRatio is the error-ratio alert's expression without its
// threshold, for a look at what Prometheus sees.
const TrafficErrorRatio = `(sum(rate(grpc_client_handled_total{job="grpc-demo",grpc_service="chaosd.demo.Demo",grpc_code!="OK"}[5s])) or on() vector(0)) / sum(rate(grpc_client_handled_total{job="grpc-demo",grpc_service="chaosd.demo.Demo"}[5s]))`
