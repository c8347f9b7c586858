package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"time"
)

// ErrNewerSchema means a journal was written by a newer chaosd.
var ErrNewerSchema = errors.New("journal written by a newer chaosd")

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidRunID reports whether id can name a journal file. Run IDs are used
// in file names and URLs, so they are restricted to [A-Za-z0-9._-].
func ValidRunID(id string) bool { return runIDPattern.MatchString(id) }

// Validate reports what would make r unfit for the Store.
func (r *Record) Validate() error {
	var errs []error
	if !ValidRunID(r.RunID) {
		errs = append(errs, fmt.Errorf("runId %q: must be 1-128 characters of [A-Za-z0-9._-]", r.RunID))
	}
	if r.StartedAt.IsZero() {
		errs = append(errs, errors.New("startedAt is required"))
	}
	if r.Verdict != "" && !ValidVerdict(r.Verdict) {
		errs = append(errs, fmt.Errorf("verdict %q: must be passed, weakness, skipped, aborted or error", r.Verdict))
	}
	return errors.Join(errs...)
}

// Encode writes r as indented JSON, after normalising what JSON cannot
// carry. r itself is not modified.
func Encode(w io.Writer, r Record) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "<= 0.05" readable; this is not HTML
	if err := enc.Encode(Normalize(r)); err != nil {
		return fmt.Errorf("encode run %s: %w", r.RunID, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write run %s: %w", r.RunID, err)
	}
	return nil
}

// Decode reads one Record. Unknown fields are accepted (additive changes
// keep the schema version); a missing or newer schemaVersion is an error.
func Decode(rd io.Reader) (Record, error) {
	var r Record
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("decode journal: %w", err)
	}
	switch {
	case r.SchemaVersion == 0:
		return Record{}, errors.New("decode journal: no schemaVersion, not a chaosd journal")
	case r.SchemaVersion > SchemaVersion:
		return Record{}, fmt.Errorf("decode journal: schemaVersion %d (this chaosd reads %d): %w", r.SchemaVersion, SchemaVersion, ErrNewerSchema)
	}
	return r, nil
}

// ReadFile reads one journal file.
func ReadFile(path string) (Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Record{}, fmt.Errorf("read journal: %w", err)
	}
	r, err := Decode(bytes.NewReader(b))
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Normalize returns a copy of r that encoding/json can marshal (non-finite
// floats removed, see Evidence.Value) with the current schema version and
// a duration. Anyone serving a Record as JSON (status page, webhooks)
// should encode Normalize(r), as Encode does.
func Normalize(r Record) Record {
	r.SchemaVersion = SchemaVersion
	r.DurationSeconds = durationSeconds(&r)
	// Lists are [] rather than null, so consumers need no null checks.
	r.Evidence = nonNil(r.Evidence)
	r.Timeline = nonNil(r.Timeline)
	r.Injections = nonNil(r.Injections)
	r.Selection.Chosen = nonNil(r.Selection.Chosen)
	if len(r.Evidence) > 0 {
		ev := make([]Evidence, len(r.Evidence))
		copy(ev, r.Evidence)
		for i := range ev {
			if v := ev[i].Value; v != nil && !isFinite(*v) {
				ev[i].Value = nil
				note := "value " + strconv.FormatFloat(*v, 'g', -1, 64)
				if ev[i].Message != "" {
					note = ev[i].Message + " (" + note + ")"
				}
				ev[i].Message = note
			}
		}
		r.Evidence = ev
	}
	if r.Load != nil {
		l := *r.Load
		l.Rate = finite(l.Rate)
		l.DurationSeconds = finite(l.DurationSeconds)
		l.SuccessRatio = finite(l.SuccessRatio)
		l.Latencies = Latencies{P50: finite(l.Latencies.P50), P90: finite(l.Latencies.P90), P99: finite(l.Latencies.P99), Max: finite(l.Latencies.Max)}
		r.Load = &l
	}
	if r.Replacement != nil {
		rp := *r.Replacement
		rp.ReadyAfterSeconds = finite(rp.ReadyAfterSeconds)
		r.Replacement = &rp
	}
	return r
}

// durationSeconds is the recorded duration, or FinishedAt-StartedAt when
// the runner left it zero.
func durationSeconds(r *Record) float64 {
	if r.DurationSeconds == 0 && !r.FinishedAt.IsZero() && r.FinishedAt.After(r.StartedAt) {
		return r.FinishedAt.Sub(r.StartedAt).Seconds()
	}
	return finite(r.DurationSeconds)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func finite(f float64) float64 {
	if isFinite(f) {
		return f
	}
	return 0
}

// Summary is the part of a Record that lists and status pages show.
type Summary struct {
	RunID           string    `json:"runId"`
	Experiment      string    `json:"experiment"`
	Action          string    `json:"action"`
	DryRun          bool      `json:"dryRun"`
	StartedAt       time.Time `json:"startedAt"`
	FinishedAt      time.Time `json:"finishedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	Verdict         Verdict   `json:"verdict"`
	Reason          string    `json:"reason"`
	Targets         []string  `json:"targets"`
}

// Summarize returns r's summary.
func (r *Record) Summarize() Summary {
	return Summary{
		RunID:           r.RunID,
		Experiment:      r.Experiment,
		Action:          string(r.Action),
		DryRun:          r.DryRun,
		StartedAt:       r.StartedAt,
		FinishedAt:      r.FinishedAt,
		DurationSeconds: durationSeconds(r),
		Verdict:         r.Verdict,
		Reason:          r.Reason,
		Targets:         r.Targets(),
	}
}
