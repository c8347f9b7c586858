package journal

import (
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/targets"
)

// SchemaVersion is written into every Record. Readers reject newer versions.
const SchemaVersion = 1

// Verdict is how a run was judged. The guard decides it; the journal
// stores it, so both share one vocabulary.
type Verdict = guard.Verdict

// The verdicts, as the journal's schema names them (see guard.Verdict).
const (
	VerdictPassed   = guard.Passed
	VerdictWeakness = guard.Weakness
	VerdictSkipped  = guard.Skipped
	VerdictAborted  = guard.Aborted
	VerdictError    = guard.Error
	VerdictAlertGap = guard.AlertGap
	VerdictNoEffect = guard.NoEffect
)

// ValidVerdict reports whether v is one of the known verdicts.
func ValidVerdict(v Verdict) bool {
	for _, known := range guard.Verdicts() {
		if v == known {
			return true
		}
	}
	return false
}

// Record is everything chaosd knows about one run. The runner fills it as
// the run progresses and hands it to Store.Write; the report and notify
// packages only read it.
type Record struct {
	SchemaVersion int               `json:"schemaVersion"`
	RunID         string            `json:"runId"`
	Experiment    string            `json:"experiment"`
	Action        config.ActionType `json:"action"`
	TargetKind    config.TargetKind `json:"targetKind"`
	// ConfigHash identifies the config snapshot the run used.
	ConfigHash string `json:"configHash"`
	// Seed of the run's random source. A string in JSON: a uint64 does not
	// survive a float64 (JavaScript, jq), and a rounded seed replays nothing.
	Seed   uint64 `json:"seed,string"`
	DryRun bool   `json:"dryRun"`
	// TraceID is the run's OpenTelemetry trace (32 hex digits); absent
	// when tracing is off or the run was not sampled.
	TraceID string `json:"traceId,omitempty"`

	StartedAt time.Time `json:"startedAt"`
	// FinishedAt is absent while the run is in progress.
	FinishedAt      time.Time `json:"finishedAt,omitzero"`
	DurationSeconds float64   `json:"durationSeconds"`

	// Verdict is empty while the run is in progress.
	Verdict Verdict `json:"verdict"`
	// Reason says why, as a sentence a human can act on.
	Reason   string     `json:"reason"`
	Evidence []Evidence `json:"evidence"`

	Selection  Selection       `json:"selection"`
	Timeline   []TimelineEntry `json:"timeline"`
	Injections []Injection     `json:"injections"`

	Load        *LoadStats   `json:"load,omitempty"`
	Replacement *Replacement `json:"replacement,omitempty"`
	// SLIs compares each SLI, baseline against fault, with both series;
	// absent when the experiment has none or nothing was injected.
	SLIs []SLIResult `json:"slis,omitempty"`
	// Reach is the check, before injecting, that each chosen target's
	// fault can affect anything; absent for actions without one.
	Reach []Reach `json:"reach,omitempty"`
	// Landing is the evidence, after injecting, that the fault took
	// effect; absent when nothing was injected or the check is off.
	Landing *Landing `json:"landing,omitempty"`
}

// SLIResult is one SLI of a run: its verdict and the samples behind it.
type SLIResult struct {
	Name string `json:"name"`
	// Query is the PromQL as run, with the target's identity filled in.
	Query string `json:"query"`
	// State is within, beyond or no-data.
	State  guard.SLIState `json:"state"`
	Reason string         `json:"reason"`
	// Worse says which way the SLI gets worse, from its tolerance:
	// WorseHigher or WorseLower. Absent in journals written before it was
	// recorded.
	Worse string `json:"worse,omitempty"`
	// Held and Observed compare the hold and the observe window with
	// the baseline; Observed is absent without an observe window.
	Held     *SLIComparison `json:"held,omitempty"`
	Observed *SLIComparison `json:"observed,omitempty"`
	// Baseline holds the samples before the injection, Fault those from
	// the injection to the end of observe.
	Baseline []SLIPoint `json:"baseline"`
	Fault    []SLIPoint `json:"fault"`
}

// The directions of SLIResult.Worse.
const (
	WorseHigher = "higher"
	WorseLower  = "lower"
)

