package daemon

import (
	"context"
	"testing"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/config"
)

// TestTracerHolderSwapsOnlyOnChange: a reload rebuilds the provider only
// when the tracing section changed, so an unrelated edit leaves the
// exporter (and its queued spans) alone.
func TestTracerHolderSwapsOnlyOnChange(t *testing.T) {
	ctx := context.Background()
	off := config.Tracing{ServiceName: "chaosd", SampleRatio: 1}
	h, err := newTracerHolder(ctx, off, Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	first := h.p.Load()
	if err := h.swap(ctx, off); err != nil || h.p.Load() != first {
		t.Fatalf("swap to the same section: %v, provider replaced %t; want it kept", err, h.p.Load() != first)
	}
	on := off
	on.OTLPEndpoint = "http://127.0.0.1:1"
	if err := h.swap(ctx, on); err != nil || h.p.Load() == first {
		t.Fatalf("swap to a new endpoint: %v, provider replaced %t; want a new one", err, h.p.Load() != first)
	}
	_, span := h.Start(ctx, "chaosd.run")
	if !span.SpanContext().IsSampled() {
		t.Error("a run started after tracing was turned on is not traced")
	}
	span.End()
	shutdownCtx, cancel := context.WithCancel(ctx)
	cancel() // nothing listens on port 1: do not wait for the export
	h.shutdown(shutdownCtx)
}
