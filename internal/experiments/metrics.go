package experiments

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/promreg"
)

// Result label values; bounded.
const (
	resultSuccess = "success"
	resultFailed  = "failed"
	resultBlocked = "blocked" // refused by a PodDisruptionBudget
	resultPartial = "partial" // failed, but something changed and is held
	resultDryRun  = "dry_run"
	resultGone    = "gone" // the target disappeared: nothing left to revert
)

type metrics struct {
	injections *prometheus.CounterVec
	reverts    *prometheus.CounterVec
	active     prometheus.Gauge
	retries    *prometheus.CounterVec
	pending    prometheus.Gauge
	left       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		injections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_injections_total",
			Help: "Fault injections by experiment, action and result (success, failed, blocked, partial, dry_run).",
		}, []string{"experiment", "action", "result"}),
		reverts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_reverts_total",
			Help: "Fault reverts (including recovered orphans) by experiment, action and result (success, failed, gone, dry_run).",
		}, []string{"experiment", "action", "result"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chaosd_active_injections",
			Help: "Faults injected by this process and not yet reverted.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_revert_retries_total",
			Help: "Background retries of reverts that had failed, by experiment, action and result (success, failed).",
		}, []string{"experiment", "action", "result"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chaosd_reverts_pending",
			Help: "Faults whose revert failed and is being retried in the background.",
		}),
		left: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_faults_left_total",
			Help: "Faults a revert left in place because another writer changed them while chaosd held them (owned by nobody now), by experiment and action.",
		}, []string{"experiment", "action"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.injections, err = promreg.Register(reg, m.injections); err != nil {
		return nil, err
	}
	if m.reverts, err = promreg.Register(reg, m.reverts); err != nil {
		return nil, err
	}
	if m.active, err = promreg.Register(reg, m.active); err != nil {
		return nil, err
	}
	if m.retries, err = promreg.Register(reg, m.retries); err != nil {
		return nil, err
	}
	if m.pending, err = promreg.Register(reg, m.pending); err != nil {
		return nil, err
	}
	if m.left, err = promreg.Register(reg, m.left); err != nil {
		return nil, err
	}
	return m, nil
}

// InitMetrics creates each experiment's injection, revert and revert retry
// counters at zero for the results dashboards and alerts watch (success,
// failed). A
// counter series that first appears at 1 is invisible to increase(), so
// without this the first injection of an experiment would never mark a
// dashboard and the first failed revert would never fire ChaosdRevertFailed.
func (e *Engine) InitMetrics(exps []config.Experiment) {
	for _, exp := range exps {
		for _, result := range []string{resultSuccess, resultFailed} {
			e.metrics.injections.WithLabelValues(exp.Name, string(exp.Action.Type), result)
			e.metrics.reverts.WithLabelValues(exp.Name, string(exp.Action.Type), result)
			e.metrics.retries.WithLabelValues(exp.Name, string(exp.Action.Type), result)
		}
		e.metrics.left.WithLabelValues(exp.Name, string(exp.Action.Type))
	}
}