// SLIComparison is one window against the baseline. Numbers that could
// not be computed (no samples, no test) are absent.
type SLIComparison struct {
	State          guard.SLIState `json:"state"`
	Test           string         `json:"test"`
	BaselineMedian *float64       `json:"baselineMedian,omitempty"`
	Median         *float64       `json:"median,omitempty"`
	Bound          *float64       `json:"bound,omitempty"`
	PValue         *float64       `json:"pValue,omitempty"`
}

// SLIPoint is one sample: time and value.
type SLIPoint struct {
	At    time.Time `json:"t"`
	Value float64   `json:"v"`
}

// Reach is one target's reach check (internal/reach).
type Reach struct {
	Target    string `json:"target"`
	Reachable bool   `json:"reachable"`
	// Permanent marks a pod kill nothing undoes (a bare pod).
	Permanent bool     `json:"permanent,omitempty"`
	Reasons   []string `json:"reasons"`
	Warnings  []string `json:"warnings,omitempty"`
	// Evicts lists what a node drain evicts, as namespace/name.
	Evicts []string `json:"evicts,omitempty"`
	// Error is set when the cluster could not be read to tell.
	Error string `json:"error,omitempty"`
}

// Landing is the evidence that a fault took effect.
type Landing struct {
	// State is landed, not-landed, too-little-traffic or unknown.
	State   string `json:"state"`
	Summary string `json:"summary"`
	// Source says where the evidence came from: prometheus, or chaosd
	// for what chaosd saw itself (a replacement, evictions).
	Source Source `json:"source"`
	// Query and TrafficQuery are the PromQL evaluated, at EvaluatedAt.
	Query        string    `json:"query,omitempty"`
	TrafficQuery string    `json:"trafficQuery,omitempty"`
	EvaluatedAt  time.Time `json:"evaluatedAt,omitzero"`
	// Faulted and Requests are the queries' results; MinRequests the
	// least traffic that could tell.
	Faulted     *float64 `json:"faulted,omitempty"`
	Requests    *float64 `json:"requests,omitempty"`
	MinRequests int      `json:"minRequests,omitempty"`
}

// Source says where a piece of evidence came from.
type Source string

const (
	SourceAlertmanager Source = "alertmanager"
	SourcePrometheus   Source = "prometheus"
	SourceChaosd       Source = "chaosd"
)

