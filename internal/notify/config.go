package notify

import (
	"fmt"
	"net/http"

	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
)

// BuildOptions are what ReceiversFromConfig needs beyond the config.
type BuildOptions struct {
	// HTTPClient for Slack and the webhook; nil means NewHTTPClient.
	HTTPClient *http.Client
	// AlertmanagerClient nil means a client with DefaultSendTimeout.
	AlertmanagerClient *http.Client
	Clock              clock.PassiveClock
}

// ReceiversFromConfig builds one Receiver per configured notification.
// Secret URLs are not read here but on every send, so a Secret mounted
// after start-up, or rotated, is picked up.
func ReceiversFromConfig(cfg *config.Config, opts BuildOptions) ([]Receiver, error) {
	n := cfg.Notifications
	var rs []Receiver
	if s := n.Slack; s != nil {
		src := URLSource{File: s.WebhookURLFile, Env: s.WebhookURLEnv}
		rs = append(rs, Receiver{Notifier: NewSlack(src, opts.HTTPClient), On: s.On})
	}
	if w := n.Webhook; w != nil {
		src := URLSource{Value: w.URL, File: w.URLFile, Env: w.URLEnv}
		rs = append(rs, Receiver{Notifier: NewWebhook(src, opts.HTTPClient), On: w.On})
	}
	if am := n.Alertmanager; am != nil && (am.RaiseOnWeakness || am.RaiseOnAlertGap) {
		a, err := NewAlertmanager(AlertmanagerOptions{
			URL: am.URL, HTTPClient: opts.AlertmanagerClient, Clock: opts.Clock,
			Cooldown: cfg.Guard.Cooldown, ExternalURL: am.ExternalURL,
		})
		if err != nil {
			return nil, fmt.Errorf("notifications.alertmanager: %w", err)
		}
		var on []config.Event
		if am.RaiseOnWeakness {
			on = append(on, config.EventWeakness)
		}
		if am.RaiseOnAlertGap {
			on = append(on, config.EventAlertGap)
		}
		rs = append(rs, Receiver{Notifier: a, On: on})
	}
	return rs, nil
}

// ExternalURL is chaosd's own address for report links, if configured.
func ExternalURL(n config.Notifications) string {
	if n.Alertmanager == nil {
		return ""
	}
	return n.Alertmanager.ExternalURL
}
