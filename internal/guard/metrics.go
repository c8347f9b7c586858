package guard

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the guard's own Prometheus metrics. Label values are bounded:
// source is one of the Source* constants, mode one of the Mode* constants.
type metrics struct {
	state       *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	evaluations *prometheus.CounterVec
}

// stateValue is how chaosd_guard_state encodes a State.
func stateValue(s State) float64 {
	switch s {
	case StateBlocked:
		return 1
	case StateUnknown:
		return 2
	}
	return 0
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chaosd_guard_state",
			Help: "Last state seen per guard source: 0 ok, 1 blocked, 2 unknown.",
		}, []string{"source"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chaosd_guard_evaluation_duration_seconds",
			Help:    "How long one guard evaluation took, all sources together.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"mode"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_guard_errors_total",
			Help: "Calls to a guard source that failed or returned something unusable.",
		}, []string{"source"}),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_guard_evaluations_total",
			Help: "Guard evaluations by mode and resulting state.",
		}, []string{"mode", "state"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.state, err = register(reg, m.state); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.errors, err = register(reg, m.errors); err != nil {
		return nil, err
	}
	if m.evaluations, err = register(reg, m.evaluations); err != nil {
		return nil, err
	}
	return m, nil
}

// register adopts an identical collector that is already registered, so a
// Guard rebuilt after a config reload keeps reporting into the same series.
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
	return c, fmt.Errorf("register guard metrics: %w", err)
}

func (m *metrics) observe(e Evaluation) {
	m.duration.WithLabelValues(string(e.Mode)).Observe(e.Duration.Seconds())
	m.evaluations.WithLabelValues(string(e.Mode), string(e.State)).Inc()
	for src, st := range e.Sources {
		m.state.WithLabelValues(src).Set(stateValue(st))
	}
}