// Evidence is one observation behind a verdict: a firing alert, a check
// sample outside its bound, or something chaosd saw itself.
type Evidence struct {
	Source Source            `json:"source"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// Value is the sample value, absent for alerts. Non-finite values
	// (NaN, ±Inf) cannot be JSON numbers: Store.Write drops them and notes
	// the value in Message.
	Value *float64 `json:"value,omitempty"`
	// Bound is what the value had to satisfy, e.g. "<= 0.05" or "empty".
	Bound   string    `json:"bound,omitempty"`
	At      time.Time `json:"at"`
	Message string    `json:"message,omitempty"`
}

// Selection explains how the targets were chosen.
type Selection struct {
	Considered int `json:"considered"`
	// Checked counts the candidates the picker looked at: modes one and
	// count:N stop once they have enough, so Eligible counts only among
	// these. 0 in journals written before it was recorded.
	Checked  int `json:"checked,omitempty"`
	Eligible int `json:"eligible"`
	// Rejections counts rejected candidates by reason.
	Rejections map[string]int `json:"rejections,omitempty"`
	// RejectedSample lists a few rejected candidates, for the report.
	RejectedSample []Rejection      `json:"rejectedSample,omitempty"`
	Chosen         []targets.Target `json:"chosen"`
}

// Rejection is one candidate that was not eligible, and why.
type Rejection struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// Phase names a step of a run.
type Phase string

const (
	PhasePreflight Phase = "preflight"
	PhasePick      Phase = "pick"
	PhaseInject    Phase = "inject"
	PhaseHold      Phase = "hold"
	PhaseRevert    Phase = "revert"
	PhaseObserve   Phase = "observe"
	PhaseVerdict   Phase = "verdict"
	PhaseHalt      Phase = "halt"
	PhaseGuard     Phase = "guard"
	PhaseSLI       Phase = "sli"
)

// TimelineEntry is one thing that happened during a run.
type TimelineEntry struct {
	At      time.Time `json:"at"`
	Phase   Phase     `json:"phase"`
	Target  string    `json:"target,omitempty"`
	Message string    `json:"message"`
	Error   string    `json:"error,omitempty"`
}

// AddTimeline appends a timeline entry; err may be nil.
func (r *Record) AddTimeline(at time.Time, phase Phase, target, msg string, err error) {
	e := TimelineEntry{At: at, Phase: phase, Target: target, Message: msg}
	if err != nil {
		e.Error = err.Error()
	}
	r.Timeline = append(r.Timeline, e)
}

// Targets names the chosen targets the way logs do.
func (r *Record) Targets() []string {
	out := make([]string, 0, len(r.Selection.Chosen))
	for _, t := range r.Selection.Chosen {
		out = append(out, t.String())
	}
	return out
}

// Injection is one fault applied to one target, and its revert.
type Injection struct {
	Target     string            `json:"target"`
	Action     config.ActionType `json:"action"`
	InjectedAt time.Time         `json:"injectedAt"`
	// RevertedAt is null when the fault was never reverted: look at it.
	RevertedAt  *time.Time `json:"revertedAt"`
	RevertError string     `json:"revertError,omitempty"`
	// NothingToRevert marks a fault with nothing to give back (a pod kill,
	// a node delete without restore, a dry run): RevertedAt is then its
	// InjectedAt, and reports say "nothing to revert" instead of a time.
	NothingToRevert bool `json:"nothingToRevert,omitempty"`
	// Detail says what was changed, e.g. "abort 50% with 503 on route 0".
	Detail string `json:"detail,omitempty"`
	// FaultsLeft lists the faults the revert left in place because another
	// writer changed them while chaosd held them: nobody owns them now.
	FaultsLeft []string `json:"faultsLeft,omitempty"`
}

// FaultsLeft lists the faults every revert of the run left in place.
func (r *Record) FaultsLeft() []string {
	var out []string
	for _, inj := range r.Injections {
		out = append(out, inj.FaultsLeft...)
	}
	return out
}

// LoadStats summarises an http-load burst. Latencies are in seconds.
type LoadStats struct {
	Requests        uint64    `json:"requests"`
	Rate            float64   `json:"rate"`
	DurationSeconds float64   `json:"durationSeconds"`
	SuccessRatio    float64   `json:"successRatio"`
	Latencies       Latencies `json:"latencies"`
	// StatusCodes counts responses by code ("0" is a transport error).
	StatusCodes map[string]int `json:"statusCodes,omitempty"`
	// Errors counts error messages; bounded by CountError.
	Errors map[string]int `json:"errors,omitempty"`
}

// Latencies are response-time percentiles in seconds.
type Latencies struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Bounds on LoadStats.Errors, so a burst of unique errors cannot bloat a journal.
const (
	MaxLoadErrorKinds  = 10
	MaxLoadErrorLength = 200
	OtherErrors        = "(other errors)"
)

// CountError counts one error message, truncated to MaxLoadErrorLength.
// Beyond MaxLoadErrorKinds distinct messages the rest count as OtherErrors.
func (l *LoadStats) CountError(msg string, n int) {
	if l.Errors == nil {
		l.Errors = map[string]int{}
	}
	msg = truncate(msg, MaxLoadErrorLength)
	if _, seen := l.Errors[msg]; !seen && len(l.Errors) >= MaxLoadErrorKinds {
		msg = OtherErrors
	}
	l.Errors[msg] += n
}

// Replacement records how a killed pod's owner recovered (pod-kill only).
type Replacement struct {
	// Target is the killed pod, as in Injection.Target.
	Target     string `json:"target,omitempty"`
	Owner      string `json:"owner"`
	ReplacedBy string `json:"replacedBy,omitempty"`
	// ReadyAfterSeconds counts from the kill to the replacement being Ready.
	ReadyAfterSeconds float64 `json:"readyAfterSeconds,omitempty"`
	Ready             bool    `json:"ready"`
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
