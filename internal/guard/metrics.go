package guard

import (
	"github.com/chaosd/chaosd/internal/promreg"

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
	if m.state, err = promreg.Register(reg, m.state); err != nil {
		return nil, err
	}
	if m.duration, err = promreg.Register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.errors, err = promreg.Register(reg, m.errors); err != nil {
		return nil, err
	}
	if m.evaluations, err = promreg.Register(reg, m.evaluations); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *metrics) observe(e Evaluation) {
	m.duration.WithLabelValues(string(e.Mode)).Observe(e.Duration.Seconds())
	m.evaluations.WithLabelValues(string(e.Mode), string(e.State)).Inc()
	for src, st := range e.Sources {
		m.state.WithLabelValues(src).Set(stateValue(st))
	}
}
