package daemon

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/history"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/scheduler"
	"github.com/chaosd/chaosd/internal/server"
)

// status is what the status page, /api/v1/status and `chaosd status` show.
func (d *daemon) status() control.Status {
	now := d.o.Clock.Now()
	st := control.Status{UpdatedAt: now, Leader: d.o.Identity, ConfigHash: d.hash(), State: "running", Recent: d.recent.list(),
		Audit: d.auditSummaries()}
	if !d.leading.Load() {
		st.State, st.Leader = "standby", ""
	}
	st.Unguarded = d.cfg.Load().Guard.Unguarded
	if msg := d.cfgError.Load(); msg != nil {
		st.ConfigError = *msg
	}
	reasons := d.pauseReasons(now)
	for _, r := range reasons {
		st.PauseReasons = append(st.PauseReasons, r.text)
		st.Pauses = append(st.Pauses, control.Pause{Kind: r.kind, Reason: r.why, Until: r.until, UntilText: r.untilText})
	}
	st.Guard = guardState(d.guard.last.load(), d.cfg.Load().Guard)
	st.Scores = d.scoreStatus()
	if len(reasons) > 0 && st.State == "running" {
		st.State = "paused"
	}
	for _, act := range d.pendingIfLeading() {
		st.Next = append(st.Next, control.NextActivation{Experiment: act.Experiment, At: act.At, Scheduled: act.Scheduled})
	}
	for _, inj := range d.engine.Active() {
		st.Active = append(st.Active, control.ActiveFault{RunID: inj.Run.ID, Experiment: inj.Run.Experiment,
			Action: string(inj.Action), Target: inj.Target.String(), Since: inj.InjectedAt})
	}
	return st
}

// publishStatus writes the status on chaosd's ConfigMap, for
// `chaosd status` from a laptop. Only the leader publishes.
func (d *daemon) publishStatus(ctx context.Context) {
	ref, ok := d.configMapRef()
	if !ok || !d.leading.Load() {
		return
	}
	if err := control.PublishStatus(ctx, d.o.Kube, ref, d.status()); err != nil {
		d.log.Warn("publish status failed", zap.Error(err))
	}
}

// recover reverts faults recorded in the cluster that no live run owns:
// left by a crashed or replaced leader, a dead chaosd once, or expired. The
// engine decides ownership itself, after listing the cluster. It returns
// when a kept fault may next need recovering (zero: nothing kept).
func (d *daemon) recover(ctx context.Context) time.Time {
	start := d.o.Clock.Now()
	report, err := d.engine.Recover(ctx)
	d.journalRecovered(report)
	d.reportUnrestorable(report.Unrestorable)
	if err != nil {
		d.log.Error("recovery of orphaned faults failed", zap.Error(err))
		return report.RecheckAt
	}
	if len(report.Reverted) > 0 || len(report.Failed) > 0 {
		d.log.Info("recovered orphaned faults", zap.Int("found", report.Found), zap.Int("reverted", len(report.Reverted)),
			zap.Int("failed", len(report.Failed)), zap.Duration("took", d.o.Clock.Since(start)))
		d.eventOnConfigMap("Normal", "ChaosRecovered", "Recover", "reverted orphaned faults left by an earlier chaosd")
	}
	return report.RecheckAt
}

func (d *daemon) handler() http.Handler {
	return server.New(server.Options{
		Status: d.status,
		Ready: func() error {
			if !d.source.HasSynced() {
				if err := d.source.Denied(); err != nil {
					return fmt.Errorf("%w: %w", errNotSynced, err)
				}
				return errNotSynced
			}
			return nil
		},
		Runs:         d.journal,
		History:      d.history,
		ScoreWindow:  func() int { return d.cfg.Load().Guard.ScoreWindow },
		Gatherer:     d.o.Registry,
		AlertWebhook: guardWebhook(d),
		Clock:        d.o.Clock,
		Logger:       d.log,
	})
}

// history asks Prometheus for the guard checks' series over [from, to],
// with the current config; nil without a Prometheus check.
func (d *daemon) history(ctx context.Context, from, to time.Time) []chart.Panel {
	g := d.cfg.Load().Guard
	queries := history.QueriesFromGuard(g)
	if len(queries) == 0 {
		return nil
	}
	src, err := history.NewSource(g.Prometheus.URL, d.o.HTTPClient, queries, g.Timeout)
	if err != nil {
		return []chart.Panel{{Title: "prometheus", NoData: err.Error()}}
	}
	return src.Panels(ctx, from, to)
}

// recentRuns keeps the last finished runs for the status.
type recentRuns struct {
	mu   sync.Mutex
	runs []control.RunSummary
}

func (r *recentRuns) add(rec journal.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append([]control.RunSummary{{RunID: rec.RunID, Experiment: rec.Experiment, Verdict: string(rec.Verdict),
		Reason: rec.Reason, FinishedAt: rec.FinishedAt}}, r.runs...)
	if len(r.runs) > control.MaxListed {
		r.runs = r.runs[:control.MaxListed]
	}
}

func (r *recentRuns) list() []control.RunSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]control.RunSummary(nil), r.runs...)
}

// pendingIfLeading lists the activations this replica will fire; a standby
// fires none.
func (d *daemon) pendingIfLeading() []scheduler.Activation {
	if d.o.LeaderElect && !d.leading.Load() {
		return nil
	}
	return d.sched.Pending()
}
