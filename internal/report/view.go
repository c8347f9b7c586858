package report

import (
	"cmp"
	"fmt"
	"html/template"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/score"
)

// The view model: every value a renderer prints, already formatted as a
// string, so the HTML and Markdown renderers cannot disagree and the
// templates hold no logic. Nothing here is escaped: that is each
// renderer's job (html/template, or mdEscape).

type reportView struct {
	Title     string
	Generated string
	Counts    []verdictCount
	Runs      []runView
	// Scores are the resiliency scores over these runs; none for a
	// single run.
	Scores []scoreRow
	// ScoreRule says how the scores were computed.
	ScoreRule string
}

// scoreRow is one experiment's resiliency score against one workload.
type scoreRow struct {
	Experiment, Workload, Score string
	// Known is false when no run counted: Score then says no data.
	Known                     bool
	Counted, Passed, Excluded int
}

type verdictCount struct {
	Verdict string
	Class   string
	N       int
}

type runView struct {
	Anchor       string
	ID           string
	Experiment   string
	Action       string
	TargetKind   string
	Started      string
	Finished     string
	Duration     string
	Verdict      string
	VerdictClass string
	Reason       string
	ConfigHash   string
	Seed         string
	DryRun       bool
	Targets      []string
	Timeline     []timelineRow
	Evidence     []evidenceRow
	SLIs         []sliRow
	Selection    selectionView
	Injections   []injectionRow
	Load         *loadView
	Replacement  *replacementView
	// Chart is the run's inline SVG (HTML only), already escaped.
	Chart template.HTML
}

type timelineRow struct{ At, Offset, Phase, Target, Message, Error string }

type evidenceRow struct{ Source, Name, Labels, Value, Bound, At, Message string }

// sliRow is one SLI, baseline against fault, as text (the series stay in
// the journal).
type sliRow struct{ Name, State, Baseline, Held, Observed, Samples, Reason, Query string }

type selectionView struct {
	Considered, Eligible int
	// Counts is the sentence before the chosen targets: "2 considered, 1
	// checked (…), 1 eligible, 1 chosen".
	Counts     string
	Rejections []keyCount
	Sample     []journal.Rejection
	Chosen     []string
}

type keyCount struct {
	Key string
	N   int
}

type injectionRow struct {
	Target, Action, Injected, Reverted, RevertError, Detail string
	NotReverted                                             bool
}

type loadView struct {
	Requests, Rate, Duration, Success string
	P50, P90, P99, Max                string
	StatusCodes, Errors               []keyCount
}

type replacementView struct{ Target, Owner, ReplacedBy, ReadyAfter, Ready string }

const (
	timeLayout  = "2006-01-02 15:04:05Z07:00"
	clockLayout = "15:04:05.000"
)

// sortedRuns orders runs chronologically (oldest first), by run ID on ties,
// without touching the caller's slice.
func sortedRuns(recs []journal.Record) []journal.Record {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b journal.Record) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.RunID, b.RunID)
	})
	return out
}

func buildView(recs []journal.Record, opts Options) reportView {
	v := reportView{Title: opts.Title, Generated: formatTime(opts.GeneratedAt)}
	if v.Title == "" {
		v.Title = "chaosd report"
	}
	counts := map[string]int{}
	anchors := map[string]bool{}
	for _, r := range sortedRuns(recs) {
		rv := buildRun(r)
		rv.Anchor = uniqueAnchor(anchors, r.RunID)
		counts[rv.Verdict]++
		v.Runs = append(v.Runs, rv)
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		v.Counts = append(v.Counts, verdictCount{Verdict: k, Class: verdictClass(k), N: counts[k]})
	}
	if len(recs) > 1 {
		window := cmp.Or(opts.ScoreWindow, config.DefaultScoreWindow)
		v.ScoreRule = scoreRule(window)
		for _, s := range score.FromRecords(recs, window) {
			v.Scores = append(v.Scores, scoreRow{Experiment: s.Experiment, Workload: s.Workload, Score: s.Percent(), Known: s.Known(),
				Counted: s.Counted, Passed: s.Passed, Excluded: s.Excluded})
		}
	}
	return v
}

func buildRun(r journal.Record) runView {
	rv := runView{
		ID:           r.RunID,
		Experiment:   r.Experiment,
		Action:       string(r.Action),
		TargetKind:   string(r.TargetKind),
		Started:      formatTime(r.StartedAt),
		Finished:     formatTime(r.FinishedAt),
		Duration:     formatSeconds(r.Summarize().DurationSeconds),
		Verdict:      verdictText(r.Verdict),
		VerdictClass: verdictClass(verdictText(r.Verdict)),
		Reason:       r.Reason,
		ConfigHash:   r.ConfigHash,
		Seed:         strconv.FormatUint(r.Seed, 10),
		DryRun:       r.DryRun,
		Targets:      r.Targets(),
	}
	if r.FinishedAt.IsZero() {
		rv.Finished, rv.Duration = "—", "—"
	}
	for _, e := range r.Timeline {
		rv.Timeline = append(rv.Timeline, timelineRow{
			At: e.At.UTC().Format(clockLayout), Offset: offset(r.StartedAt, e.At),
			Phase: string(e.Phase), Target: e.Target, Message: e.Message, Error: e.Error,
		})
	}
	for _, e := range r.Evidence {
		row := evidenceRow{Source: string(e.Source), Name: e.Name, Labels: formatLabels(e.Labels), Bound: e.Bound, At: formatTime(e.At), Message: e.Message}
		if e.Value != nil {
			row.Value = strconv.FormatFloat(*e.Value, 'g', 6, 64)
		}
		rv.Evidence = append(rv.Evidence, row)
	}
	for _, s := range r.SLIs {
		rv.SLIs = append(rv.SLIs, sliRow{Name: s.Name, State: string(s.State), Baseline: sliMedian(s.Held, true),
			Held: sliMedian(s.Held, false), Observed: sliMedian(s.Observed, false),
			Samples: fmt.Sprintf("%d / %d", len(s.Baseline), len(s.Fault)), Reason: s.Reason, Query: s.Query})
	}
	rv.Selection = selectionView{
		Considered: r.Selection.Considered, Eligible: r.Selection.Eligible,
		Counts:     selectionCounts(r.Selection),
		Rejections: sortedCounts(r.Selection.Rejections),
		Sample:     r.Selection.RejectedSample,
		Chosen:     rv.Targets,
	}
	rv.Injections = buildInjections(r.Injections)
	rv.Load = buildLoad(r.Load)
	rv.Replacement = buildReplacement(r.Replacement)
	return rv
}

