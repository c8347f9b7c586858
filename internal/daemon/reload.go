package daemon

import (
	"context"
	"errors"
	"strings"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/config"
)

// watchConfig follows the mounted config file: a valid change is swapped in
// without disturbing running faults; an invalid one, one without a guard
// (and no opt-out), or in namespaced mode one aiming outside the watched
// namespaces, is rejected, loudly, and the last good config stays in force.
func (d *daemon) watchConfig(ctx context.Context) {
	w := config.NewWatcher(d.o.ConfigPath, config.WatchOptions{Logger: d.log, InitialHash: d.hash(), Clock: d.o.Clock})
	w.Run(ctx, func(cfg *config.Config, err error) { d.reload(ctx, cfg, err) })
}

// reload handles one change of the config file: cfg, or the error that
// kept it from loading.
func (d *daemon) reload(ctx context.Context, cfg *config.Config, err error) {
	if err == nil {
		err = d.o.accept(cfg)
	}
	if err != nil {
		d.rejectConfig(err)
		return
	}
	d.applyConfig(ctx, cfg)
}

func (d *daemon) rejectConfig(err error) {
	msg := err.Error()
	var cerrs *config.Errors
	if errors.As(err, &cerrs) {
		msg = strings.Join(cerrs.Messages(), "; ")
	}
	d.cfgError.Store(&msg)
	d.metrics.configReloaded(false, d.o.Clock.Now())
	d.log.Error("config reload rejected, keeping the last good config", zap.Error(err))
	d.auditConfig("", errors.New(msg))
}

func (d *daemon) applyConfig(ctx context.Context, cfg *config.Config) {
	if err := d.guard.swap(cfg.Guard, d.o); err != nil {
		d.rejectConfig(err)
		return
	}
	if err := d.notifier.swap(cfg); err != nil {
		d.rejectConfig(err)
		return
	}
	if err := d.tracer.swap(ctx, cfg.Tracing); err != nil {
		d.rejectConfig(err)
		return
	}
	hash := cfg.Hash()
	d.cfg.Store(cfg)
	d.cfgError.Store(nil)
	d.sched.SetConfig(cfg)
	d.initExperimentMetrics(cfg)
	d.refreshScores() // guard.scoreWindow may have changed
	d.metrics.configReloaded(true, d.o.Clock.Now())
	d.log.Info("config reloaded", zap.String("configHash", hash), zap.Int("experiments", len(cfg.Experiments)))
	d.warnUnguarded(cfg)
	d.auditConfig(hash, nil)
	if cfg.Paused == config.PauseRevert {
		d.emergencyStop(ctx, "paused: revert in config")
	}
	d.publishStatus(ctx)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
