package experiments

import (
	"github.com/chaosd/chaosd/internal/promreg"

	"github.com/prometheus/client_golang/prometheus"
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
	return m, nil
}
