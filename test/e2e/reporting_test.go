//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/dashboard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/notify"
	"github.com/chaosd/chaosd/test/cluster"
)

// reportingConfig runs one abort experiment every 10 s, holding it 20 s
// so a browser can load the status page while it is held (the test makes
// its second run find a weakness) and schedules a nightly one that never
// runs during the test, so "next runs" has more than one row. A manual
// cooldown keeps chaosd paused after the weakness, so the findings stay
// put while the test reads them.
const reportingConfig = `guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  prometheus:
    url: PROMETHEUS_URL
    checks: [{name: demo healthy, expr: demo_healthy, min: 1}]
  pollInterval: 500ms
  cooldown: manual
notifications:
  slack: {webhookURLFile: SLACK_URL_FILE}
  webhook: {url: WEBHOOK_URL}
  alertmanager: {raiseOnWeakness: true, externalURL: CHAOSD_URL}
experiments:
  - name: abort-go-demo-8
    schedule: "@every 10s"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 503, percent: 50}
    duration: 20s
    observe: 2s
    # go-demo-8 carries no requests here: this test is about findings.
    landing: {disabled: true}
  - name: delay-nightly
    schedule: "0 3 * * *"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-delay, delay: 2s, percent: 10}
    duration: 1m
`

const reportingExperiment = "abort-go-demo-8"

