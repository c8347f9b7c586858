package server

import (
	"context"
	"flag"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPageGuardPanel: the guard panel shows each source's state, the
// matchers and the alerts that match now, each check with its bound, last
// value (or "no data") and state, and each pause with until when. The
// section is kept as a golden file so a change in wording shows in review.
func TestPageGuardPanel(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	blocked := control.Status{State: "paused",
		Pauses: []control.Pause{
			{Kind: "cooldown", Reason: "weakness found by abort in run r-1", Until: now.Add(5 * time.Minute)},
			{Kind: "manual", Reason: "paused with chaosd pause by alice: <maintenance>", UntilText: "chaosd resume"},
		},
		Guard: &control.GuardState{State: "blocked", Mode: "status", EvaluatedAt: now.Add(-3 * time.Second),
			Problems: []string{"prometheus_pending: get alerts: timed out after 5s"},
			Alertmanager: &control.AlertmanagerGuard{URL: "http://am:9093", State: "blocked",
				AlertsURL: "http://am:9093/api/v2/alerts?active=true&filter=severity%3D%22critical%22",
				Block:     []string{`severity="critical"`}, Ignore: []string{`team="other"`},
				Alerts: []control.GuardAlert{{Name: "DemoUnhealthy", State: "active", Source: "alertmanager",
					Since: now.Add(-time.Minute), Labels: `severity="critical"`}}},
			Prometheus: &control.PrometheusGuard{URL: "http://prom:9090", State: "unknown", Checks: []control.GuardCheck{
				{Name: "demo healthy", Expr: "demo_healthy", Bound: "≥ 1", State: "ok", Value: "1", Series: `demo_healthy{job="demo"}`,
					QueryURL: "http://prom:9090/api/v1/query?query=demo_healthy"},
				{Name: "error ratio", Expr: `rate(errors[1m]) > 0.05`, Bound: "≤ 0.05", State: "unknown", Reason: "no data",
					QueryURL: "http://prom:9090/api/v1/query?query=x"},
			}}}}
	tests := []struct {
		name   string
		st     control.Status
		golden string
		want   []string
	}{
		{name: "blocked and paused", st: blocked, golden: "guard-blocked.html.golden", want: []string{
			`id="guard-state">blocked<`, `<code class="matcher">severity=&#34;critical&#34;</code>`,
			`<td class="g-blocked">DemoUnhealthy</td>`, `<span class="muted">no data</span>`,
			`&lt;maintenance&gt;`, "chaosd resume", "in 5m0s",
		}},
		{name: "no guard state yet", st: control.Status{State: "running"}, golden: "guard-none.html.golden",
			want: []string{"No guard state yet.", `id="guard-pauses">Not paused.`}},
		{name: "unguarded", st: control.Status{State: "running", Unguarded: true}, golden: "guard-unguarded.html.golden",
			want: []string{"Unguarded (guard.unguarded)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			section := pageSection(t, statusPageOf(t, tt.st, now), "guard")
			for _, w := range tt.want {
				if !strings.Contains(section, w) {
					t.Errorf("guard panel lacks %q:\n%s", w, section)
				}
			}
			checkGolden(t, tt.golden, section)
		})
	}
}

// TestPageChart: the status page charts the last hour: the series History
// gives, the fault held now and a finished run's fault shaded, its halt and
// verdict marked, and a report charts its run; without History the chart
// says there is no series instead of drawing a line. The CSP is unchanged.
func TestPageChart(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	reverted := now.Add(-9 * time.Minute)
	runs := memRuns{"run-1": {SchemaVersion: journal.SchemaVersion, RunID: "run-1", Experiment: "abort", Action: "http-abort",
		StartedAt: now.Add(-11 * time.Minute), FinishedAt: now.Add(-8 * time.Minute), Verdict: journal.VerdictWeakness,
		Injections: []journal.Injection{{Target: "virtualservice/demo/vs", Action: "http-abort", InjectedAt: now.Add(-10 * time.Minute), RevertedAt: &reverted}},
		Timeline:   []journal.TimelineEntry{{At: reverted, Phase: journal.PhaseHalt, Message: "alert DemoUnhealthy"}}}}
	status := func() control.Status {
		return control.Status{State: "running", Active: []control.ActiveFault{{RunID: "run-2", Experiment: "abort", Action: "http-abort",
			Target: "virtualservice/demo/vs", Since: now.Add(-30 * time.Second)}}}
	}
	var asked []time.Duration
	history := func(_ context.Context, from, to time.Time) []chart.Panel {
		asked = append(asked, to.Sub(from))
		return []chart.Panel{{Title: "check demo healthy", Series: []chart.Series{{Points: []chart.Point{{T: now.Add(-time.Minute), V: 1}, {T: now, V: 0}}}}}}
	}
	for _, tt := range []struct {
		name    string
		history func(context.Context, time.Time, time.Time) []chart.Panel
		want    []string
		absent  []string
	}{
		{name: "with series", history: history, want: []string{`class="series"`, `class="fault-window"`, "held now",
			`class="mark mark-halt"`, `class="mark mark-weakness"`, "check demo healthy"}},
		{name: "without series", want: []string{"no series: the guard has no Prometheus check", `class="fault-window"`},
			absent: []string{`class="series"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Options{Status: status, Ready: func() error { return nil }, Runs: runs,
				History: tt.history, Gatherer: prometheus.NewRegistry(), Clock: clocktesting.NewFakePassiveClock(now)}))
			defer srv.Close()
			_, body, hdr := get(t, srv.URL+"/")
			if csp := hdr.Get("Content-Security-Policy"); csp != "default-src 'none'; style-src 'unsafe-inline'; img-src data:" {
				t.Errorf("CSP %q changed", csp)
			}
			chartHTML := body[strings.Index(body, `<div id="chart">`):]
			chartHTML = chartHTML[:strings.Index(chartHTML, "</div>")]
			if n := strings.Count(chartHTML, `class="fault-window"`); n != 2 {
				t.Errorf("%d fault windows, want 2 (the run's and the one held now)", n)
			}
			for _, w := range tt.want {
				if !strings.Contains(chartHTML, w) {
					t.Errorf("chart lacks %q:\n%s", w, chartHTML)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(chartHTML, a) {
					t.Errorf("chart has %q:\n%s", a, chartHTML)
				}
			}
			_, report, _ := get(t, srv.URL+"/api/v1/runs/run-1/report")
			if !strings.Contains(report, `<svg class="chart"`) || !strings.Contains(report, `class="mark mark-halt"`) {
				t.Errorf("the run's report has no chart with its halt:\n%s", report)
			}
		})
	}
	if len(asked) != 2 || asked[0] != 16*time.Minute || asked[1] != 13*time.Minute {
		t.Errorf("History asked for spans %v, want 5m before the only run until now, then the run ±5m (it ended 8m ago)", asked)
	}
	var ends []time.Time
	recent := func(_ context.Context, _, to time.Time) []chart.Panel { ends = append(ends, to); return nil }
	srv := httptest.NewServer(New(Options{Status: status, Ready: func() error { return nil }, Runs: memRuns{"run-2": {
		SchemaVersion: journal.SchemaVersion, RunID: "run-2", StartedAt: now.Add(-time.Minute), FinishedAt: now.Add(-30 * time.Second)}},
		History: recent, Gatherer: prometheus.NewRegistry(), Clock: clocktesting.NewFakePassiveClock(now)}))
	defer srv.Close()
	get(t, srv.URL+"/api/v1/runs/run-2/report")
	if len(ends) != 1 || !ends[0].Equal(now) {
		t.Errorf("a run that ended 30s ago is charted until %v, want now (%s): Prometheus fills the future with its lookback", ends, now)
	}
}

func TestChartFrom(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	run := func(ago time.Duration) journal.Summary { return journal.Summary{StartedAt: now.Add(-ago)} }
	tests := []struct {
		name   string
		runs   []journal.Summary
		active []control.ActiveFault
		want   time.Duration
	}{
		{name: "no runs: the shortest span", want: chartMin},
		{name: "a young chaosd: from 5m before its oldest run", runs: []journal.Summary{run(2 * time.Minute), run(20 * time.Minute)}, want: 25 * time.Minute},
		{name: "an old chaosd: the last hour", runs: []journal.Summary{run(3 * time.Hour)}, want: time.Hour},
		{name: "a fault held longer than any listed run", runs: []journal.Summary{run(time.Minute)},
			active: []control.ActiveFault{{Since: now.Add(-30 * time.Minute)}}, want: 35 * time.Minute},
		{name: "a run in progress has no start yet listed", runs: []journal.Summary{{}}, want: chartMin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := now.Sub(chartFrom(now, tt.runs, tt.active)); got != tt.want {
				t.Errorf("span %s, want %s", got, tt.want)
			}
		})
	}
}

// TestPageChartsSLIs: a listed run's journaled SLI samples get their own
// panel on the status page, before the guard's, and the title says so.
func TestPageChartsSLIs(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	runs := memRuns{"run-1": {SchemaVersion: journal.SchemaVersion, RunID: "run-1", Experiment: "abort", Action: "http-abort",
		StartedAt: now.Add(-3 * time.Minute), FinishedAt: now.Add(-time.Minute), Verdict: journal.VerdictAlertGap,
		SLIs: []journal.SLIResult{{Name: "error-ratio", State: guard.SLIBeyond,
			Baseline: []journal.SLIPoint{{At: now.Add(-4 * time.Minute), Value: 0}, {At: now.Add(-3 * time.Minute), Value: 0.01}},
			Fault:    []journal.SLIPoint{{At: now.Add(-2 * time.Minute), Value: 0.1}, {At: now.Add(-time.Minute), Value: 0.1}}}}}}
	status := func() control.Status { return control.Status{State: "running"} }
	srv := httptest.NewServer(New(Options{Status: status, Ready: func() error { return nil }, Runs: runs,
		Gatherer: prometheus.NewRegistry(), Clock: clocktesting.NewFakePassiveClock(now)}))
	defer srv.Close()
	_, body, _ := get(t, srv.URL+"/")
	chartHTML := body[strings.Index(body, `<div id="chart">`):]
	chartHTML = chartHTML[:strings.Index(chartHTML, "</div>")]
	sli, guardPanel := strings.Index(chartHTML, "SLI error-ratio (abort)"), strings.Index(chartHTML, "no series: the guard has no Prometheus check")
	if sli < 0 || guardPanel < 0 || sli > guardPanel {
		t.Errorf("want the SLI panel (at %d) before the guard's (at %d):\n%s", sli, guardPanel, chartHTML)
	}
	if !strings.Contains(chartHTML, `class="series"`) || !strings.Contains(chartHTML, "SLIs, guard checks") {
		t.Errorf("chart draws no SLI series or its title omits SLIs:\n%s", chartHTML)
	}
}
