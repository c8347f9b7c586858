package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
)

// WeaknessAlertName is the alert chaosd raises; chaosd's own guard always
// ignores it (config.AlertmanagerGuard).
const WeaknessAlertName = "ChaosWeaknessFound"

// AlertGapAlertName is the alert chaosd raises for an alert-gap verdict.
const AlertGapAlertName = "ChaosAlertGapFound"

// ManualCooldownAlertDuration is how long the alert stays active when the
// cooldown is manual (or zero): long enough to be seen and routed. The
// pause itself lasts until `chaosd resume` and shows in `chaosd status`.
const ManualCooldownAlertDuration = time.Hour

// maxAlertTargets bounds the alerts posted for one run (one per target).
const maxAlertTargets = 20

// alertPoster is the one call chaosd makes to Alertmanager's v2 API.
type alertPoster interface {
	PostAlerts(params *alert.PostAlertsParams, opts ...alert.ClientOption) (*alert.PostAlertsOK, error)
}

// AlertmanagerOptions configure the Alertmanager receiver.
type AlertmanagerOptions struct {
	// URL of Alertmanager, e.g. http://alertmanager.monitoring:9093; user
	// info becomes basic auth. The API path /api/v2 is appended.
	URL string
	// HTTPClient nil means a client with DefaultSendTimeout.
	HTTPClient *http.Client
	Clock      clock.PassiveClock
	// Cooldown sets the alert's end when it is sent through a Dispatcher.
	Cooldown config.Cooldown
	// ExternalURL is chaosd's own address, for report links.
	ExternalURL string
}

// Alertmanager raises ChaosWeaknessFound through the official v2 client.
type Alertmanager struct {
	api         alertPoster
	clock       clock.PassiveClock
	cooldown    config.Cooldown
	externalURL string
	where       string // URL without password, for errors
}

var _ Notifier = (*Alertmanager)(nil)

// NewAlertmanager builds the client the way amtool does: host, base path
// plus /api/v2 and the URL's scheme (always passed, never defaulted).
func NewAlertmanager(opts AlertmanagerOptions) (*Alertmanager, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The parse error quotes the URL, which may hold a password.
		return nil, errors.New("alertmanager notifications: url is not an absolute http(s) URL")
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultSendTimeout}
	}
	rt := httptransport.NewWithClient(u.Host, path.Join("/", u.Path, "/api/v2"), []string{u.Scheme}, hc)
	if u.User != nil {
		pw, _ := u.User.Password()
		rt.DefaultAuthentication = httptransport.BasicAuth(u.User.Username(), pw)
	}
	c := opts.Clock
	if c == nil {
		c = clock.RealClock{}
	}
	return &Alertmanager{
		api:         amclient.New(rt, strfmt.Default).Alert,
		clock:       c,
		cooldown:    opts.Cooldown,
		externalURL: opts.ExternalURL,
		where:       u.Redacted(),
	}, nil
}

func (a *Alertmanager) Name() string { return "alertmanager" }

// Notify raises ChaosWeaknessFound for weakness events and
// ChaosAlertGapFound for alert-gap events, and ignores every other.
func (a *Alertmanager) Notify(ctx context.Context, m Message) error {
	if (m.Event != config.EventWeakness && m.Event != config.EventAlertGap) || m.Run == nil {
		return nil
	}
	return a.post(ctx, m.Run, CooldownDuration(a.cooldown))
}

// RaiseWeakness posts ChaosWeaknessFound for rec now, synchronously: one
// alert per chosen target, active from now until now+cooldown (a cooldown
// of zero or less means ManualCooldownAlertDuration).
func (a *Alertmanager) RaiseWeakness(ctx context.Context, rec journal.Record, cooldown time.Duration) error {
	return a.post(ctx, runFrom(rec, ReportLink(a.externalURL, rec.RunID)), cooldown)
}

// CooldownDuration is the alert duration for a configured cooldown: 0
// (meaning ManualCooldownAlertDuration) for a manual one.
func CooldownDuration(c config.Cooldown) time.Duration {
	if c.Manual {
		return 0
	}
	return c.Duration
}

func (a *Alertmanager) post(ctx context.Context, r *Run, cooldown time.Duration) error {
	name := alertNameFor(r.Verdict)
	params := alert.NewPostAlertsParamsWithContext(ctx).WithAlerts(weaknessAlerts(r, a.clock.Now(), cooldown))
	if _, err := a.api.PostAlerts(params); err != nil {
		return &sendError{
			msg:       fmt.Sprintf("alertmanager %s: post %s for run %s: %v", a.where, name, r.ID, err),
			permanent: !retryableAPIError(err),
		}
	}
	return nil
}

// retryableAPIError: the generated client returns typed errors with a
// status; a 4xx (other than 408 and 429) will fail the same way again.
func retryableAPIError(err error) bool {
	var coded interface {
		IsServerError() bool
		IsCode(int) bool
	}
	if errors.As(err, &coded) {
		return coded.IsServerError() || coded.IsCode(http.StatusTooManyRequests) || coded.IsCode(http.StatusRequestTimeout)
	}
	return true // transport errors: worth another try
}

// alertNameFor names the alert a finished run raises.
func alertNameFor(v journal.Verdict) string {
	if v == journal.VerdictAlertGap {
		return AlertGapAlertName
	}
	return WeaknessAlertName
}

func weaknessAlerts(r *Run, now time.Time, cooldown time.Duration) models.PostableAlerts {
	if cooldown <= 0 {
		cooldown = ManualCooldownAlertDuration
	}
	summary := fmt.Sprintf("chaosd found a weakness with experiment %s", r.Experiment)
	if r.Verdict == journal.VerdictAlertGap {
		summary = fmt.Sprintf("chaosd found an alert gap with experiment %s: an SLI moved beyond tolerance and no blocking alert fired", r.Experiment)
	}
	annotations := models.LabelSet{
		"summary":     summary,
		"description": r.Reason,
		"run_id":      r.ID,
	}
	if r.ReportURL != "" {
		annotations["report_url"] = r.ReportURL
	}
	base := func() models.LabelSet {
		return models.LabelSet{
			"alertname":  alertNameFor(r.Verdict),
			"experiment": r.Experiment,
			"action":     string(r.Action),
			"severity":   "warning",
		}
	}
	mk := func(labels models.LabelSet) *models.PostableAlert {
		for k, v := range labels {
			if v == "" { // empty and absent are the same to Alertmanager
				delete(labels, k)
			}
		}
		return &models.PostableAlert{
			Alert:       models.Alert{Labels: labels, GeneratorURL: strfmt.URI(r.ReportURL)},
			Annotations: annotations,
			StartsAt:    strfmt.DateTime(now.UTC()),
			EndsAt:      strfmt.DateTime(now.Add(cooldown).UTC()),
		}
	}
	if len(r.Targets) == 0 {
		return models.PostableAlerts{mk(base())}
	}
	var out models.PostableAlerts
	for i, t := range r.Targets {
		if i == maxAlertTargets {
			break
		}
		l := base()
		l["namespace"], l["target"] = t.Namespace, t.String()
		out = append(out, mk(l))
	}
	return out
}
