package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// TestReportShowsSLIs: an alert-gap run's SLIs show as a table, in both
// formats, with the medians that decided it.
func TestReportShowsSLIs(t *testing.T) {
	rec := fixtures()[0]
	rec.Verdict, rec.Reason = journal.VerdictAlertGap, "no blocking alert fired, yet SLI error-ratio while held: median 0.3 above tolerance 0.06"
	rec.SLIs = []journal.SLIResult{{
		Name: "error-ratio", Query: `errors{host="checkout"}`, State: guard.SLIBeyond, Reason: "while held: median 0.3 above tolerance 0.06",
		Held:     &journal.SLIComparison{State: guard.SLIBeyond, Test: "mann-whitney", BaselineMedian: ptr(0.01), Median: ptr(0.3), Bound: ptr(0.06)},
		Baseline: []journal.SLIPoint{{At: t0, Value: 0.01}}, Fault: []journal.SLIPoint{{At: t0.Add(time.Minute), Value: 0.3}, {At: t0.Add(2 * time.Minute), Value: 0.3}},
	}}
	for _, f := range []Format{FormatHTML, FormatMarkdown} {
		var buf bytes.Buffer
		if err := Render(&buf, f, []journal.Record{rec}, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"SLIs", "error-ratio", "beyond", "0.01", "0.3", "1 / 2"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("%s report lacks %q", f, want)
			}
		}
	}
}

// TestReportChartsSLISamples: the run's chart draws the journaled SLI
// samples, baseline and fault, without asking Prometheus.
func TestReportChartsSLISamples(t *testing.T) {
	rec := fixtures()[0]
	at := rec.StartedAt
	rec.SLIs = []journal.SLIResult{{Name: "error-ratio", State: guard.SLIBeyond,
		Baseline: []journal.SLIPoint{{At: at.Add(-time.Minute), Value: 0.01}, {At: at, Value: 0.02}},
		Fault:    []journal.SLIPoint{{At: at.Add(time.Second), Value: 0.3}, {At: at.Add(2 * time.Second), Value: 0.3}},
	}}
	var buf bytes.Buffer
	if err := Render(&buf, FormatHTML, []journal.Record{rec}, Options{}); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{"SLI error-ratio (" + rec.Experiment + ")", "baseline", "during and after the fault"} {
		if !strings.Contains(html, want) {
			t.Errorf("report chart lacks %q", want)
		}
	}
	if strings.Contains(html, "rendered from the journal alone") {
		t.Errorf("report says it has no series, yet the journal holds SLI samples")
	}
}
