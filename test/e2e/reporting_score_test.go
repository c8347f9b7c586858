//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/dashboard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/test/cluster"
)

// scoreConfig aborts the go-demo-8 VirtualService every 5 s for 2 s.
// LANDING is replaced: empty at first, so the landing check, which finds
// no requests (go-demo-8 carries none here), makes every run no-effect;
// then landing is turned off and the runs pass; then chaosd is paused so
// the journal stays put while the test reads it.
const scoreConfig = `PAUSED
guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  prometheus: {url: PROMETHEUS_URL}
  pollInterval: 500ms
  scoreWindow: 10
experiments:
  - name: score-abort
    schedule: "@every 5s"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-abort, status: 503, percent: 50}
    duration: 2s
    observe: 0s
LANDING`

const (
	scoreExperiment = "score-abort"
	scoreWorkload   = "go-demo-8/go-demo-8"
	scoreWindow     = 10
)

// TestReportingResiliencyScore proves the resiliency score end to end with
// the real chaosd binary, control plane and Prometheus: while only
// no-effect runs are in the journal there is no score (run counts, but no
// chaosd_resiliency_score_ratio series, and "no data" on the status page);
// after passing runs the score is the one the journal implies, in the
// metric as scraped, the status API and page, chaosd status, chaosd report
// and the dashboard's score panels.
func TestReportingResiliencyScore(t *testing.T) {
	addr := freeLoopbackAddr(t)
	opts := cluster.FullOptions()
	opts.Prometheus.Targets = []cluster.ScrapeTarget{{Job: "chaosd", Addresses: []string{addr}}}
	c := cluster.Start(t, opts)
	if c.External() {
		t.Skip("needs the harness's own Prometheus scraping chaosd")
	}
	render := func(paused bool, landing string) string {
		p := ""
		if paused {
			p = "paused: true"
		}
		return strings.NewReplacer("PAUSED", p, "LANDING", landing).Replace(withMonitoring(c, scoreConfig))
	}
	cfg := newConfigDir(t, render(false, ""))
	journalDir := filepath.Join(t.TempDir(), "journal")
	p := reportingStartChaosd(t, c, cfg.Path, addr, journalDir)
	series := fmt.Sprintf(`{experiment=%q,workload=%q}`, scoreExperiment, scoreWorkload)

	t.Run("no score while no run counts", func(t *testing.T) {
		// Before any run finished the journal is empty: no series at all.
		// The run counter proves chaosd's metrics are served; the journal,
		// read after the scrape and still without a finished run, proves
		// the scrape came before one (the first run starts 5 s in).
		code, body := p.Get(t, "/metrics")
		if code != 200 || !strings.Contains(body, `chaosd_runs_total{action="http-abort",experiment="score-abort",verdict="passed"} 0`) {
			t.Fatalf("GET /metrics: %d, no run counter at 0:\n%s", code, tail(body, 20))
		}
		if finished := slices.DeleteFunc(scoreRuns(t, p, ""), func(s journal.Summary) bool { return s.Verdict == "" }); len(finished) > 0 {
			t.Logf("a run finished before the first scrape (%s), so that scrape proves nothing about before", finished[0].RunID)
		} else if strings.Contains(body, "chaosd_resiliency_score_") {
			t.Errorf("score series before any run:\n%s", scoreLines(body))
		}

		noEffect := reportingWaitForRun(t, p, journal.VerdictNoEffect, 2*time.Minute)
		t.Logf("no-effect run: %s: %s", noEffect.RunID, noEffect.Reason)
		// The journal lists a run a moment before chaosd has scored it:
		// wait for a scrape with the run counts (the positive signal),
		// then the same scrape must have no score. The bound is a hang
		// guard.
		counts := regexp.MustCompile(`(?m)^chaosd_resiliency_score_counted_runs` + regexp.QuoteMeta(series) + ` 0\n` +
			`(?s:.*)^chaosd_resiliency_score_excluded_runs` + regexp.QuoteMeta(series) + ` [1-9][0-9]*$`)
		if !reportingEventually(30*time.Second, func() bool {
			_, body = p.Get(t, "/metrics")
			return counts.MatchString(body)
		}) {
			t.Fatalf("no scrape with 0 counted and some excluded runs for %s:\n%s", series, scoreLines(body))
		}
		if strings.Contains(body, "chaosd_resiliency_score_ratio") {
			t.Errorf("a score from no-effect runs only:\n%s", scoreLines(body))
		}
		st := p.Status(t)
		if len(st.Scores) != 1 || st.Scores[0].Ratio != nil || st.Scores[0].Counted != 0 || st.Scores[0].Workload != scoreWorkload {
			t.Errorf("status scores %+v, want one for %s without a ratio", st.Scores, scoreWorkload)
		}
		_, page := p.Get(t, "/")
		if !regexp.MustCompile(`<td>` + regexp.QuoteMeta(scoreWorkload) + `</td><td class="nw muted">no data</td>`).MatchString(page) {
			t.Errorf("status page does not say no data for %s:\n%s", scoreWorkload, scoresSection(page))
		}
		// Prometheus, once it has scraped the counts, has no score either.
		var last string
		if !reportingEventually(30*time.Second, func() bool {
			got, err := reportingQuery(c, `chaosd_resiliency_score_counted_runs{job="chaosd"}`, time.Time{})
			last = fmt.Sprintf("%v (err %v)", got, err)
			return err == nil && len(got) == 1 && got[0].last() == 0
		}) {
			t.Fatalf("Prometheus never scraped 0 counted runs: %s", last)
		}
		if got, err := reportingQuery(c, `chaosd_resiliency_score_ratio{job="chaosd"}`, time.Time{}); err != nil || len(got) != 0 {
			t.Errorf("Prometheus has a score from no-effect runs only: %v (err %v)", got, err)
		}
	})

	cfg.Swap(t, render(false, "    landing: {disabled: true}\n"))
	var passed []journal.Summary
	eventually(t, 2*time.Minute, "three passed runs", func() bool {
		passed = scoreRuns(t, p, journal.VerdictPassed)
		return len(passed) >= 3
	})
	cfg.Swap(t, render(true, "    landing: {disabled: true}\n"))
	var sums []journal.Summary
	eventually(t, time.Minute, "chaosd paused with no run in progress", func() bool {
		st := p.Status(t)
		sums = scoreRuns(t, p, "")
		return st.State == "paused" && len(st.Active) == 0 && !slices.ContainsFunc(sums, func(s journal.Summary) bool { return s.Verdict == "" })
	})

	// What the journal implies (docs/verdicts.md#resiliency-score): the
	// newest scoreWindow runs against the workload; passed counts 1 (no
	// SLIs here), weakness and alert-gap 0, the rest are not counted.
	window := sums[:min(len(sums), scoreWindow)]
	var counted, excluded, pass int
	for _, s := range window {
		if len(s.Targets) != 1 || s.Targets[0] != "virtualservice/"+scoreWorkload {
			t.Fatalf("run %s targeted %v, want virtualservice/%s", s.RunID, s.Targets, scoreWorkload)
		}
		switch s.Verdict {
		case journal.VerdictPassed:
			counted, pass = counted+1, pass+1
		case journal.VerdictWeakness, journal.VerdictAlertGap:
			counted++
		default:
			excluded++
		}
	}
	if pass < 3 || excluded < 1 {
		t.Fatalf("window %v: %d passed, %d not counted; want at least 3 and 1", window, pass, excluded)
	}
	want := float64(pass) / float64(counted)
	t.Logf("journal: %d runs, window of %d: %d counted (%d passed), %d not counted: score %g", len(sums), len(window), counted, pass, excluded, want)

	t.Run("the metric is what the journal implies", func(t *testing.T) {
		var lines []*regexp.Regexp
		for _, w := range []string{
			fmt.Sprintf("chaosd_resiliency_score_ratio%s %s", series, strconv.FormatFloat(want, 'g', -1, 64)),
			fmt.Sprintf("chaosd_resiliency_score_counted_runs%s %d", series, counted),
			fmt.Sprintf("chaosd_resiliency_score_excluded_runs%s %d", series, excluded),
		} {
			lines = append(lines, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(w)+`$`))
		}
		var body string
		if !reportingEventually(30*time.Second, func() bool { // the last run may be scored a moment after it is listed
			_, body = p.Get(t, "/metrics")
			return !slices.ContainsFunc(lines, func(l *regexp.Regexp) bool { return !l.MatchString(body) })
		}) {
			t.Errorf("/metrics lacks %v:\n%s", lines, scoreLines(body))
		}
		var last string
		if !reportingEventually(30*time.Second, func() bool {
			got, err := reportingQuery(c, `chaosd_resiliency_score_ratio{job="chaosd"}`, time.Time{})
			last = fmt.Sprintf("%v (err %v)", got, err)
			return err == nil && len(got) == 1 && got[0].Labels["workload"] == scoreWorkload && math.Abs(got[0].last()-want) < 1e-9
		}) {
			t.Errorf("Prometheus: got %s, want one series for %s = %g", last, scoreWorkload, want)
		}
	})

	pct := strconv.FormatFloat(math.Round(1000*want)/10, 'f', -1, 64) + "%"
	t.Run("status API, page and chaosd status", func(t *testing.T) {
		st := p.Status(t) // scored by now: the metric above comes from the same board
		if len(st.Scores) != 1 || st.Scores[0].Ratio == nil || math.Abs(*st.Scores[0].Ratio-want) > 1e-9 ||
			st.Scores[0].Counted != counted || st.Scores[0].Passed != pass || st.Scores[0].Excluded != excluded || st.Scores[0].Window != scoreWindow {
			t.Errorf("status scores %s, want %s at %g from %d counted, %d not counted", scoreJSON(st.Scores), scoreWorkload, want, counted, excluded)
		}
		_, page := p.Get(t, "/")
		row := fmt.Sprintf(`<td>%s</td><td class="nw">%s</td><td class="nw">%d (%d passed)</td><td class="nw">%d</td>`, scoreWorkload, pct, counted, pass, excluded)
		if !strings.Contains(page, row) {
			t.Errorf("status page lacks %s:\n%s", row, scoresSection(page))
		}
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^  %s +%s +%s +%d counted \(%d passed\), %d not counted$`,
			scoreExperiment, regexp.QuoteMeta(scoreWorkload), regexp.QuoteMeta(pct), counted, pass, excluded))
		var out string
		if !reportingEventually(30*time.Second, func() bool { // the leader publishes every few seconds
			var code int
			code, out = runChaosdCommand(t, c, 30*time.Second, "status", "--namespace", chaosdNamespace, "--configmap", chaosdConfigMap)
			return code == 0 && line.MatchString(out)
		}) {
			t.Errorf("chaosd status lacks %s:\n%s", line, out)
		}
	})

	t.Run("chaosd report of the journal", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.md")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if msg, err := exec.CommandContext(ctx, chaosdBinary(t), "report", journalDir, "-o", out, "--score-window", strconv.Itoa(scoreWindow)).CombinedOutput(); err != nil {
			t.Fatalf("chaosd report: %v: %s", err, msg)
		}
		md, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		row := fmt.Sprintf("| %s | %s | %s | %d | %d | %d |", scoreExperiment, scoreWorkload, pct, counted, pass, excluded)
		if !strings.Contains(string(md), "## Resiliency score") || !strings.Contains(string(md), row) {
			t.Errorf("report lacks the score row %s:\n%s", row, md)
		}
	})

	t.Run("the dashboard's score panels show it", func(t *testing.T) {
		d, err := dashboard.Load(filepath.Join("..", "..", "charts", "chaosd", "dashboards", "chaosd.json"))
		if err != nil {
			t.Fatal(err)
		}
		var queries []dashboard.Query
		for _, q := range d.Queries(d.DefaultVars()) {
			if strings.Contains(q.Expr, "chaosd_resiliency_score_") {
				queries = append(queries, q)
			}
		}
		if len(queries) < 3 {
			t.Fatalf("%d score queries on the dashboard, want the score and both run counts", len(queries))
		}
		values := map[string]float64{"ratio": want, "counted_runs": float64(counted), "excluded_runs": float64(excluded)}
		for _, q := range queries {
			metric := regexp.MustCompile(`chaosd_resiliency_score_(\w+)`).FindStringSubmatch(q.Expr)[1]
			var last string
			if !reportingEventually(30*time.Second, func() bool {
				at := time.Now()
				if q.Instant {
					at = time.Time{}
				}
				got, err := reportingQuery(c, q.Expr, at)
				last = fmt.Sprintf("%v (err %v)", got, err)
				return err == nil && len(got) == 1 && got[0].Labels["workload"] == scoreWorkload && math.Abs(got[0].last()-values[metric]) < 1e-9
			}) {
				t.Errorf("%s: %s: got %s, want %g", q.Where, q.Expr, last, values[metric])
			}
		}
	})

	p.Stop(30 * time.Second)
	if p.err != nil {
		t.Errorf("chaosd exited with %v", p.err)
	}
	assertNothingLeft(t, c)
}

// scoreRuns lists the journal's runs with verdict v (all, for ""), newest
// first. An error or skipped run fails the test: nothing here should make one.
func scoreRuns(t *testing.T, p *chaosdProcess, v journal.Verdict) []journal.Summary {
	t.Helper()
	code, body := p.Get(t, "/api/v1/runs?limit=200")
	var sums []journal.Summary
	if code != 200 || json.Unmarshal([]byte(body), &sums) != nil {
		t.Fatalf("GET /api/v1/runs: %d %s", code, body)
	}
	var out []journal.Summary
	for _, s := range sums {
		if s.Verdict == journal.VerdictError || s.Verdict == journal.VerdictSkipped {
			t.Fatalf("run %s: %s: %s\n%s", s.RunID, s.Verdict, s.Reason, tail(p.Log(), 40))
		}
		if v == "" || s.Verdict == v {
			out = append(out, s)
		}
	}
	return out
}

func scoreLines(metrics string) string {
	var out []string
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "chaosd_resiliency_score_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func scoresSection(page string) string {
	return regexp.MustCompile(`(?s)<section id="scores">.*?</section>`).FindString(page)
}

func scoreJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
