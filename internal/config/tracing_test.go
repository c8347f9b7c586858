package config

import "testing"

func TestTracingProblems(t *testing.T) {
	checkProblems(t, []problemCase{
		{"endpoint not a URL", experimentDoc("tracing: {otlpEndpoint: collector:4318}"), []string{
			`tracing.otlpEndpoint: must be an http or https URL such as http://otel-collector.monitoring:4318, got "collector:4318"`,
		}},
		{"grpc scheme", experimentDoc("tracing: {otlpEndpoint: 'grpc://collector:4317'}"), []string{
			`tracing.otlpEndpoint: must be an http or https URL such as http://otel-collector.monitoring:4318, got "grpc://collector:4317"`,
		}},
		{"credentials in the URL", experimentDoc("tracing: {otlpEndpoint: 'http://u:p@collector:4318'}"), []string{
			`tracing.otlpEndpoint: must be a base URL without credentials, query or fragment, got "http://u:p@collector:4318"`,
		}},
		{"signal path given", experimentDoc("tracing: {otlpEndpoint: 'http://collector:4318/v1/traces'}"), []string{
			`tracing.otlpEndpoint: is the receiver's base URL: chaosd appends /v1/traces itself, got "http://collector:4318/v1/traces"`,
		}},
		{"blank service name", experimentDoc("tracing: {otlpEndpoint: 'http://collector:4318', serviceName: ' '}"), []string{
			"tracing.serviceName: must not be blank",
		}},
		{"sample ratio zero", experimentDoc("tracing: {otlpEndpoint: 'http://collector:4318', sampleRatio: 0}"), []string{
			"tracing.sampleRatio: must be above 0 and at most 1 (leave otlpEndpoint empty to turn tracing off), got 0",
		}},
		{"sample ratio above one", experimentDoc("tracing: {sampleRatio: 1.5}"), []string{
			"tracing.sampleRatio: must be above 0 and at most 1 (leave otlpEndpoint empty to turn tracing off), got 1.5",
		}},
		{"unknown key", experimentDoc("tracing: {endpoint: 'http://collector:4318'}"), []string{
			"tracing.endpoint: unknown key",
		}},
	})
}

func TestTracingDefaults(t *testing.T) {
	tests := []struct {
		name        string
		top         string
		wantEnabled bool
		wantService string
		wantRatio   float64
	}{
		{name: "off by default", top: "", wantService: "chaosd", wantRatio: 1},
		{name: "endpoint alone", top: "tracing: {otlpEndpoint: 'http://collector:4318'}", wantEnabled: true, wantService: "chaosd", wantRatio: 1},
		{name: "everything set", top: "tracing: {otlpEndpoint: 'https://collector:4318/otlp', serviceName: chaos-prod, sampleRatio: 0.25}",
			wantEnabled: true, wantService: "chaos-prod", wantRatio: 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, experimentDoc(tt.top)).Tracing
			if got.Enabled() != tt.wantEnabled || got.ServiceName != tt.wantService || got.SampleRatio != tt.wantRatio {
				t.Errorf("tracing = %+v (enabled %t), want enabled %t, service %q, ratio %g",
					got, got.Enabled(), tt.wantEnabled, tt.wantService, tt.wantRatio)
			}
		})
	}
}