func buildInjections(ins []journal.Injection) []injectionRow {
	var rows []injectionRow
	for _, in := range ins {
		row := injectionRow{Target: in.Target, Action: string(in.Action), Injected: formatTime(in.InjectedAt), RevertError: in.RevertError, Detail: in.Detail}
		switch {
		case in.NothingToRevert:
			row.Reverted = "nothing to revert"
		case in.RevertedAt != nil:
			row.Reverted = formatTime(*in.RevertedAt)
		default:
			row.Reverted, row.NotReverted = "NOT REVERTED", true
		}
		rows = append(rows, row)
	}
	return rows
}

func buildLoad(l *journal.LoadStats) *loadView {
	if l == nil {
		return nil
	}
	return &loadView{
		Requests: strconv.FormatUint(l.Requests, 10),
		Rate:     fmt.Sprintf("%.1f/s", l.Rate),
		Duration: formatSeconds(l.DurationSeconds),
		Success:  fmt.Sprintf("%.2f%%", 100*l.SuccessRatio),
		P50:      formatSeconds(l.Latencies.P50), P90: formatSeconds(l.Latencies.P90),
		P99: formatSeconds(l.Latencies.P99), Max: formatSeconds(l.Latencies.Max),
		StatusCodes: sortedCounts(l.StatusCodes),
		Errors:      sortedCounts(l.Errors),
	}
}

func buildReplacement(p *journal.Replacement) *replacementView {
	if p == nil {
		return nil
	}
	v := &replacementView{Target: p.Target, Owner: p.Owner, ReplacedBy: p.ReplacedBy, Ready: "no"}
	if p.Ready {
		v.Ready, v.ReadyAfter = "yes", formatSeconds(p.ReadyAfterSeconds)
	}
	return v
}

func verdictText(v journal.Verdict) string {
	if v == "" {
		return "in progress"
	}
	return string(v)
}

// verdictClass maps a verdict to a CSS class from a fixed set, so journal
// content never reaches a class attribute.
func verdictClass(v string) string {
	if journal.ValidVerdict(journal.Verdict(v)) {
		return "v-" + v
	}
	return "v-unknown"
}

var anchorUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func uniqueAnchor(seen map[string]bool, id string) string {
	base := "run-" + anchorUnsafe.ReplaceAllString(id, "_")
	a := base
	for i := 2; seen[a]; i++ {
		a = fmt.Sprintf("%s-%d", base, i)
	}
	seen[a] = true
	return a
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func offset(start, at time.Time) string {
	if start.IsZero() || at.IsZero() {
		return ""
	}
	d := at.Sub(start).Round(time.Millisecond)
	if d < 0 {
		return "-" + (-d).String()
	}
	return "+" + d.String()
}

// formatSeconds prints seconds as a Go duration with sensible precision.
func formatSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func formatLabels(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+strconv.Quote(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// sortedCounts orders by count descending, then key.
func sortedCounts(m map[string]int) []keyCount {
	out := make([]keyCount, 0, len(m))
	for k, n := range m {
		out = append(out, keyCount{Key: k, N: n})
	}
	slices.SortFunc(out, func(a, b keyCount) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// selectionCounts says what the picker saw. When it stopped early (modes one
// and count:N check candidates in random order only until they have
// enough), "eligible" counts only the candidates it checked, and says so.
func selectionCounts(s journal.Selection) string {
	if s.Checked > 0 && s.Checked < s.Considered {
		return fmt.Sprintf("%d considered, %d checked in random order until the mode had enough, %d eligible among them, %d chosen",
			s.Considered, s.Checked, s.Eligible, len(s.Chosen))
	}
	return fmt.Sprintf("%d considered, %d eligible, %d chosen", s.Considered, s.Eligible, len(s.Chosen))
}

// sliMedian prints a window's median (or the baseline's), "—" when unknown.
func sliMedian(c *journal.SLIComparison, baseline bool) string {
	if c == nil {
		return "—"
	}
	v := c.Median
	if baseline {
		v = c.BaselineMedian
	}
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'g', 4, 64)
}

// scoreRule says in one paragraph how the score was computed
// (docs/verdicts.md#resiliency-score has the whole rule).
func scoreRule(window int) string {
	return fmt.Sprintf("Each experiment's last %d runs in these journals against each workload. %s", window, score.Rule)
}
