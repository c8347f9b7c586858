package notify

import (
	"github.com/chaosd/chaosd/internal/promreg"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chaosd/chaosd/internal/config"
)

// Values of the result label of chaosd_notifications_total.
const (
	resultSent   = "sent"
	resultFailed = "failed"
)

// metrics are labelled by receiver kind and event only: both bounded.
type metrics struct {
	total   *prometheus.CounterVec
	dropped *prometheus.CounterVec
}

func (m *metrics) sent(receiver string, ev config.Event, result string) {
	m.total.WithLabelValues(receiver, string(ev), result).Inc()
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_notifications_total",
			Help: "Notifications by receiver, event and result (sent, or failed after every attempt).",
		}, []string{"receiver", "event", "result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chaosd_notifications_dropped_total",
			Help: "Notifications never attempted: the receiver's queue was full, or shutdown came first.",
		}, []string{"receiver"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.total, err = promreg.Register(reg, m.total); err != nil {
		return nil, err
	}
	if m.dropped, err = promreg.Register(reg, m.dropped); err != nil {
		return nil, err
	}
	return m, nil
}
