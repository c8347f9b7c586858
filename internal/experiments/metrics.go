package experiments

import (
	"errors"
	"fmt"

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
	if m.injections, err = register(reg, m.injections); err != nil {
		return nil, err
	}
	if m.reverts, err = register(reg, m.reverts); err != nil {
		return nil, err
	}
	if m.active, err = register(reg, m.active); err != nil {
		return nil, err
	}
	return m, nil
}

// register adopts an identical collector that is already registered, so an
// Engine rebuilt in the same process keeps reporting into the same series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register experiment metrics: %w", err)
}
