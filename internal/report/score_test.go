package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/journal"
)

// TestReportShowsScores: a report of several runs scores each experiment
// against each workload, in both formats, over the window it is given;
// no-effect runs are not counted and leave "no data", never 100%; a
// single run's report has no score section.
func TestReportShowsScores(t *testing.T) {
	base := fixtures()[3] // web-pod-kill on web/web, passed
	run := func(id string, v journal.Verdict, hour int) journal.Record {
		r := base
		r.RunID, r.Verdict = id, v
		r.StartedAt = t0.Add(time.Duration(hour) * time.Hour)
		return r
	}
	noEffect := run("r-noeffect", journal.VerdictNoEffect, 1)
	noEffect.Experiment = "drain"
	recs := []journal.Record{run("r-1", journal.VerdictWeakness, 2), run("r-2", journal.VerdictPassed, 3), run("r-3", journal.VerdictPassed, 4), noEffect}
	tests := []struct {
		name   string
		window int
		want   []string
	}{
		{name: "default window", want: []string{"Resiliency score", "last 20 runs", "66.7%", "no data"}},
		{name: "window of two: the weakness drops out", window: 2, want: []string{"last 2 runs", "100%", "no data"}},
	}
	for _, tt := range tests {
		for _, f := range []Format{FormatHTML, FormatMarkdown} {
			t.Run(tt.name+" "+string(f), func(t *testing.T) {
				var buf bytes.Buffer
				if err := Render(&buf, f, recs, Options{ScoreWindow: tt.window}); err != nil {
					t.Fatal(err)
				}
				for _, w := range tt.want {
					if !strings.Contains(buf.String(), w) {
						t.Errorf("report lacks %q", w)
					}
				}
			})
		}
	}
	var one bytes.Buffer
	if err := RenderMarkdown(&one, recs[:1], Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(one.String(), "Resiliency score") {
		t.Error("a single run's report has a score section")
	}
}
