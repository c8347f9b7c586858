package scheduler

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// SkipReason is the bounded label value for a skipped activation.
type SkipReason string

const (
	SkipWindow         SkipReason = "window"
	SkipPaused         SkipReason = "paused"
	SkipAlreadyRunning SkipReason = "already-running"
	SkipMaxConcurrent  SkipReason = "max-concurrent-runs"
)

// skipReasonFor maps a Slots refusal to its label.
func skipReasonFor(slotsReason string) SkipReason {
	if strings.HasPrefix(slotsReason, "already running") {
		return SkipAlreadyRunning
	}
	return SkipMaxConcurrent
}

// Metrics are the scheduler's chaosd_* series.
type Metrics struct {
	activations *prometheus.CounterVec
	skipped     *prometheus.CounterVec
	next        *prometheus.GaugeVec
}

// NewMetrics registers the scheduler's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		activations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_activations_total",
			Help: "Activations that started a run, by experiment.",
		}, []string{"experiment"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_runs_skipped_total",
			Help: "Activations that did not start a run, by experiment and reason (window, paused, already-running, max-concurrent-runs, and guard reasons from the runner).",
		}, []string{"experiment", "reason"}),
		next: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chaosd_next_activation_timestamp_seconds",
			Help: "When each experiment runs next (jitter included), as a Unix timestamp.",
		}, []string{"experiment"}),
	}
	reg.MustRegister(m.activations, m.skipped, m.next)
	return m
}

// Skipped counts a skip recorded outside the scheduler (the runner's guard preflight).
func (m *Metrics) Skipped(experiment string, reason SkipReason) {
	m.skipped.WithLabelValues(experiment, string(reason)).Inc()
}

func (m *Metrics) setPending(pending map[string]Activation) {
	m.next.Reset()
	for name, act := range pending {
		m.next.WithLabelValues(name).Set(float64(act.At.Unix()))
	}
}
