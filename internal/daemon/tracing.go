package daemon

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/runner"
	"github.com/chaosd/chaosd/internal/tracing"
	"github.com/chaosd/chaosd/internal/version"
)

// tracerHolder lets a reload swap the tracing provider. A run keeps the
// provider it started with for all its spans (see runner.Tracer); one
// still running when the provider is swapped out loses the spans it ends
// after the old provider's shutdown.
type tracerHolder struct {
	p atomic.Pointer[tracing.Provider]
	// cfg is the section p was built from; only the reload goroutine
	// reads and writes it.
	cfg config.Tracing
	o   Options
}

var _ runner.Tracer = (*tracerHolder)(nil)

func newTracerHolder(ctx context.Context, cfg config.Tracing, o Options) (*tracerHolder, error) {
	h := &tracerHolder{o: o}
	if err := h.swap(ctx, cfg); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *tracerHolder) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return h.p.Load().Tracer(runner.TracerName).Start(ctx, name, opts...)
}

// swap builds a provider for cfg unless it is the one in use; the old
// provider flushes in the background.
func (h *tracerHolder) swap(ctx context.Context, cfg config.Tracing) error {
	if h.p.Load() != nil && cfg == h.cfg {
		return nil
	}
	p, err := tracing.New(ctx, cfg, tracing.Options{Logger: h.o.Logger, Version: version.Version})
	if err != nil {
		return fmt.Errorf("build tracing: %w", err)
	}
	if cfg.Enabled() {
		h.o.Logger.Info("tracing runs", zap.String("otlpEndpoint", cfg.OTLPEndpoint), zap.String("serviceName", cfg.ServiceName),
			zap.Float64("sampleRatio", cfg.SampleRatio))
	}
	h.cfg = cfg
	if old := h.p.Swap(p); old != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
			defer cancel()
			if err := old.Shutdown(ctx); err != nil {
				h.o.Logger.Warn("flush traces of the replaced tracing config", zap.Error(err))
			}
		}()
	}
	return nil
}

// tracingFlushTimeout bounds exporting the queued spans at shutdown.
const tracingFlushTimeout = 10 * time.Second

// shutdown exports what is queued; spans of a receiver that does not
// answer within ctx are lost, which never fails chaosd.
func (h *tracerHolder) shutdown(ctx context.Context) {
	if err := h.p.Load().Shutdown(ctx); err != nil {
		h.o.Logger.Warn("traces not fully exported", zap.Error(err))
	}
}
