package server

import (
	"context"
	"html/template"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/history"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/score"
)

// pageView is what the status page shows.
type pageView struct {
	Now    time.Time
	Status control.Status
	Runs   []journal.Summary
	// Running names the experiments with a run in progress: their next
	// activation is skipped (already-running) unless that run ends first.
	Running map[string]bool
	// Chart is the recent past (chartFrom), as inline SVG; ChartSpan
	// says how long it covers.
	Chart     template.HTML
	ChartSpan string
}

func (s *server) page(w http.ResponseWriter, r *http.Request) {
	view := pageView{Now: s.o.Clock.Now(), Status: s.o.Status(), Runs: s.o.Runs.List(20)}
	view.Running = runningExperiments(view.Status, view.Runs)
	view.Chart = s.lastHour(r.Context(), &view)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := statusPage.Execute(w, view); err != nil {
		s.o.Logger.Warn("render status page failed", zap.Error(err))
	}
}

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"scoreRule": func() string { return score.Rule },
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"in": func(now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		d := t.Sub(now).Round(time.Second)
		if d < 0 {
			return "due"
		}
		return "in " + d.String()
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>chaosd status</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1d1f;background:#fafafa}
h1{margin:0 0 .3rem} h2{margin-top:2rem;font-size:1.1rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left;font-size:.9rem}
th{background:#f0f0f3}
.state{display:inline-block;padding:.2rem .7rem;border-radius:1rem;font-weight:600}
.running{background:#d8f5dd;color:#145a22}.paused,.stopping{background:#fde2c8;color:#8a4200}.standby{background:#e4e4ea}
.v-passed{color:#145a22;font-weight:600}.v-weakness{color:#b00020;font-weight:700}
.v-error{color:#8a4200;font-weight:700}.v-alert-gap{color:#7a1fa2;font-weight:700}.v-skipped,.v-aborted,.v-no-effect{color:#555}
.muted{color:#666}
.nw{white-space:nowrap}
.running{color:#06c;font-weight:bold}
.skip{color:#a60}
.g-ok{color:#145a22;font-weight:600}.g-blocked{color:#b00020;font-weight:700}.g-unknown{color:#8a4200;font-weight:700}
code{background:#f0f0f3;padding:0 .3rem;border-radius:.2rem;font-size:.85rem}
h3{font-size:1rem;margin:1rem 0 .3rem}
</style></head><body>
<h1>chaosd</h1>
<p>State: <span class="state {{.Status.State}}" id="state">{{if .Status.State}}{{.Status.State}}{{else}}unknown{{end}}</span>
{{with .Status.Leader}}<span class="muted">leader {{.}}</span>{{end}}
<span class="muted">updated {{ts .Status.UpdatedAt}}</span></p>
{{with .Status.PauseReasons}}<p id="pause-reasons">Paused because: {{range $i, $r := .}}{{if $i}}; {{end}}{{$r}}{{end}}</p>{{end}}
{{with .Status.ConfigError}}<p class="v-error" id="config-error">Config rejected, last good config still in force: {{.}}</p>{{end}}

<h2>Guard</h2>
<section id="guard">
{{with .Status.Guard}}<p>The guard says <span class="g-{{.State}}" id="guard-state">{{if .State}}{{.State}}{{else}}not asked yet{{end}}</span>
{{if not .EvaluatedAt.IsZero}}<span class="muted">at {{ts .EvaluatedAt}} ({{.Mode}})</span>{{end}}</p>
{{range .Problems}}<p class="v-error guard-problem">{{.}}</p>{{end}}
{{with .Alertmanager}}<h3>Alertmanager <span class="g-{{.State}}">{{.State}}</span></h3>
<p>An active alert blocks a start and halts a run when it matches {{if .Block}}all of {{range .Block}}<code class="matcher">{{.}}</code> {{end}}{{else}}anything{{end}}{{with .Ignore}} and not all of {{range .}}<code>{{.}}</code> {{end}}{{end}}
· <a href="{{.AlertsURL}}">these alerts (Alertmanager API)</a></p>
{{if .Alerts}}<table id="guard-alerts"><tr><th>Alert</th><th>State</th><th>Since</th><th>Labels</th></tr>
{{range .Alerts}}<tr><td class="g-blocked">{{.Name}}</td><td>{{.State}}{{if eq .Source "prometheus_pending"}} (Prometheus){{end}}</td><td class="nw">{{ts .Since}}</td><td>{{.Labels}}</td></tr>
{{end}}</table>{{else}}<p class="muted" id="guard-alerts">No alert matches now.</p>{{end}}{{end}}
{{with .Prometheus}}<h3>Prometheus checks <span class="g-{{.State}}">{{.State}}</span></h3>
{{if .Checks}}<table id="guard-checks"><tr><th>Check</th><th>Must be</th><th>Last value</th><th>State</th><th>Query</th></tr>
{{range .Checks}}<tr><td class="nw">{{.Name}}</td><td class="nw">{{.Bound}}</td><td>{{if .Value}}{{.Value}}{{else}}<span class="muted">no data</span>{{end}}{{with .Series}} <span class="muted">{{.}}</span>{{end}}</td>
<td class="g-{{.State}}">{{.State}}{{with .Reason}} <span class="muted">{{.}}</span>{{end}}</td><td><a href="{{.QueryURL}}"><code>{{.Expr}}</code></a></td></tr>
{{end}}</table>{{else}}<p class="muted" id="guard-checks">Not asked yet.</p>{{end}}{{end}}
{{else}}<p class="muted" id="guard-state">{{if .Status.Unguarded}}Unguarded (guard.unguarded): nothing blocks a start or halts a fault, and every run that completes passes.{{else}}No guard state yet.{{end}}</p>{{end}}
<h3>Pause</h3>
{{if .Status.Pauses}}<table id="guard-pauses"><tr><th>Kind</th><th>Reason</th><th>Until</th></tr>
{{range .Status.Pauses}}<tr><td>{{.Kind}}</td><td>{{.Reason}}</td><td class="nw">{{if not .Until.IsZero}}{{ts .Until}} <span class="muted">{{in $.Now .Until}}</span>{{else}}{{.UntilText}}{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted" id="guard-pauses">Not paused.</p>{{end}}
</section>

<h2>Guard checks and faults, last {{.ChartSpan}}</h2>
<div id="chart">{{.Chart}}</div>

<h2>Resiliency score</h2>
<section id="scores">
{{if .Status.Scores}}<table id="scores-table"><tr><th>Experiment</th><th>Workload</th><th>Score</th><th>Counted runs</th><th>Not counted</th></tr>
{{range .Status.Scores}}<tr><td class="nw">{{.Experiment}}</td><td>{{.Workload}}</td><td class="nw{{if not .Ratio}} muted{{end}}">{{.Percent}}</td><td class="nw">{{.Counted}} ({{.Passed}} passed)</td><td class="nw">{{.Excluded}}</td></tr>
{{end}}</table>
<p class="muted">Over each experiment's last {{with index .Status.Scores 0}}{{.Window}}{{end}} runs against each workload (guard.scoreWindow). {{scoreRule}}</p>
{{else}}<p class="muted">No finished run has hit a workload yet.</p>{{end}}
</section>

<h2>Active faults</h2>
{{if .Status.Active}}<table id="active"><tr><th>Run</th><th>Experiment</th><th>Action</th><th>Target</th><th>Since</th></tr>
{{range .Status.Active}}<tr><td>{{.RunID}}</td><td>{{.Experiment}}</td><td>{{.Action}}</td><td>{{.Target}}</td><td>{{ts .Since}}</td></tr>
{{end}}</table>{{else}}<p class="muted" id="active">None.</p>{{end}}

<h2>Next activations</h2>
{{if and .Status.Next .Status.PauseReasons}}<p class="muted" id="next-paused">Paused: these activations are skipped until chaosd runs again.</p>{{end}}
{{if .Status.Next}}<table id="next"><tr><th>Experiment</th><th>Scheduled</th><th>Runs at (with jitter)</th><th></th></tr>
{{range .Status.Next}}<tr><td class="nw">{{.Experiment}}</td><td class="nw">{{ts .Scheduled}}</td><td class="nw">{{ts .At}}</td><td class="muted nw">{{in $.Now .At}}{{if index $.Running .Experiment}} <span class="skip">· skipped if its current run is still going</span>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted" id="next">Nothing scheduled.</p>{{end}}

<h2>Recent runs</h2>
{{if .Runs}}<table id="runs"><tr><th>Finished</th><th>Experiment</th><th>Verdict</th><th>Targets</th><th>Reason</th><th></th></tr>
{{range .Runs}}<tr><td class="nw">{{ts .FinishedAt}}</td><td class="nw">{{.Experiment}}{{if .DryRun}} <span class="muted">(dry run)</span>{{end}}</td>
{{if .Verdict}}<td class="v-{{.Verdict}}">{{.Verdict}}</td>{{else}}<td class="running">running</td>{{end}}<td>{{range $i, $t := .Targets}}{{if $i}}, {{end}}{{$t}}{{end}}</td><td>{{.Reason}}</td>
<td class="nw"><a href="/api/v1/runs/{{.RunID}}/report">report</a> · <a href="/api/v1/runs/{{.RunID}}">json</a></td></tr>
{{end}}</table>{{else}}<p class="muted" id="runs">No runs yet.</p>{{end}}

<h2>Audit</h2>
<section id="audit">
{{if .Status.Audit}}<table id="audit-entries"><tr><th>When</th><th>Action</th><th>Who</th><th>From</th><th>Detail</th></tr>
{{range .Status.Audit}}<tr><td class="nw">{{ts .At}}</td><td class="nw">{{.Action}}</td><td>{{.Who}}</td><td>{{.From}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>{{else}}<p class="muted" id="audit-entries">No pause, resume, stop or config change since this journal began.</p>{{end}}
</section>
<p class="muted"><a href="/report">Report of recent runs</a> · <a href="/api/v1/status">status JSON</a> · <a href="/metrics">metrics</a></p>
</body></html>
`))

// lastHour charts the guard's series over the last hour, with the faults
// of the listed runs and those held now shaded and their halts and
// verdicts marked.
func (s *server) lastHour(ctx context.Context, v *pageView) template.HTML {
	from := chartFrom(v.Now, v.Runs, v.Status.Active)
	v.ChartSpan = strings.TrimSuffix(strings.TrimSuffix(v.Now.Sub(from).Round(time.Minute).String(), "0s"), "0m")
	var recs []journal.Record
	for _, sum := range v.Runs {
		if !sum.FinishedAt.IsZero() && sum.FinishedAt.Before(from) {
			continue
		}
		if rec, err := s.o.Runs.Get(sum.RunID); err == nil {
			recs = append(recs, rec)
		}
	}
	windows, marks := history.Events(recs, v.Status.Active, v.Now)
	// The SLIs the runs were judged by come first: they show what a fault
	// did to the service; the guard's checks show what stops chaosd.
	slis := history.SLIPanels(recs)
	var panels []chart.Panel
	if s.o.History != nil {
		panels = s.o.History(ctx, from, v.Now)
	}
	if len(panels) == 0 {
		panels = []chart.Panel{{Title: "guard checks", NoData: "no series: the guard has no Prometheus check"}}
	}
	title := "last " + v.ChartSpan + ": guard checks, faults, halts and verdicts"
	if len(slis) > 0 {
		title = "last " + v.ChartSpan + ": SLIs, guard checks, faults, halts and verdicts"
	}
	return chart.SVG(chart.Chart{Title: title, From: from, To: v.Now,
		Panels: append(slis, panels...), Windows: windows, Marks: marks})
}

// Chart spans: at most chartMax; less when the listed runs all started
// later (a young chaosd), down to chartMin, so the first minutes of a
// playground are not squeezed against the right edge.
const (
	chartMax    = time.Hour
	chartMin    = 15 * time.Minute
	chartMargin = 5 * time.Minute
)

// chartFrom is where the status page's chart starts: chartMargin before
// the oldest listed run or held fault, within [now-chartMax, now-chartMin].
func chartFrom(now time.Time, runs []journal.Summary, active []control.ActiveFault) time.Time {
	earliest := now
	for _, r := range runs {
		if !r.StartedAt.IsZero() && r.StartedAt.Before(earliest) {
			earliest = r.StartedAt
		}
	}
	for _, a := range active {
		if !a.Since.IsZero() && a.Since.Before(earliest) {
			earliest = a.Since
		}
	}
	from := earliest.Add(-chartMargin)
	if lo := now.Add(-chartMax); from.Before(lo) {
		return lo
	}
	if hi := now.Add(-chartMin); from.After(hi) {
		return hi
	}
	return from
}

// runningExperiments are those with a fault held or a run not yet judged.
func runningExperiments(st control.Status, runs []journal.Summary) map[string]bool {
	running := map[string]bool{}
	for _, a := range st.Active {
		running[a.Experiment] = true
	}
	for _, r := range runs {
		if r.Verdict == "" {
			running[r.Experiment] = true
		}
	}
	return running
}
