package cluster

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// startJaeger runs Jaeger v2 (an OpenTelemetry Collector distribution)
// with in-memory storage from a config of our own: an OTLP/HTTP receiver
// and the query API, each on a reserved loopback port, and nothing else
// (its all-in-one default opens a dozen fixed ports). Ready when the query
// API answers.
func (c *Cluster) startJaeger(ctx context.Context, bins binaries) error {
	start := time.Now()
	l := c.layout
	cfg := l.path("jaeger", "config.yaml")
	if err := writeFile(cfg, []byte(jaegerConfig(l))); err != nil {
		return err
	}
	proc, err := c.sup.start("jaeger", tierClients, bins.jaeger, []string{"--config", cfg}, nil)
	if err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, c.health, l.jaegerQueryURL()+"/api/services", "", proc); err != nil {
		return fmt.Errorf("jaeger: %w", err)
	}
	c.JaegerOTLPURL = l.jaegerOTLPURL()
	c.JaegerQueryURL = l.jaegerQueryURL()
	c.record("jaeger", start)
	return nil
}

// jaegerConfig receives OTLP over HTTP into memory and serves the query
// API; the collector's own metrics endpoint and self-tracing are off.
func jaegerConfig(l layout) string {
	return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    traces:
      level: none
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:` + strconv.Itoa(l.jaegerQueryHTTPPort) + `
    grpc:
      endpoint: 127.0.0.1:` + strconv.Itoa(l.jaegerQueryGRPCPort) + `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:` + strconv.Itoa(l.jaegerOTLPPort) + `
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`
}
