package runner

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// Metrics are the runner's chaosd_* series.
type Metrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	haltLatency prometheus.Histogram
	noTarget    *prometheus.CounterVec
	lastRun     *prometheus.GaugeVec
	candidates  *prometheus.GaugeVec
	alertGaps   *prometheus.CounterVec
}

// NewMetrics registers the runner's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_runs_total",
			Help: "Finished runs by experiment, action and verdict.",
		}, []string{"experiment", "action", "verdict"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chaosd_run_duration_seconds",
			Help:    "Wall time of a run from preflight to verdict.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800},
		}, []string{"experiment"}),
		haltLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chaosd_halt_latency_seconds",
			Help:    "Time from the guard deciding to halt to every fault of the run being reverted.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
		}),
		noTarget: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_runs_no_target_total",
			Help: "Runs skipped because no candidate was eligible inside the blast radius.",
		}, []string{"experiment"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chaosd_last_run_timestamp_seconds",
			Help: "When each experiment last finished a run, by verdict.",
		}, []string{"experiment", "verdict"}),
		candidates: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chaosd_candidates",
			Help: "Eligible candidates at the experiment's last pick.",
		}, []string{"experiment"}),
		alertGaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_alert_gaps_total",
			Help: "Runs whose SLI moved beyond tolerance while no blocking alert fired.",
		}, []string{"experiment"}),
	}
	reg.MustRegister(m.runs, m.duration, m.haltLatency, m.noTarget, m.lastRun, m.candidates, m.alertGaps)
	return m
}

// InitExperiments creates every experiment's run counters at zero. A
// counter series that first appears at 1 is invisible to increase() and
// rate(), so without this the first weakness of an experiment would never
// show on a dashboard or fire an alert built on increase().
func (m *Metrics) InitExperiments(exps []config.Experiment) {
	for _, e := range exps {
		for _, v := range guard.Verdicts() {
			m.runs.WithLabelValues(e.Name, string(e.Action.Type), string(v))
		}
		m.noTarget.WithLabelValues(e.Name)
		m.alertGaps.WithLabelValues(e.Name)
	}
}

func (m *Metrics) observeRun(rec journal.Record) {
	m.runs.WithLabelValues(rec.Experiment, string(rec.Action), string(rec.Verdict)).Inc()
	m.duration.WithLabelValues(rec.Experiment).Observe(rec.DurationSeconds)
	m.lastRun.WithLabelValues(rec.Experiment, string(rec.Verdict)).Set(float64(rec.FinishedAt.Unix()))
	if rec.Verdict == guard.AlertGap {
		m.alertGaps.WithLabelValues(rec.Experiment).Inc()
	}
	if rec.Selection.Considered > 0 || rec.Selection.Eligible > 0 {
		m.candidates.WithLabelValues(rec.Experiment).Set(float64(rec.Selection.Eligible))
	}
}
