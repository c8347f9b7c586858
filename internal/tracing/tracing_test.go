package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/chaosd/chaosd/internal/config"
)

// otlpReceiver is an OTLP/HTTP endpoint that keeps what it is sent.
type otlpReceiver struct {
	mu       sync.Mutex
	status   int
	paths    []string
	types    []string
	requests []*collectortrace.ExportTraceServiceRequest
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	msg := &collectortrace.ExportTraceServiceRequest{}
	if err == nil {
		err = proto.Unmarshal(body, msg)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths = append(r.paths, req.Method+" "+req.URL.Path)
	r.types = append(r.types, req.Header.Get("Content-Type"))
	if err == nil {
		r.requests = append(r.requests, msg)
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(r.status)
}

func startReceiver(t *testing.T, status int) (*otlpReceiver, string) {
	t.Helper()
	r := &otlpReceiver{status: status}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func TestOffTracesNothing(t *testing.T) {
	p, err := New(context.Background(), config.Tracing{ServiceName: "chaosd", SampleRatio: 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer("test").Start(context.Background(), "run")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Errorf("tracing off: span recording %t, valid context %t; want neither", span.IsRecording(), span.SpanContext().IsValid())
	}
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown() = %v", err)
	}
}

// TestExportsOverOTLPHTTP: spans reach base/v1/traces as OTLP protobuf on
// Shutdown, with the configured service name.
func TestExportsOverOTLPHTTP(t *testing.T) {
	recv, url := startReceiver(t, http.StatusOK)
	cfg := config.Tracing{OTLPEndpoint: url + "/otlp", ServiceName: "chaos-prod", SampleRatio: 1}
	p, err := New(context.Background(), cfg, Options{Version: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer("test").Start(context.Background(), "chaosd.run")
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.paths) != 1 || recv.paths[0] != "POST /otlp/v1/traces" || recv.types[0] != "application/x-protobuf" {
		t.Fatalf("receiver got %v %v, want one POST /otlp/v1/traces of application/x-protobuf", recv.paths, recv.types)
	}
	if len(recv.requests) != 1 || len(recv.requests[0].ResourceSpans) != 1 {
		t.Fatalf("receiver decoded %d requests, want one with one resource", len(recv.requests))
	}
	rs := recv.requests[0].ResourceSpans[0]
	attrs := map[string]string{}
	for _, kv := range rs.GetResource().GetAttributes() {
		attrs[kv.Key] = kv.GetValue().GetStringValue()
	}
	if attrs["service.name"] != "chaos-prod" || attrs["service.version"] != "v9.9.9" {
		t.Errorf("resource attributes %v, want service.name chaos-prod and service.version v9.9.9", attrs)
	}
	var names []string
	for _, ss := range rs.ScopeSpans {
		for _, s := range ss.Spans {
			names = append(names, s.Name)
		}
	}
	if len(names) != 1 || names[0] != "chaosd.run" {
		t.Errorf("spans %v, want [chaosd.run]", names)
	}
}

// TestFailedExportIsLogged: a receiver that refuses costs a warning in
// chaosd's log, never an error to the caller.
func TestFailedExportIsLogged(t *testing.T) {
	_, url := startReceiver(t, http.StatusBadRequest)
	core, logs := observer.New(zap.WarnLevel)
	p, err := New(context.Background(), config.Tracing{OTLPEndpoint: url, ServiceName: "chaosd", SampleRatio: 1}, Options{Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer("test").Start(context.Background(), "chaosd.run")
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil: a failed export is logged, not returned", err)
	}
	got := logs.FilterMessage("export of trace spans failed; they are dropped").All()
	if len(got) != 1 || got[0].ContextMap()["spans"] != int64(1) {
		t.Errorf("warnings %+v, want one about 1 dropped span", logs.All())
	}
}
