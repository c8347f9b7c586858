package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DemoExporter stands in for go-demo-8's metrics: a /metrics endpoint on
// 127.0.0.1 whose values the test sets, so a Prometheus rule (and thus an
// alert, or a chaosd guard) can be made to fire on demand. It exposes
//
//	demo_up 1                        the "target is up" gauge
//	demo_healthy 1                   the "service is healthy" gauge
//	http_requests_total{code="200"}  a request counter by status code
type DemoExporter struct {
	server   *http.Server
	addr     string
	up       prometheus.Gauge
	healthy  prometheus.Gauge
	requests *prometheus.CounterVec
}

// NewDemoExporter starts the exporter on a free loopback port, healthy.
// It uses its own registry: no global state, several may run at once.
func NewDemoExporter() (*DemoExporter, error) {
	e := &DemoExporter{
		up:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "demo_up", Help: "1 while the demo service is up."}),
		healthy:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "demo_healthy", Help: "1 while the demo service is healthy."}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Demo requests by status code."}, []string{"code"}),
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.up, e.healthy, e.requests)
	e.up.Set(1)
	e.healthy.Set(1)
	e.requests.WithLabelValues("200")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for demo exporter: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// The playground's switches, for people: POST /healthy or /unhealthy.
	mux.HandleFunc("POST /healthy", func(w http.ResponseWriter, _ *http.Request) { e.SetHealthy(true) })
	mux.HandleFunc("POST /unhealthy", func(w http.ResponseWriter, _ *http.Request) { e.SetHealthy(false) })
	e.addr = ln.Addr().String()
	e.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.server.Serve(ln) }()
	return e, nil
}

// Addr is the host:port to scrape.
func (e *DemoExporter) Addr() string { return e.addr }

// URL is the metrics endpoint.
func (e *DemoExporter) URL() string { return "http://" + e.addr + "/metrics" }

// SetUp sets demo_up.
func (e *DemoExporter) SetUp(up bool) { e.up.Set(boolToFloat(up)) }

// SetHealthy sets demo_healthy.
func (e *DemoExporter) SetHealthy(healthy bool) { e.healthy.Set(boolToFloat(healthy)) }

// AddRequests adds n to http_requests_total{code=code}.
func (e *DemoExporter) AddRequests(code string, n float64) { e.requests.WithLabelValues(code).Add(n) }

// Close stops serving.
func (e *DemoExporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.server.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop demo exporter: %w", err)
	}
	return nil
}

func boolToFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
