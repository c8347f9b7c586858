package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// ErrPaused means a one-shot run was refused because chaosd is paused, or
// because whether it is paused cannot be read (ErrPauseUnknown).
var ErrPaused = errors.New("chaosd is paused")

// ErrFaultsHeld means a one-shot run ended with a fault still in place: its
// revert kept failing for onceRevertWait. The intent stays recorded in the
// cluster, so a running chaosd's recovery (or the intent's expiry) reverts
// it later; the run must not be reported as clean.
var ErrFaultsHeld = errors.New("faults still held")

// onceRevertWait bounds how long a one-shot run keeps retrying a failed
// revert after its run ended, as long as the runner's default RevertTimeout.
const onceRevertWait = 2 * time.Minute

// ErrPauseUnknown means chaosd's ConfigMap, where `chaosd pause` sets its
// switch, could not be read; a one-shot run then refuses as if paused.
var ErrPauseUnknown = fmt.Errorf("cannot tell whether %w", ErrPaused)

// Once runs one experiment now, honouring the guard, the blast radius and
// the pause switches, and returns its record. It never schedules, never
// leads and never recovers other processes' faults (a running daemon owns
// those); its own faults are reverted before it returns, even on Ctrl-C. A
// revert that fails is retried for up to onceRevertWait; if a fault is still
// held then, Once returns the record with ErrFaultsHeld. It holds a liveness
// Lease of its own identity (--identity plus a random suffix) meanwhile, so a
// running daemon leaves its faults alone until it exits.
func Once(ctx context.Context, o Options, experiment string) (journal.Record, error) {
	o = o.withDefaults()
	cfg, err := o.loadConfig()
	if err != nil {
		return journal.Record{}, err
	}
	exp, ok := cfg.Experiment(experiment)
	if !ok {
		return journal.Record{}, fmt.Errorf("no experiment named %q in %s", experiment, o.ConfigPath)
	}
	d, err := build(ctx, o, cfg, true)
	if err != nil {
		return journal.Record{}, err
	}
	defer d.shutdownOnce()
	if err := d.readControls(ctx); err != nil {
		return journal.Record{}, err
	}
	if paused, why := d.Paused(d.o.Clock.Now()); paused {
		return journal.Record{}, fmt.Errorf("%w: %s", ErrPaused, why)
	}
	// A running daemon leaves this process's faults alone while it renews
	// its liveness Lease; shutdownOnce releases it after the reverts.
	if err := d.holdLiveness(ctx); err != nil {
		return journal.Record{}, err
	}
	d.source.Start(ctx)
	syncCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := d.source.WaitSynced(syncCtx); err != nil {
		return journal.Record{}, fmt.Errorf("cluster inventory: %w", err)
	}
	rec := d.runner.RunNow(ctx, cfg, exp)
	if rec.Verdict == guard.Weakness && d.o.ConfigMap != "" {
		d.log.Info("a daemon sharing this ConfigMap is not paused by a one-shot run; pause it with chaosd pause if needed")
	}
	// Even on Ctrl-C: the process must not exit while its fault is held.
	waitCtx, cancelWait := context.WithTimeout(context.WithoutCancel(ctx), onceRevertWait)
	defer cancelWait()
	if err := d.awaitReverts(waitCtx); err != nil {
		return rec, err
	}
	return rec, nil
}

// awaitReverts waits while the engine retries the reverts that failed,
// until none is held or ctx ends; then it reports ErrFaultsHeld.
func (d *daemon) awaitReverts(ctx context.Context) error {
	if len(d.engine.Active()) == 0 {
		return nil
	}
	d.log.Warn("a revert failed; retrying until it succeeds", zap.Int("held", len(d.engine.Active())))
	if err := d.engine.WaitReverted(ctx); err != nil {
		return fmt.Errorf("%w: %w; a running chaosd's recovery, or the intent's expiry, reverts them", ErrFaultsHeld, err)
	}
	d.log.Info("every fault reverted")
	return nil
}

// shutdownOnce reverts anything left, stops the engine's retries, releases
// the liveness Lease (a fault still held is then a running daemon's to
// recover) and flushes notifications and traces.
func (d *daemon) shutdownOnce() {
	d.revertAll("one-shot run ended")
	d.engine.Close()
	d.releaseLiveness()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = d.notifier.close(ctx)
	d.tracer.shutdown(ctx)
	_ = d.journal.Close()
}
