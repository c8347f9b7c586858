package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/history"
	"github.com/chaosd/chaosd/internal/journal"
)

// Options are the parts of a report not taken from the journals.
type Options struct {
	// Title defaults to "chaosd report".
	Title string
	// GeneratedAt is printed in the header; pass a fixed time for
	// reproducible output. Zero omits it.
	GeneratedAt time.Time
	// Panels gives each run's chart its series over [from, to] (the
	// daemon asks Prometheus); nil charts only the run's fault windows,
	// halts and verdict, and says no series was asked for.
	Panels func(rec journal.Record, from, to time.Time) []chart.Panel
	// ScoreWindow is how many of each experiment's most recent runs
	// against each workload the resiliency score looks at (the config's
	// guard.scoreWindow); zero means config.DefaultScoreWindow. Reports of
	// a single run have no score section.
	ScoreWindow int
}

// chartMargin is how much time a run's chart shows before and after it.
const chartMargin = 5 * time.Minute

// runChart draws one run: its faults shaded, its halts and verdict marked,
// over the run and chartMargin on each side.
func runChart(r journal.Record, opts Options) template.HTML {
	from, to := r.StartedAt.Add(-chartMargin), r.FinishedAt.Add(chartMargin)
	if r.FinishedAt.IsZero() { // still going: until the report's time
		to = r.StartedAt.Add(chartMargin)
		if opts.GeneratedAt.After(to) {
			to = opts.GeneratedAt
		}
	}
	// Never past the report's time: Prometheus would fill the future with
	// the last value it has (its lookback), a line nobody measured.
	if g := opts.GeneratedAt; !g.IsZero() && g.Before(to) && g.After(from) {
		to = g
	}
	windows, marks := history.Events([]journal.Record{r}, nil, to)
	// The run's SLI samples are in its journal: charted even when the
	// report is rendered from the journal alone.
	slis := history.SLIPanels([]journal.Record{r})
	var panels []chart.Panel
	if opts.Panels != nil {
		panels = opts.Panels(r, from, to)
	}
	if len(panels) == 0 && len(slis) == 0 {
		note := "no series: this report was rendered from the journal alone"
		if opts.Panels != nil {
			note = "no series: the guard has no Prometheus check"
		}
		panels = []chart.Panel{{Title: "guard checks", NoData: note}}
	}
	return chart.SVG(chart.Chart{Title: "run " + r.RunID + ": faults, halts and verdict", From: from, To: to,
		Panels: append(slis, panels...), Windows: windows, Marks: marks})
}

//go:embed report.html.tmpl
var htmlSource string

// html/template escapes by context, so journal text cannot inject markup.
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// RenderHTML writes one self-contained HTML page for recs (in start order).
func RenderHTML(w io.Writer, recs []journal.Record, opts Options) error {
	v := buildView(recs, opts)
	for i, r := range sortedRuns(recs) {
		v.Runs[i].Chart = runChart(r, opts)
	}
	if err := htmlTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return nil
}