// TestReportingWeaknessFindings proves what people see after chaosd finds a
// weakness, with the real chaosd binary, control plane, Prometheus,
// Alertmanager and headless Chromium: the journal (API and file), the HTML
// report and the status page as rendered by a browser, the Kubernetes
// Events, the metrics as scraped by Prometheus, the ChaosWeaknessFound
// alert, Slack and webhook deliveries (and none for the passing run), the
// Kiali label on the VirtualService while the fault is held, and that every
// query of the Grafana dashboard returns data.
func TestReportingWeaknessFindings(t *testing.T) {
	// Prometheus must know chaosd's address before the cluster starts.
	addr := freeLoopbackAddr(t)
	artifacts := reportingArtifactsDir(t)
	opts := cluster.FullOptions()
	opts.Prometheus.Rules = demoUnhealthyRules
	opts.Prometheus.Targets = []cluster.ScrapeTarget{{Job: "chaosd", Addresses: []string{addr}}}
	c := cluster.Start(t, opts)
	if c.External() {
		t.Skip("needs the harness's own Prometheus (scraping chaosd) and demo exporter")
	}
	waitForScrape(t, c)

	slack, hook := newReportingReceiver(t), newReportingReceiver(t)
	slackURLFile := filepath.Join(t.TempDir(), "slack-webhook-url")
	if err := os.WriteFile(slackURLFile, []byte(slack.URL+"/services/T000/B000/XXXX\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := newConfigDir(t, strings.NewReplacer("SLACK_URL_FILE", slackURLFile, "WEBHOOK_URL", hook.URL+"/chaosd",
		"CHAOSD_URL", "http://"+addr).Replace(withMonitoring(c, reportingConfig)))
	journalDir := filepath.Join(t.TempDir(), "journal")
	p := reportingStartChaosd(t, c, cfg.Path, addr, journalDir)
	defer c.Exporter.SetHealthy(true)

	// Run 1 passes. The run after it finds a weakness: the demo turns
	// unhealthy while chaosd's fault is held.
	passed := reportingWaitForRun(t, p, journal.VerdictPassed, 2*time.Minute)
	t.Logf("passing run: %s on %v", passed.RunID, passed.Targets)
	var held []string
	eventually(t, time.Minute, "a VirtualService labelled chaosd.io/injected=true (held fault)", func() bool {
		held = reportingLabelledVirtualServices(t, c)
		return len(held) > 0
	})
	chromium := reportingChromium(t)
	t.Run("status page in a browser while a fault is held shows the guard panel and the shaded fault", func(t *testing.T) {
		reportingStatusWhileHeld(t, p, chromium, filepath.Join(artifacts, "status-fault-held.png"))
	})
	c.Exporter.SetHealthy(false)
	weak := reportingWaitForRun(t, p, journal.VerdictWeakness, 2*time.Minute)
	c.Exporter.SetHealthy(true)
	t.Logf("weakness run: %s on %v: %s", weak.RunID, weak.Targets, weak.Reason)
	if len(weak.Targets) != 1 {
		t.Fatalf("weakness run targets %v, want one VirtualService", weak.Targets)
	}
	target := weak.Targets[0] // "virtualservice/go-demo-8/<name>"
	vsName := target[strings.LastIndex(target, "/")+1:]
	if !slices.Contains(held, vsName) {
		t.Errorf("labelled while held: %v; the weakness run targeted %s", held, target)
	}

	t.Run("VirtualService label for Kiali is removed after the revert", func(t *testing.T) {
		eventually(t, 30*time.Second, "no VirtualService labelled chaosd.io/injected", func() bool {
			return len(reportingLabelledVirtualServices(t, c)) == 0
		})
		assertNothingLeft(t, c) // the label is gone; so must be the intent and the fault on every route
	})

	t.Run("journal over the API and on disk", func(t *testing.T) {
		code, body := p.Get(t, "/api/v1/runs")
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/runs: %d %s", code, body)
		}
		var sums []journal.Summary
		if err := json.Unmarshal([]byte(body), &sums); err != nil {
			t.Fatalf("decode runs: %v", err)
		}
		verdicts := map[string]journal.Verdict{}
		for _, s := range sums {
			verdicts[s.RunID] = s.Verdict
		}
		if verdicts[passed.RunID] != journal.VerdictPassed || verdicts[weak.RunID] != journal.VerdictWeakness {
			t.Errorf("runs listed %v, want %s passed and %s weakness", verdicts, passed.RunID, weak.RunID)
		}
		if len(sums) > 0 && sums[0].RunID != weak.RunID {
			t.Errorf("newest run listed first is %s, want %s", sums[0].RunID, weak.RunID)
		}

		code, body = p.Get(t, "/api/v1/runs/"+weak.RunID)
		if code != http.StatusOK {
			t.Fatalf("GET run: %d %s", code, body)
		}
		rec, err := journal.Decode(strings.NewReader(body))
		if err != nil {
			t.Fatalf("decode run: %v", err)
		}
		reportingCheckWeaknessRecord(t, rec)

		matches, _ := filepath.Glob(filepath.Join(journalDir, "*"+weak.RunID+".json"))
		if len(matches) != 1 {
			entries, _ := os.ReadDir(journalDir)
			t.Fatalf("journal file for %s: %v (dir has %d entries)", weak.RunID, matches, len(entries))
		}
		onDisk, err := journal.ReadFile(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		if onDisk.RunID != rec.RunID || onDisk.Verdict != rec.Verdict || len(onDisk.Timeline) != len(rec.Timeline) {
			t.Errorf("file %s differs from the API: %s/%s/%d vs %s/%s/%d", matches[0], onDisk.RunID, onDisk.Verdict,
				len(onDisk.Timeline), rec.RunID, rec.Verdict, len(rec.Timeline))
		}
		copyFileTo(t, matches[0], filepath.Join(artifacts, "weakness-run.json"))
		if code, _ := p.Get(t, "/api/v1/runs/20260101t000000z-no-such-run-0000"); code != http.StatusNotFound {
			t.Errorf("unknown run: %d, want 404", code)
		}
	})

	t.Run("report as a browser shows it", func(t *testing.T) {
		dom := reportingBrowse(t, chromium, p.URL+"/api/v1/runs/"+weak.RunID+"/report", filepath.Join(artifacts, "report.png"))
		text := reportingVisibleText(dom)
		for _, want := range []string{
			"chaosd run " + weak.RunID, reportingExperiment, "weakness", "http-abort on virtualservice",
			"Timeline", "Evidence", "Injections", target,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("report does not show %q", want)
			}
		}
		if !strings.Contains(text, "demo healthy") && !strings.Contains(text, "DemoUnhealthy") {
			t.Error("report shows no evidence of the failed check or the firing alert")
		}
		if !regexp.MustCompile(`class="verdict v-weakness"[^>]*>weakness<`).MatchString(dom) {
			t.Error("report has no weakness verdict badge")
		}
		for _, phase := range []journal.Phase{journal.PhaseInject, journal.PhaseHalt, journal.PhaseVerdict} {
			if !strings.Contains(dom, "<td>"+string(phase)+"</td>") {
				t.Errorf("timeline has no %s row", phase)
			}
		}
		if strings.Contains(text, "{{") || strings.Contains(text, "<no value>") {
			t.Error("report shows unrendered template text")
		}
		reportingCheckChart(t, dom, "the run's report", "mark-weakness", "mark-halt")
	})

	t.Run("status page as a browser shows it", func(t *testing.T) {
		eventually(t, 30*time.Second, "status: paused", func() bool {
			var st struct{ State string }
			_, body := p.Get(t, "/api/v1/status")
			return json.Unmarshal([]byte(body), &st) == nil && st.State == "paused"
		})
		dom := reportingBrowse(t, chromium, p.URL+"/", filepath.Join(artifacts, "status.png"))
		if !regexp.MustCompile(`id="state"[^>]*>paused<`).MatchString(dom) {
			t.Errorf("status page state is not paused:\n%s", reportingVisibleText(dom))
		}
		reasons := regexp.MustCompile(`(?s)id="pause-reasons"[^>]*>(.*?)</p>`).FindStringSubmatch(dom)
		if reasons == nil || !strings.Contains(reasons[1], "weakness found by "+reportingExperiment) || !strings.Contains(reasons[1], weak.RunID) {
			t.Errorf("pause reason does not name the weakness run: %v", reasons)
		}
		runs := regexp.MustCompile(`(?s)<table id="runs">(.*?)</table>`).FindStringSubmatch(dom)
		if runs == nil {
			t.Fatal("status page has no recent runs table")
		}
		for id, v := range map[string]journal.Verdict{passed.RunID: journal.VerdictPassed, weak.RunID: journal.VerdictWeakness} {
			found := false
			for _, tr := range strings.Split(runs[1], "</tr>") {
				if strings.Contains(tr, id) && strings.Contains(tr, `class="v-`+string(v)+`">`+string(v)+`<`) {
					found = true
				}
			}
			if !found {
				t.Errorf("recent runs has no row for %s with verdict %s", id, v)
			}
		}
		if !strings.Contains(dom, `href="/api/v1/runs/`+weak.RunID+`/report"`) {
			t.Error("recent runs does not link the weakness report")
		}
		if !strings.Contains(dom, `id="next-paused"`) {
			t.Error("next activations do not say they are skipped while paused")
		}
		pauses := regexp.MustCompile(`(?s)<table id="guard-pauses">(.*?)</table>`).FindStringSubmatch(dom)
		if pauses == nil || !strings.Contains(pauses[1], "<td>cooldown</td>") || !strings.Contains(pauses[1], "chaosd resume") {
			t.Errorf("guard panel does not show the cooldown until chaosd resume: %v", pauses)
		}
		reportingCheckGuardPanel(t, dom)
		reportingCheckChart(t, dom, "the status page after the weakness", "mark-weakness", "mark-halt")
	})

	t.Run("chaosd status shows the guard", func(t *testing.T) {
		eventually(t, 30*time.Second, "chaosd status with the guard's checks", func() bool {
			code, out := runChaosdCommand(t, c, 30*time.Second, "status", "--namespace", chaosdNamespace, "--configmap", chaosdConfigMap)
			return code == 0 && regexp.MustCompile(`(?m)^guard:   (ok|blocked) `).MatchString(out) &&
				regexp.MustCompile(`(?m)^    demo healthy +(ok|blocked) +[0-9.]+ \(must be ≥ 1\)`).MatchString(out) &&
				strings.Contains(out, `alertmanager`) && strings.Contains(out, `blocks on severity="critical"`)
		})
	})

	t.Run("Kubernetes Events on the VirtualService and chaosd's ConfigMap", func(t *testing.T) {
		ctx := context.Background()
		var vsReasons, cmReasons map[string]eventsv1.Event
		eventually(t, 30*time.Second, "Events", func() bool {
			vsReasons = reportingEvents(t, c, "go-demo-8", "VirtualService", vsName)
			cmReasons = reportingEvents(t, c, chaosdNamespace, "ConfigMap", chaosdConfigMap)
			_, inj := vsReasons["ChaosInjected"]
			_, rev := vsReasons["ChaosReverted"]
			_, pass := cmReasons["ChaosRunPassed"]
			_, weakEv := cmReasons["ChaosRunWeakness"]
			return inj && rev && pass && weakEv
		})
		for _, ev := range []eventsv1.Event{vsReasons["ChaosInjected"], vsReasons["ChaosReverted"], cmReasons["ChaosRunWeakness"]} {
			if ev.ReportingController != "chaosd" {
				t.Errorf("%s: reportingController %q, want chaosd", ev.Reason, ev.ReportingController)
			}
		}
		// One Event per run: the weakness run is the only one with its verdict.
		all, err := c.Kube.EventsV1().Events(chaosdNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range all.Items {
			if e.Reason == "ChaosRunWeakness" && e.Regarding.Name == chaosdConfigMap {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d ChaosRunWeakness Events, want 1", n)
		}
		if w := cmReasons["ChaosRunWeakness"]; w.Type != "Warning" || !strings.Contains(w.Note, weak.RunID) {
			t.Errorf("ChaosRunWeakness: type %s note %q, want Warning naming %s", w.Type, w.Note, weak.RunID)
		}
		if ps := cmReasons["ChaosRunPassed"]; ps.Type != "Normal" {
			t.Errorf("ChaosRunPassed: type %s, want Normal", ps.Type)
		}
		// The recorder writes events.k8s.io/v1; the core/v1 view shows them too.
		core, err := c.Kube.CoreV1().Events(chaosdNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var seen bool
		for _, e := range core.Items {
			seen = seen || (e.Reason == "ChaosRunWeakness" && e.InvolvedObject.Name == chaosdConfigMap)
		}
		if !seen {
			t.Error("ChaosRunWeakness not visible through the core/v1 Events API (kubectl get events)")
		}
	})

	t.Run("ChaosWeaknessFound alert in Alertmanager", func(t *testing.T) {
		eventually(t, 30*time.Second, "ChaosWeaknessFound active", func() bool { return alertActive(t, c, notify.WeaknessAlertName) })
		resp, err := http.Get(c.AlertmanagerURL + "/api/v2/alerts?filter=" + url.QueryEscape(`alertname="ChaosWeaknessFound"`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil || len(alerts) != 1 {
			t.Fatalf("alerts %+v (%v), want one", alerts, err)
		}
		a := alerts[0]
		if a.Labels["experiment"] != reportingExperiment || a.Labels["target"] != target || a.Annotations["run_id"] != weak.RunID {
			t.Errorf("alert labels %v annotations %v", a.Labels, a.Annotations)
		}
		if want := "http://" + addr + "/api/v1/runs/" + weak.RunID + "/report"; a.Annotations["report_url"] != want {
			t.Errorf("report_url %q, want %q", a.Annotations["report_url"], want)
		}
	})

	t.Run("Slack and webhook get the weakness, nobody hears of the pass", func(t *testing.T) {
		eventually(t, 30*time.Second, "a Slack and a webhook delivery", func() bool { return len(slack.Bodies()) > 0 && len(hook.Bodies()) > 0 })
		for _, r := range []*reportingReceiver{slack, hook} {
			for _, b := range r.Bodies() {
				if strings.Contains(b.Body, passed.RunID) {
					t.Errorf("%s: the passing run was notified: %s", b.Path, b.Body)
				}
			}
		}
		slackMsg := slack.Bodies()[0]
		if slackMsg.Path != "/services/T000/B000/XXXX" || slackMsg.ContentType != "application/json" {
			t.Errorf("slack delivery: path %s content type %s", slackMsg.Path, slackMsg.ContentType)
		}
		var blocks struct {
			Text   string `json:"text"`
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type, Text string
				} `json:"text"`
				Fields []struct{ Type, Text string } `json:"fields"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal([]byte(slackMsg.Body), &blocks); err != nil {
			t.Fatalf("slack body is not Block Kit JSON: %v\n%s", err, slackMsg.Body)
		}
		if len(blocks.Blocks) < 2 || blocks.Blocks[0].Type != "header" || !strings.Contains(blocks.Blocks[0].Text.Text, "Weakness found") {
			t.Errorf("slack message has no 'Weakness found' header: %s", slackMsg.Body)
		}
		if !strings.Contains(slackMsg.Body, weak.RunID) || !strings.Contains(slackMsg.Body, "/api/v1/runs/"+weak.RunID+"/report") {
			t.Errorf("slack message does not name and link the run: %s", slackMsg.Body)
		}

		var payload notify.WebhookPayload
		if err := json.Unmarshal([]byte(hook.Bodies()[0].Body), &payload); err != nil {
			t.Fatal(err)
		}
		if payload.Version != notify.WebhookVersion || payload.Event != "weakness" || payload.Verdict != journal.VerdictWeakness ||
			payload.RunID != weak.RunID || payload.Experiment != reportingExperiment || len(payload.Targets) != 1 || len(payload.Evidence) == 0 {
			t.Errorf("webhook payload %+v", payload)
		}
		if hook.Bodies()[0].Path != "/chaosd" {
			t.Errorf("webhook path %s", hook.Bodies()[0].Path)
		}
		if n := len(slack.Bodies()) + len(hook.Bodies()); n != 2 {
			t.Errorf("%d deliveries, want exactly 2 (one weakness each)", n)
		}
		t.Logf("measured: run finished -> Slack delivery %s, webhook delivery %s",
			slackMsg.At.Sub(weak.FinishedAt).Round(time.Millisecond), hook.Bodies()[0].At.Sub(weak.FinishedAt).Round(time.Millisecond))
	})

	t.Run("metrics as Prometheus scraped them", func(t *testing.T) {
		want := []struct {
			query string
			check func(v float64) bool
			what  string
		}{
			{`chaosd_runs_total{job="chaosd",experiment="abort-go-demo-8",verdict="weakness"}`, eq(1), "= 1"},
			{`chaosd_runs_total{job="chaosd",experiment="abort-go-demo-8",verdict="passed"}`, ge(1), ">= 1"},
			{`chaosd_active_injections{job="chaosd"}`, eq(0), "= 0 after the revert"},
			{`max_over_time(chaosd_active_injections{job="chaosd"}[10m])`, eq(1), "= 1 while held"},
			{`chaosd_paused{job="chaosd",reason="cooldown"}`, eq(1), "= 1 (paused by the weakness)"},
			{`chaosd_paused{job="chaosd",reason="manual"}`, eq(0), "= 0"},
			{`chaosd_build_info{job="chaosd",version!=""}`, eq(1), "= 1"},
			{`chaosd_next_activation_timestamp_seconds{job="chaosd",experiment="delay-nightly"} - time()`, func(v float64) bool { return v > 0 && v <= 86400 }, "in the next day"},
			{`chaosd_halt_latency_seconds_count{job="chaosd"}`, ge(1), ">= 1"},
			{`chaosd_injections_total{job="chaosd",experiment="abort-go-demo-8",result="success"}`, ge(2), ">= 2"},
			{`chaosd_reverts_total{job="chaosd",experiment="abort-go-demo-8",result="success"}`, ge(2), ">= 2"},
			{`chaosd_notifications_total{job="chaosd",receiver="slack",event="weakness",result="sent"}`, eq(1), "= 1"},
			{`chaosd_config_last_reload_success{job="chaosd"}`, eq(1), "= 1"},
			// The first weakness must count in increase(), or dashboards and
			// alerts built on increase() never see it.
			{`increase(chaosd_runs_total{job="chaosd",experiment="abort-go-demo-8",verdict="weakness"}[10m])`, ge(0.5), "> 0 (series initialised at 0)"},
		}
		for _, w := range want {
			var last string
			ok := reportingEventually(60*time.Second, func() bool {
				got, err := reportingQuery(c, w.query, time.Time{})
				if err != nil || len(got) != 1 || !w.check(got[0].last()) {
					last = fmt.Sprintf("%v (err %v)", got, err)
					return false
				}
				return true
			})
			if !ok {
				t.Errorf("%s: got %s, want one series %s", w.query, last, w.what)
			}
		}
	})

	t.Run("resiliency score as Prometheus scraped it is what the journal implies", func(t *testing.T) {
		// docs/verdicts.md#resiliency-score: the newest guard.scoreWindow
		// runs against the workload; passed counts 1 (no SLIs here),
		// weakness 0, the rest are not counted. chaosd is paused by the
		// weakness, so the journal stays put.
		workload := strings.TrimPrefix(target, "virtualservice/")
		var counted, pass, seen int
		for _, s := range scoreRuns(t, p, "") {
			if !slices.Contains(s.Targets, target) || seen == config.DefaultScoreWindow {
				continue
			}
			seen++
			switch s.Verdict {
			case journal.VerdictPassed:
				counted, pass = counted+1, pass+1
			case journal.VerdictWeakness, journal.VerdictAlertGap:
				counted++
			}
		}
		if counted == pass {
			t.Fatalf("no weakness among the runs against %s", workload)
		}
		want := float64(pass) / float64(counted)
		query := fmt.Sprintf(`chaosd_resiliency_score_ratio{job="chaosd",experiment=%q,workload=%q}`, reportingExperiment, workload)
		var last string
		if !reportingEventually(60*time.Second, func() bool {
			got, err := reportingQuery(c, query, time.Time{})
			last = fmt.Sprintf("%v (err %v)", got, err)
			return err == nil && len(got) == 1 && math.Abs(got[0].last()-want) < 1e-9
		}) {
			t.Errorf("%s: got %s, want %g (%d of %d counted runs passed)", query, last, want, pass, counted)
		}
		t.Logf("resiliency score of %s against %s: %g (%d of %d counted runs passed)", reportingExperiment, workload, want, pass, counted)
	})

	t.Run("every Grafana dashboard query returns data", func(t *testing.T) {
		d, err := dashboard.Load(filepath.Join("..", "..", "charts", "chaosd", "dashboards", "chaosd.json"))
		if err != nil {
			t.Fatal(err)
		}
		queries := d.Queries(d.DefaultVars())
		failures := map[string]string{}
		reportingEventually(90*time.Second, func() bool {
			clear(failures)
			end := time.Now()
			for _, q := range queries {
				at := end // range queries: the last 10 minutes, as a panel would
				if q.Instant {
					at = time.Time{}
				}
				got, err := reportingQuery(c, q.Expr, at)
				switch {
				case err != nil:
					failures[q.Where] = fmt.Sprintf("%s: %v", q.Expr, err)
				case !slices.ContainsFunc(got, func(s reportingSample) bool { return s.finite() }):
					failures[q.Where] = fmt.Sprintf("%s: no finite sample in %v", q.Expr, got)
				}
			}
			return len(failures) == 0
		})
		for where, why := range failures {
			t.Errorf("%s: %s", where, why)
		}
		t.Logf("%d dashboard queries checked against Prometheus", len(queries))
	})

	t.Run("no fault left and chaosd stops cleanly", func(t *testing.T) {
		p.Stop(30 * time.Second)
		if p.err != nil {
			t.Errorf("chaosd exited with %v", p.err)
		}
		assertNothingLeft(t, c)
	})
}

// reportingCheckWeaknessRecord checks what the journal says about the
// weakness run: the verdict, why, the evidence, and a complete timeline.
func reportingCheckWeaknessRecord(t *testing.T, rec journal.Record) {
	t.Helper()
	if rec.Verdict != journal.VerdictWeakness || rec.Experiment != reportingExperiment || rec.Reason == "" {
		t.Errorf("record: verdict %s experiment %s reason %q", rec.Verdict, rec.Experiment, rec.Reason)
	}
	if len(rec.Evidence) == 0 {
		t.Error("record has no evidence")
	}
	phases := map[journal.Phase]bool{}
	for _, e := range rec.Timeline {
		phases[e.Phase] = true
	}
	for _, ph := range []journal.Phase{journal.PhasePreflight, journal.PhasePick, journal.PhaseInject, journal.PhaseHalt, journal.PhaseRevert, journal.PhaseVerdict} {
		if !phases[ph] {
			t.Errorf("timeline has no %s entry: %v", ph, rec.Timeline)
		}
	}
	if len(rec.Injections) != 1 || rec.Injections[0].RevertedAt == nil {
		t.Fatalf("injections %+v, want one, reverted", rec.Injections)
	}
	var order []journal.Phase
	for _, e := range rec.Timeline {
		order = append(order, e.Phase)
		if e.Phase == journal.PhaseHalt {
			t.Logf("measured: halt decided %s after injection, fault reverted %s after the halt",
				e.At.Sub(rec.Injections[0].InjectedAt).Round(time.Millisecond), rec.Injections[0].RevertedAt.Sub(e.At).Round(time.Millisecond))
		}
	}
	if h, r := slices.Index(order, journal.PhaseHalt), slices.Index(order, journal.PhaseRevert); h > r {
		t.Errorf("timeline %v: the halt is listed after the revert it caused", order)
	}
}

func eq(want float64) func(float64) bool { return func(v float64) bool { return v == want } }
func ge(min float64) func(float64) bool  { return func(v float64) bool { return v >= min } }

// reportingStartChaosd is startChaosd on an address chosen beforehand (so
// Prometheus can be told to scrape it) and a journal dir the test reads.
func reportingStartChaosd(t *testing.T, c *cluster.Cluster, cfgPath, addr, journalDir string) *chaosdProcess {
	t.Helper()
	ensureChaosdNamespace(t, c)
	args := []string{"run", "--config", cfgPath, "--kubeconfig", c.Kubeconfig, "--namespace", chaosdNamespace,
		"--configmap", chaosdConfigMap, "--listen", addr, "--journal-dir", journalDir, "--log-format", "json"}
	return launchChaosd(t, addr, args)
}

// reportingWaitForRun waits until /api/v1/runs lists a run with verdict v
// and returns the newest such run.
func reportingWaitForRun(t *testing.T, p *chaosdProcess, v journal.Verdict, timeout time.Duration) journal.Summary {
	t.Helper()
	var found journal.Summary
	eventually(t, timeout, "a run with verdict "+string(v), func() bool {
		_, body := p.Get(t, "/api/v1/runs")
		var sums []journal.Summary
		if json.Unmarshal([]byte(body), &sums) != nil {
			return false
		}
		for _, s := range sums {
			if s.Verdict == v {
				found = s
				return true
			}
			if s.Verdict == journal.VerdictError || s.Verdict == journal.VerdictSkipped {
				t.Fatalf("run %s: %s: %s\n%s", s.RunID, s.Verdict, s.Reason, tail(p.Log(), 40))
			}
		}
		return false
	})
	return found
}

// reportingLabelledVirtualServices lists the VirtualServices carrying the
// label Kiali users filter on while chaosd holds a fault. An error fails the
// test: it must never read as "no label".
func reportingLabelledVirtualServices(t *testing.T, c *cluster.Cluster) []string {
	t.Helper()
	list, err := c.Istio.NetworkingV1().VirtualServices("go-demo-8").List(context.Background(),
		metav1.ListOptions{LabelSelector: "chaosd.io/injected=true"})
	if err != nil {
		t.Fatalf("list VirtualServices labelled chaosd.io/injected=true: %v", err)
	}
	var names []string
	for _, vs := range list.Items {
		names = append(names, vs.Name)
	}
	return names
}

// reportingEvents returns the events.k8s.io/v1 Events about one object, by
// reason (the newest of each reason).
func reportingEvents(t *testing.T, c *cluster.Cluster, namespace, kind, name string) map[string]eventsv1.Event {
	t.Helper()
	list, err := c.Kube.EventsV1().Events(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Logf("list events: %v", err)
		return nil
	}
	out := map[string]eventsv1.Event{}
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name {
			out[e.Reason] = e
		}
	}
	return out
}

// reportingReceiver is a Slack or webhook endpoint on 127.0.0.1 that
// records what it is sent.
type reportingReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []reportingDelivery
}

type reportingDelivery struct {
	Path, ContentType, Body string
	At                      time.Time
}

func newReportingReceiver(t *testing.T) *reportingReceiver {
	r := &reportingReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		r.bodies = append(r.bodies, reportingDelivery{Path: req.URL.Path, ContentType: req.Header.Get("Content-Type"), Body: string(b), At: time.Now()})
		r.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *reportingReceiver) Bodies() []reportingDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

// reportingSample is one series of a Prometheus answer.
type reportingSample struct {
	Labels map[string]string
	Values []float64
}

func (s reportingSample) last() float64 {
	if len(s.Values) == 0 {
		return math.NaN()
	}
	return s.Values[len(s.Values)-1]
}

func (s reportingSample) finite() bool {
	return slices.ContainsFunc(s.Values, func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) })
}

func (s reportingSample) String() string { return fmt.Sprintf("%v=%v", s.Labels, s.Values) }

// reportingQuery runs an instant query (end zero) or a range query over
// the 10 minutes before end, as Grafana would, and returns every series.
// A query Prometheus cannot parse or evaluate is an error.
func reportingQuery(c *cluster.Cluster, query string, end time.Time) ([]reportingSample, error) {
	u := c.PrometheusURL + "/api/v1/query?query=" + url.QueryEscape(query)
	if !end.IsZero() {
		u = fmt.Sprintf("%s/api/v1/query_range?query=%s&start=%d&end=%d&step=5", c.PrometheusURL, url.QueryEscape(query),
			end.Add(-10*time.Minute).Unix(), end.Unix())
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("prometheus: %s", body.Error)
	}
	var series []struct {
		Metric map[string]string `json:"metric"`
		Value  []any             `json:"value"`
		Values [][]any           `json:"values"`
	}
	switch body.Data.ResultType {
	case "scalar":
		var v []any
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return nil, err
		}
		return []reportingSample{{Values: []float64{pointValue(v)}}}, nil
	case "vector", "matrix":
		if err := json.Unmarshal(body.Data.Result, &series); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unexpected result type %q", body.Data.ResultType)
	}
	out := make([]reportingSample, 0, len(series))
	for _, s := range series {
		sample := reportingSample{Labels: s.Metric}
		if s.Value != nil {
			sample.Values = append(sample.Values, pointValue(s.Value))
		}
		for _, p := range s.Values {
			sample.Values = append(sample.Values, pointValue(p))
		}
		out = append(out, sample)
	}
	return out, nil
}

// pointValue reads [timestamp, "value"].
func pointValue(p []any) float64 {
	if len(p) != 2 {
		return math.NaN()
	}
	s, _ := p[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// reportingEventually is eventually without failing: it reports whether
// cond held within timeout, so the caller can say what was last seen.
func reportingEventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(500 * time.Millisecond)
	}
	return true
}

// reportingArtifactsDir returns a directory for what people would look at
// (screenshots, DOMs, the journal). When the test ends its files are copied
// to the harness's artifacts dir for the test, $CHAOSD_E2E_ARTIFACTS/<test>
// or test/artifacts/<test> (gitignored). Call it before cluster.Start: the
// cluster's cleanup replaces that dir with its logs when the test fails,
// and cleanups run last-registered first, so the copy comes after it.
func reportingArtifactsDir(t *testing.T) string {
	t.Helper()
	name := strings.Trim(regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(t.Name(), "_"), "_")
	base := os.Getenv("CHAOSD_E2E_ARTIFACTS")
	if base == "" {
		base = filepath.Join("..", "artifacts") // go test runs in test/e2e
	}
	final, err := filepath.Abs(filepath.Join(base, name))
	if err != nil {
		t.Fatal(err)
	}
	stage := t.TempDir()
	t.Cleanup(func() {
		entries, _ := os.ReadDir(stage)
		if len(entries) == 0 {
			return
		}
		if err := os.MkdirAll(final, 0o755); err != nil {
			t.Errorf("keep artifacts: %v", err)
			return
		}
		for _, e := range entries {
			copyFileTo(t, filepath.Join(stage, e.Name()), filepath.Join(final, e.Name()))
		}
		t.Logf("screenshots and journal kept in %s", final)
	})
	return stage
}

func copyFileTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err == nil {
		err = os.WriteFile(dst, data, 0o644)
	}
	if err != nil {
		t.Errorf("keep %s: %v", src, err)
	}
}

// reportingStatusWhileHeld loads the status page in Chromium until the
// rendered page shows the fault held (a load can miss it: the fault is
// held 20 s of every run), and checks the guard panel and the chart there.
func reportingStatusWhileHeld(t *testing.T, p *chaosdProcess, chromium, shot string) {
	t.Helper()
	activeRow := regexp.MustCompile(`(?s)<table id="active">.*?<td>` + reportingExperiment + `</td>`)
	var dom string
	for attempt := 1; attempt <= 4; attempt++ {
		dom = reportingBrowse(t, chromium, p.URL+"/", shot)
		if activeRow.MatchString(dom) {
			break
		}
		t.Logf("attempt %d: the page loaded between two runs' faults; loading again", attempt)
		dom = ""
	}
	if dom == "" {
		t.Fatal("four loads of the status page never showed the fault held")
	}
	reportingCheckGuardPanel(t, dom)
	reportingCheckChart(t, dom, "the status page with a fault held")
	if !strings.Contains(reportingVisibleText(dom), "held now") {
		t.Error("the chart does not shade the fault held now")
	}
}

// reportingCheckGuardPanel checks the guard panel as the browser built it:
// the overall state, Alertmanager's matcher, and the check with a value.
func reportingCheckGuardPanel(t *testing.T, dom string) {
	t.Helper()
	if !regexp.MustCompile(`id="guard-state"[^>]*>(ok|blocked)<`).MatchString(dom) {
		t.Errorf("guard panel has no evaluated state:\n%s", reportingVisibleText(dom))
	}
	text := reportingVisibleText(dom)
	if !strings.Contains(text, `matches all of severity="critical"`) {
		t.Errorf("guard panel does not show the block matcher: %s", text)
	}
	checks := regexp.MustCompile(`(?s)<table id="guard-checks">(.*?)</table>`).FindStringSubmatch(dom)
	if checks == nil || !regexp.MustCompile(`<td class="nw">demo healthy</td><td class="nw">≥ 1</td><td>[01]( |</td>)`).MatchString(checks[1]) {
		t.Errorf("guard panel has no row for the check with its last value: %v", checks)
	}
}

// reportingCheckChart checks an inline SVG chart in the rendered DOM: the
// browser parsed it as SVG (the CSP allows it), a series is drawn from
// Prometheus, a fault window is shaded inside the plot, and marks is there.
func reportingCheckChart(t *testing.T, dom, where string, marks ...string) {
	t.Helper()
	svg := regexp.MustCompile(`(?s)<svg class="chart" xmlns="http://www.w3.org/2000/svg".*?</svg>`).FindString(dom)
	if svg == "" {
		t.Errorf("%s: no inline SVG chart in the rendered DOM", where)
		return
	}
	if !strings.Contains(svg, `<path class="series" d="M`) {
		t.Errorf("%s: the chart draws no series", where)
	}
	win := regexp.MustCompile(`<rect class="fault-window" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`).FindAllStringSubmatch(svg, -1)
	if len(win) == 0 {
		t.Errorf("%s: the chart shades no fault window", where)
	}
	for _, w := range win {
		x, _ := strconv.ParseFloat(w[1], 64)
		width, _ := strconv.ParseFloat(w[2], 64)
		if x < 70 || x+width > 880.5 || width <= 0 {
			t.Errorf("%s: fault window at x=%s width=%s lies outside the plot", where, w[1], w[2])
		}
	}
	for _, m := range marks {
		if !strings.Contains(svg, `class="mark `+m+`"`) {
			t.Errorf("%s: the chart has no %s", where, m)
		}
	}
}

// reportingChromium finds headless Chromium: $CHAOSD_E2E_CHROMIUM, else
// chromium on PATH (hack/deps.sh installs Debian's).
func reportingChromium(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("CHAOSD_E2E_CHROMIUM"); bin != "" {
		return bin
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if bin, err := exec.LookPath(name); err == nil {
			return bin
		}
	}
	t.Fatal("no chromium on PATH: run hack/deps.sh (apt-get install chromium) or set CHAOSD_E2E_CHROMIUM")
	return ""
}

// reportingBrowse loads pageURL in headless Chromium once, saves a
// screenshot to shot and returns the DOM as the browser built it from that
// same load (Chromium's headless mode does both in one run), so the picture
// and the assertions show the same moment.
func reportingBrowse(t *testing.T, chromium, pageURL, shot string) string {
	t.Helper()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--window-size=1280,1600"}
	run := func(extra ...string) string {
		args := append(append(slices.Clone(base), "--user-data-dir="+t.TempDir()), extra...)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append(args, pageURL)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		// Kill Chromium's whole process group (renderers, zygote), not
		// just the browser process.
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		var stdout, stderr syncBuffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // any helper left behind
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(extra, " "), err, tail(stderr.String(), 30))
		}
		t.Logf("chromium %s %s: %s", strings.Join(extra, " "), pageURL, time.Since(start).Round(time.Millisecond))
		return stdout.String()
	}
	dom := run("--screenshot="+shot, "--dump-dom")
	if info, err := os.Stat(shot); err != nil || info.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	if err := os.WriteFile(strings.TrimSuffix(shot, ".png")+".html", []byte(dom), 0o644); err != nil {
		t.Errorf("keep DOM: %v", err)
	}
	if !strings.Contains(dom, "</html>") {
		t.Fatalf("chromium returned no page for %s:\n%s", pageURL, tail(dom, 20))
	}
	return dom
}

var (
	reportingTags   = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]+>`)
	reportingSpaces = regexp.MustCompile(`\s+`)
)

// reportingVisibleText is the page's text without markup or styles.
func reportingVisibleText(dom string) string {
	text := reportingTags.ReplaceAllString(dom, " ")
	for from, to := range map[string]string{"&amp;": "&", "&lt;": "<", "&gt;": ">", "&#34;": `"`, "&#39;": "'", "&quot;": `"`} {
		text = strings.ReplaceAll(text, from, to)
	}
	return reportingSpaces.ReplaceAllString(text, " ")
}
