package guard

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// State is the outcome of one guard evaluation, or of one of its sources.
type State string

const (
	// StateOK: every source answered and nothing is wrong.
	StateOK State = "ok"
	// StateBlocked: an alert or a check says something is wrong; the
	// Evaluation carries the evidence.
	StateBlocked State = "blocked"
	// StateUnknown: some source could not be evaluated (unreachable, HTTP
	// error, malformed answer, timeout, a check without data).
	StateUnknown State = "unknown"
)

// worse returns the more severe of two states: blocked > unknown > ok. The
// zero State counts as ok so that it can start a fold.
func worse(a, b State) State {
	rank := func(s State) int {
		switch s {
		case StateBlocked:
			return 2
		case StateUnknown:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	if a == "" {
		return StateOK
	}
	return a
}

// Mode says which questions an evaluation asks.
type Mode string

const (
	// ModePreflight decides whether a run may start: firing alerts, pending
	// alerts (when blockPending is set) and checks.
	ModePreflight Mode = "preflight"
	// ModePoll decides whether a running run must halt, and judges it after
	// the observe window: firing alerts and checks, never pending alerts.
	ModePoll Mode = "poll"
	// ModeStatus asks what ModePreflight asks, only to show the guard's
	// state (status page, `chaosd status`); it decides nothing.
	ModeStatus Mode = "status"
)

// Names of the sources an evaluation consults; they are the values of the
// source label on chaosd_guard_* metrics and of Problem.Source.
const (
	SourceAlertmanager = "alertmanager"
	SourcePending      = "prometheus_pending"
	SourceChecks       = "prometheus_checks"
)

// Evaluation is one answer of the guard with everything that backs it. It
// is plain data, safe to copy and to marshal into a run journal.
type Evaluation struct {
	Mode     Mode          `json:"mode"`
	State    State         `json:"state"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration"`
	// Sources is the state of each source consulted, keyed by Source*.
	Sources map[string]State `json:"sources,omitempty"`
	// Alerts are the alerts that block, firing in Alertmanager or pending
	// in Prometheus.
	Alerts []AlertEvidence `json:"alerts,omitempty"`
	// Checks holds every check in configuration order, passing or not.
	Checks []CheckResult `json:"checks,omitempty"`
	// Problems say why a source is unknown.
	Problems []Problem `json:"problems,omitempty"`
}

// OK reports whether the evaluation found nothing wrong and nothing unknown.
func (e Evaluation) OK() bool { return e.State == StateOK }

// Summary is a one-line, human-readable reason for logs and notifications.
func (e Evaluation) Summary() string {
	var parts []string
	for _, a := range e.Alerts {
		parts = append(parts, a.String())
	}
	for _, c := range e.Checks {
		if c.State != StateOK {
			parts = append(parts, c.String())
		}
	}
	for _, p := range e.Problems {
		if p.Check == "" { // check problems are already in the check's line
			parts = append(parts, p.String())
		}
	}
	if len(parts) == 0 {
		return string(e.State)
	}
	return string(e.State) + ": " + strings.Join(parts, "; ")
}

// AlertEvidence is an alert that blocks a start or halts a run.
type AlertEvidence struct {
	// Source is SourceAlertmanager (firing) or SourcePending.
	Source      string            `json:"source"`
	Name        string            `json:"name"`
	State       string            `json:"state"` // active, unprocessed, pending
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
	Fingerprint string            `json:"fingerprint"`
}

func (a AlertEvidence) String() string {
	return fmt.Sprintf("alert %s %s since %s (%s)", a.Name, a.State, a.StartsAt.UTC().Format(time.RFC3339), a.Fingerprint)
}

// CheckResult is the outcome of one Prometheus check. When the query returned
// samples, Value, Metric and Timestamp describe the first sample that broke
// the bound (or, if none did, the first sample), so the evidence shows the
// number the decision was made on.
type CheckResult struct {
	Name  string   `json:"name"`
	Expr  string   `json:"expr"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Empty bool     `json:"empty,omitempty"`

	State State `json:"state"`
	// Samples is how many samples the query returned (every point of a
	// matrix counts); Violations how many of them broke the bound.
	Samples    int               `json:"samples"`
	Violations int               `json:"violations,omitempty"`
	Value      model.SampleValue `json:"value,omitempty"` // marshals NaN and ±Inf as strings
	Metric     model.Metric      `json:"metric,omitempty"`
	Timestamp  time.Time         `json:"timestamp,omitzero"`
	// Reason explains a state other than OK.
	Reason   string   `json:"reason,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func (c CheckResult) String() string {
	s := fmt.Sprintf("check %s %s", c.Name, c.State)
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

// Problem is why a source (or one check) could not be evaluated.
type Problem struct {
	Source  string `json:"source"`
	Check   string `json:"check,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Check != "" {
		return fmt.Sprintf("%s %s: %s", p.Source, p.Check, p.Message)
	}
	return p.Source + ": " + p.Message
}
