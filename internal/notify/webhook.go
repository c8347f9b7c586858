package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

// WebhookVersion is the version field of the webhook payload; it changes
// only for incompatible changes (fields may be added within a version).
const WebhookVersion = 1

// WebhookPayload is chaosd's generic webhook body, documented in
// docs/notifications.md. Run fields are absent for paused and resumed.
type WebhookPayload struct {
	Version    int                `json:"version"`
	Event      config.Event       `json:"event"`
	At         time.Time          `json:"at"`
	RunID      string             `json:"runId,omitempty"`
	Experiment string             `json:"experiment,omitempty"`
	Action     config.ActionType  `json:"action,omitempty"`
	DryRun     bool               `json:"dryRun,omitempty"`
	Verdict    journal.Verdict    `json:"verdict,omitempty"`
	Reason     string             `json:"reason,omitempty"`
	Targets    []targets.Target   `json:"targets,omitempty"`
	StartedAt  *time.Time         `json:"startedAt,omitempty"`
	FinishedAt *time.Time         `json:"finishedAt,omitempty"`
	ReportURL  string             `json:"reportURL,omitempty"`
	Evidence   []journal.Evidence `json:"evidence,omitempty"`
	// Message says why and by whom, for paused and resumed.
	Message string `json:"message,omitempty"`
}

// Webhook posts WebhookPayload to a URL.
type Webhook struct {
	url    URLSource
	client *http.Client
}

var _ Notifier = (*Webhook)(nil)

// NewWebhook returns a webhook notifier; client nil means NewHTTPClient.
func NewWebhook(url URLSource, client *http.Client) *Webhook {
	if client == nil {
		client = NewHTTPClient(0)
	}
	return &Webhook{url: url, client: client}
}

func (w *Webhook) Name() string { return "webhook" }

func (w *Webhook) Notify(ctx context.Context, m Message) error {
	target, err := w.url.URL()
	if err != nil {
		return &sendError{msg: "webhook: " + err.Error()}
	}
	if err := postJSON(ctx, w.client, target, PayloadFor(m)); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// PayloadFor builds the webhook body for m.
func PayloadFor(m Message) WebhookPayload {
	p := WebhookPayload{Version: WebhookVersion, Event: m.Event, At: m.At.UTC(), Message: m.Text}
	if r := m.Run; r != nil {
		p.RunID, p.Experiment, p.Action, p.DryRun = r.ID, r.Experiment, r.Action, r.DryRun
		p.Verdict, p.Reason, p.Targets, p.ReportURL, p.Evidence = r.Verdict, r.Reason, r.Targets, r.ReportURL, r.Evidence
		p.StartedAt, p.FinishedAt = timePtr(r.StartedAt), timePtr(r.FinishedAt)
	}
	return p
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
