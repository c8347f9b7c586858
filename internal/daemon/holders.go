package daemon

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/notify"
)

// guardHolder lets a reload swap the guard under running code, and keeps
// the newest evaluation for the status.
type guardHolder struct {
	g    atomic.Pointer[guard.Guard]
	last lastEvaluation
}

func newGuardHolder(g *guard.Guard) *guardHolder {
	h := &guardHolder{}
	h.g.Store(g)
	return h
}

func (h *guardHolder) Preflight(ctx context.Context) guard.Evaluation {
	return h.last.store(h.g.Load().Preflight(ctx))
}
func (h *guardHolder) Poll(ctx context.Context) guard.Evaluation {
	return h.last.store(h.g.Load().Poll(ctx))
}

// QueryRange samples SLIs on the current guard's Prometheus.
func (h *guardHolder) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	return h.g.Load().QueryRange(ctx, query, start, end, step)
}

// notifierHolder lets a reload swap the notification receivers.
type notifierHolder struct {
	d atomic.Pointer[notify.Dispatcher]
	o Options
}

func newNotifierHolder(cfg *config.Config, o Options) (*notifierHolder, error) {
	h := &notifierHolder{o: o}
	d, err := h.build(cfg)
	if err != nil {
		return nil, err
	}
	h.d.Store(d)
	return h, nil
}

func (h *notifierHolder) build(cfg *config.Config) (*notify.Dispatcher, error) {
	receivers, err := notify.ReceiversFromConfig(cfg, notify.BuildOptions{HTTPClient: h.o.HTTPClient, Clock: h.o.Clock})
	if err != nil {
		return nil, fmt.Errorf("build notification receivers: %w", err)
	}
	d, err := notify.NewDispatcher(notify.DispatcherOptions{
		Receivers: receivers, Logger: h.o.Logger, Registerer: h.o.Registry, Clock: h.o.Clock,
		ExternalURL: notify.ExternalURL(cfg.Notifications),
	})
	if err != nil {
		return nil, fmt.Errorf("build notification dispatcher: %w", err)
	}
	return d, nil
}

// swap replaces the receivers; the old dispatcher drains in the background.
func (h *notifierHolder) swap(cfg *config.Config) error {
	d, err := h.build(cfg)
	if err != nil {
		return err
	}
	old := h.d.Swap(d)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = old.Close(ctx)
	}()
	return nil
}

func (h *notifierHolder) close(ctx context.Context) error { return h.d.Load().Close(ctx) }

// runObserver sees every run: it forwards to the notifications, keeps the
// recent runs for the status, and records one Event per run on chaosd's
// ConfigMap so `kubectl get events` tells the story.
type runObserver struct{ d *daemon }

func (r runObserver) Dispatch(ev config.Event, rec journal.Record) {
	r.d.notifier.d.Load().Dispatch(ev, rec)
}

func (r runObserver) DispatchFinished(rec journal.Record) {
	r.d.notifier.d.Load().DispatchFinished(rec)
	r.d.recent.add(rec)
	eventType := "Normal"
	if rec.Verdict == guard.Weakness || rec.Verdict == guard.Error || rec.Verdict == guard.AlertGap {
		eventType = "Warning"
	}
	r.d.eventOnConfigMapWith(r.d.runEvents, eventType, "ChaosRun"+verdictWord(rec.Verdict), "Run",
		fmt.Sprintf("run %s of %s on %v: %s: %s", rec.RunID, rec.Experiment, rec.Targets(), rec.Verdict, rec.Reason))
	r.d.refreshScores()
	r.d.publishStatus(context.Background())
}

func verdictWord(v guard.Verdict) string {
	switch v {
	case guard.Passed:
		return "Passed"
	case guard.Weakness:
		return "Weakness"
	case guard.Skipped:
		return "Skipped"
	case guard.Aborted:
		return "Aborted"
	case guard.AlertGap:
		return "AlertGap"
	case guard.NoEffect:
		return "NoEffect"
	}
	return "Error"
}

// swap builds a guard for a reloaded config.
func (h *guardHolder) swap(cfg config.Guard, o Options) error {
	g, err := guard.New(cfg, guard.Options{HTTPClient: o.HTTPClient, Clock: o.Clock, Logger: o.Logger, Registerer: o.Registry})
	if err != nil {
		return fmt.Errorf("build guard: %w", err)
	}
	h.g.Store(g)
	return nil
}
