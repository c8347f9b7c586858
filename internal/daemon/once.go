package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// ErrPaused means a one-shot run was refused because chaosd is paused.
var ErrPaused = errors.New("chaosd is paused")

// Once runs one experiment now, honouring the guard, the blast radius and
// the pause switches, and returns its record. It never schedules, never
// leads and never recovers other processes' faults (a running daemon owns
// those); its own faults are reverted before it returns, even on Ctrl-C.
// It holds a liveness Lease of its own identity (--identity plus a random
// suffix) meanwhile, so a running daemon leaves its faults alone.
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
	d.readControls(ctx)
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
	return rec, nil
}

// shutdownOnce reverts anything left, releases the liveness Lease and
// flushes notifications.
func (d *daemon) shutdownOnce() {
	d.revertAll("one-shot run ended")
	d.releaseLiveness()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = d.notifier.close(ctx)
	_ = d.journal.Close()
}
