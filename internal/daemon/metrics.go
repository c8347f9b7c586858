package daemon

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/version"
)

var errNotSynced = errors.New("cluster inventory not synced yet")

type daemonMetrics struct {
	reloadSuccess prometheus.Gauge
	reloadTime    prometheus.Gauge
	reloads       *prometheus.CounterVec
	paused        *prometheus.GaugeVec
}

func newDaemonMetrics(reg prometheus.Registerer) *daemonMetrics {
	info := version.Get()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "chaosd_build_info",
		Help:        "Always 1; labels say which chaosd is running.",
		ConstLabels: prometheus.Labels{"version": info.Version, "commit": info.Commit, "goversion": info.GoVersion},
	})
	build.Set(1)
	m := &daemonMetrics{
		reloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chaosd_config_last_reload_success",
			Help: "1 if the last config load succeeded, 0 if it was rejected (the previous config stays in force).",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chaosd_config_last_reload_success_timestamp_seconds",
			Help: "When a config was last loaded successfully.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_config_reloads_total",
			Help: "Config loads by result (success, rejected).",
		}, []string{"result"}),
		paused: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chaosd_paused",
			Help: "1 while chaosd is paused, by reason: config, manual or cooldown.",
		}, []string{"reason"}),
	}
	reg.MustRegister(build, m.reloadSuccess, m.reloadTime, m.reloads, m.paused)
	for _, r := range []string{"config", "manual", "cooldown"} {
		m.paused.WithLabelValues(r).Set(0)
	}
	return m
}

func (m *daemonMetrics) configReloaded(ok bool, at time.Time) {
	if ok {
		m.reloadSuccess.Set(1)
		m.reloadTime.Set(float64(at.Unix()))
		m.reloads.WithLabelValues("success").Inc()
		return
	}
	m.reloadSuccess.Set(0)
	m.reloads.WithLabelValues("rejected").Inc()
}

// setPaused sets chaosd_paused for every kind of pause.
func (m *daemonMetrics) setPaused(reasons []pauseReason) {
	state := map[string]float64{"config": 0, "manual": 0, "cooldown": 0}
	for _, r := range reasons {
		state[r.kind] = 1
	}
	for label, v := range state {
		m.paused.WithLabelValues(label).Set(v)
	}
}

// guardWebhook receives Alertmanager pushes and wakes the halt watchers.
func guardWebhook(d *daemon) http.Handler { return guard.NewWebhookHandler(d.nudger, d.log) }
