package config

import (
	"math"
	"net/url"
	"strings"
)

// Tracing exports every run as one OpenTelemetry trace over OTLP/HTTP.
// Without otlpEndpoint tracing is off and costs nothing. The exporter also
// honours the standard OTEL_EXPORTER_OTLP_* variables this file does not
// set (headers, timeout, certificates, compression), and
// OTEL_RESOURCE_ATTRIBUTES adds resource attributes. See docs/tracing.md.
type Tracing struct {
	// OTLPEndpoint is the base URL of an OTLP/HTTP receiver (an
	// OpenTelemetry Collector, Jaeger, Tempo), e.g.
	// http://otel-collector.monitoring:4318; spans are posted to its
	// /v1/traces. http:// sends them in plain text, https:// over TLS.
	OTLPEndpoint string `koanf:"otlpEndpoint"`
	// ServiceName is the service.name the traces carry.
	ServiceName string `koanf:"serviceName"`
	// SampleRatio is the share of runs traced, above 0 and at most 1;
	// a run that is not traced has no trace id in its journal record.
	SampleRatio float64 `koanf:"sampleRatio"`
}

// DefaultTracingServiceName is the service.name of chaosd's traces.
const DefaultTracingServiceName = "chaosd"

// Enabled reports whether runs are traced.
func (t Tracing) Enabled() bool { return t.OTLPEndpoint != "" }

func (t *Tracing) applyDefaults(present func(string) bool) {
	if t.ServiceName == "" {
		t.ServiceName = DefaultTracingServiceName
	}
	if !present("tracing.sampleRatio") {
		t.SampleRatio = 1
	}
}

func validateTracing(t Tracing, errs *Errors) {
	if t.OTLPEndpoint != "" {
		u, err := url.Parse(t.OTLPEndpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs.add("tracing.otlpEndpoint", "must be an http or https URL such as http://otel-collector.monitoring:4318, got %q", t.OTLPEndpoint)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			errs.add("tracing.otlpEndpoint", "must be a base URL without credentials, query or fragment, got %q", t.OTLPEndpoint)
		case strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/v1/traces"):
			errs.add("tracing.otlpEndpoint", "is the receiver's base URL: chaosd appends /v1/traces itself, got %q", t.OTLPEndpoint)
		}
	}
	if strings.TrimSpace(t.ServiceName) == "" {
		errs.add("tracing.serviceName", "must not be blank")
	}
	if math.IsNaN(t.SampleRatio) || t.SampleRatio <= 0 || t.SampleRatio > 1 {
		errs.add("tracing.sampleRatio", "must be above 0 and at most 1 (leave otlpEndpoint empty to turn tracing off), got %g", t.SampleRatio)
	}
}
