// Package notify owns telling people about runs: Slack Block Kit messages,
// chaosd's generic JSON webhook, and chaosd's own ChaosWeaknessFound alert
// in Alertmanager, all behind one asynchronous Dispatcher.
//
// Notifications are best effort by design. This package must never block
// or fail a run, never decide a verdict and never reach back into the
// runner; and it must never let a receiver's URL (a secret: whoever has a
// Slack webhook URL can post to the channel) reach a log line, an error
// message, a journal or the status page.
package notify

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

// Notifier delivers one message to one receiver. It is called from the
// Dispatcher's worker, never from the run itself, and must honour ctx.
// Errors must already be free of secrets.
type Notifier interface {
	// Name is the receiver's metric and log label: slack, webhook, alertmanager.
	Name() string
	Notify(ctx context.Context, m Message) error
}

// Message is one notification.
type Message struct {
	Event config.Event
	// At is when the event was dispatched.
	At time.Time
	// Run is set for run events (started, finished, weakness, error).
	Run *Run
	// Text says why and by whom, for paused and resumed.
	Text string
}

// Run is what notifications say about a run: a copy taken at Dispatch, so
// the runner may keep using its Record.
type Run struct {
	ID         string
	Experiment string
	Action     config.ActionType
	TargetKind config.TargetKind
	Verdict    journal.Verdict
	Reason     string
	DryRun     bool
	Targets    []targets.Target
	StartedAt  time.Time
	FinishedAt time.Time
	Evidence   []journal.Evidence
	// ReportURL links to the run on chaosd's own UI; empty without an
	// external URL.
	ReportURL string
}

// maxEvidence bounds the evidence a notification carries; the report has
// the rest.
const maxEvidence = 10

func runFrom(rec journal.Record, reportURL string) *Run {
	rec = journal.Normalize(rec) // no NaN: payloads must encode
	r := &Run{
		ID: rec.RunID, Experiment: rec.Experiment, Action: rec.Action, TargetKind: rec.TargetKind,
		Verdict: rec.Verdict, Reason: rec.Reason, DryRun: rec.DryRun,
		Targets:   slices.Clone(rec.Selection.Chosen),
		StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt,
		ReportURL: reportURL,
	}
	for i, e := range rec.Evidence {
		if i == maxEvidence {
			break
		}
		e.Labels = maps.Clone(e.Labels)
		r.Evidence = append(r.Evidence, e)
	}
	return r
}

// TargetNames names the run's targets the way logs do.
func (r *Run) TargetNames() []string {
	out := make([]string, 0, len(r.Targets))
	for _, t := range r.Targets {
		out = append(out, t.String())
	}
	return out
}

// ReportLink is where chaosd's own HTTP server renders a run's report
// (internal/server: GET /api/v1/runs/{id}/report). Empty when no external
// URL is configured.
func ReportLink(externalURL, runID string) string {
	if externalURL == "" || runID == "" {
		return ""
	}
	return strings.TrimRight(externalURL, "/") + "/api/v1/runs/" + url.PathEscape(runID) + "/report"
}

// EventFor is the event that announces a finished run: weakness, alert-gap and error
// verdicts have their own event, every other verdict is finished.
func EventFor(v journal.Verdict) config.Event {
	switch v {
	case journal.VerdictWeakness:
		return config.EventWeakness
	case journal.VerdictAlertGap:
		return config.EventAlertGap
	case journal.VerdictError:
		return config.EventError
	}
	return config.EventFinished
}

// formatLabels prints labels the Prometheus way: {a="1", b="2"}.
func formatLabels(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+strconv.Quote(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
