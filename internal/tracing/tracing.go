// Package tracing builds the OpenTelemetry tracer provider that exports
// chaosd's run traces over OTLP/HTTP, from the config's tracing section,
// and shuts it down (flushing what is queued). It never starts spans
// itself (the runner does, through the tracer it is handed) and never sets
// or reads otel's global provider.
package tracing

import (
	"context"
	"fmt"
	"net/url"
	"path"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/config"
)

// Options are a Provider's collaborators; every field may be zero.
type Options struct {
	Logger *zap.Logger
	// Version is the service.version of the traces.
	Version string
	// Exporter replaces the OTLP exporter (tests use an in-memory one).
	Exporter sdktrace.SpanExporter
}

// Provider hands out tracers that export to one OTLP receiver, or that
// record nothing when tracing is off.
type Provider struct {
	tp  trace.TracerProvider
	sdk *sdktrace.TracerProvider // nil when off
}

// Off is a Provider that traces nothing.
func Off() *Provider { return &Provider{tp: noop.NewTracerProvider()} }

// New builds the Provider c asks for: Off without an endpoint (and no
// Options.Exporter), else a batching SDK provider sampling c.SampleRatio
// of the runs by trace id.
func New(ctx context.Context, c config.Tracing, o Options) (*Provider, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	exp := o.Exporter
	if exp == nil {
		if !c.Enabled() {
			return Off(), nil
		}
		var err error
		if exp, err = otlpExporter(ctx, c.OTLPEndpoint); err != nil {
			return nil, err
		}
	}
	// The SDK merges OTEL_RESOURCE_ATTRIBUTES (and OTEL_SERVICE_NAME)
	// underneath; the config's service name wins.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", c.ServiceName), attribute.String("service.version", o.Version)))
	if err != nil {
		o.Logger.Warn("tracing resource incomplete", zap.Error(err))
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(loggedExporter{SpanExporter: exp, log: o.Logger}),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.TraceIDRatioBased(c.SampleRatio)),
	)
	return &Provider{tp: sdk, sdk: sdk}, nil
}

// Tracer returns the named tracer of this provider.
func (p *Provider) Tracer(name string) trace.Tracer { return p.tp.Tracer(name) }

// Shutdown exports what is queued and stops exporting; spans that end
// afterwards are dropped.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down tracing: %w", err)
	}
	return nil
}

// otlpExporter posts to base/v1/traces, in plain text for http:// (the
// OTLP exporters' "insecure"), over TLS for https://. What the config does
// not set (headers, timeout, certificates, compression) comes from the
// standard OTEL_EXPORTER_OTLP_* variables, which the exporter reads.
func otlpExporter(ctx context.Context, endpoint string) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("parse tracing.otlpEndpoint: %w", err)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithURLPath(path.Join("/", u.Path, "v1/traces"))}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("build OTLP/HTTP trace exporter for %s: %w", endpoint, err)
	}
	return exp, nil
}

// loggedExporter logs a failed export with chaosd's logger instead of
// handing it to otel's global error handler (an unstructured stderr
// line). Tracing never fails a run: the spans of a failed export are lost.
type loggedExporter struct {
	sdktrace.SpanExporter
	log *zap.Logger
}

func (e loggedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.log.Warn("export of trace spans failed; they are dropped", zap.Int("spans", len(spans)), zap.Error(err))
	}
	return nil
}
