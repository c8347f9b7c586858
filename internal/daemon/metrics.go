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
}

// newDaemonMetrics registers the daemon's metrics; paused is asked at every
// scrape, so chaosd_paused is never stale.
func newDaemonMetrics(reg prometheus.Registerer, paused func() []pauseReason) *daemonMetrics {
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
	}
	reg.MustRegister(build, m.reloadSuccess, m.reloadTime, m.reloads, pausedCollector(paused))
	// At 0 from the start, so increase() counts the first rejected reload.
	for _, r := range []string{"success", "rejected"} {
		m.reloads.WithLabelValues(r)
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

var pausedDesc = prometheus.NewDesc("chaosd_paused",
	"1 while chaosd is paused, by reason: config, manual or cooldown.", []string{"reason"}, nil)

// pausedCollector reports chaosd_paused for every kind of pause, computed
// when scraped.
type pausedCollector func() []pauseReason

func (c pausedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- pausedDesc }

func (c pausedCollector) Collect(ch chan<- prometheus.Metric) {
	state := map[string]float64{"config": 0, "manual": 0, "cooldown": 0}
	for _, r := range c() {
		state[r.kind] = 1
	}
	for label, v := range state {
		ch <- prometheus.MustNewConstMetric(pausedDesc, prometheus.GaugeValue, v, label)
	}
}

// guardWebhook receives Alertmanager pushes and wakes the halt watchers.
func guardWebhook(d *daemon) http.Handler { return guard.NewWebhookHandler(d.nudger, d.log) }
