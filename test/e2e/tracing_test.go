//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/test/cluster"
)

// tracingConfig is onceConfig's guard and experiments, traced to Jaeger.
const tracingConfig = `tracing: {otlpEndpoint: OTLP_URL, serviceName: chaosd-e2e}
guard:
  alertmanager: {url: ALERTMANAGER_URL, block: ['severity="critical"']}
  prometheus:
    url: PROMETHEUS_URL
    checks: [{name: demo healthy, expr: demo_healthy, min: 1}]
  pollInterval: 500ms
experiments:
  - name: abort
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 3s
    observe: 1s
    landing: {disabled: true}
  - name: abort-until-halted
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 2m
    observe: 1s
  - name: abort-missing-route
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8], mode: one}
    action: {type: http-abort, status: 500, percent: 50, route: {host: no-such-host}}
    duration: 2s
    observe: 0s
`

// TestTracingRunsArriveAtOTLPReceiver: with tracing configured, each
// `chaosd once` run is one trace in a real Jaeger v2 (OTLP/HTTP in, its
// query API out): the run's span with a child per phase it went through,
// its attributes, errors on the phase that met them, and the trace id
// that the journal record and the run's log lines carry.
func TestTracingRunsArriveAtOTLPReceiver(t *testing.T) {
	if os.Getenv(cluster.EnvKubeconfig) != "" {
		t.Skip("jaeger runs only beside the harness's own cluster")
	}
	opts := cluster.FullOptions()
	opts.Jaeger = true
	opts.Prometheus.Rules = demoUnhealthyRules
	c := expStart(t, opts)
	waitForScrape(t, c)
	cfg := newConfigDir(t, strings.ReplaceAll(withMonitoring(c, tracingConfig), "OTLP_URL", c.JaegerOTLPURL))

	t.Run("passed", func(t *testing.T) {
		r := expOnce(t, c, cfg.Path, "abort")
		expWantVerdict(t, r, 0, "passed")
		tr := tracingFind(t, c, r)
		tracingWantTree(t, tr, "preflight", "pick", "reach", "inject", "hold", "revert", "observe", "verdict")
		tracingWantError(t, tr, "", "")
	})
	t.Run("halted by an alert", func(t *testing.T) {
		// As in TestSchedulerOnceExitCodes: the demo turns unhealthy once
		// the fault is in; the 2-minute hold leaves ample time to halt.
		defer unhealthyOnceFaultIn(c)()
		r := expOnce(t, c, cfg.Path, "abort-until-halted")
		expWantVerdict(t, r, 1, "weakness")
		tr := tracingFind(t, c, r)
		tracingWantTree(t, tr, "preflight", "pick", "reach", "inject", "hold", "halt", "revert", "verdict")
		if got := tr.tag(tr.span(t, "halt"), "chaosd.halt.reason"); got != "weakness" {
			t.Errorf("halt span chaosd.halt.reason = %v, want weakness", got)
		}
		if got := tr.tag(tr.span(t, "hold"), "chaosd.cut_short"); got != true {
			t.Errorf("hold span chaosd.cut_short = %v, want true", got)
		}
		tracingWantError(t, tr, "", "")
	})
	t.Run("error recorded on the inject span", func(t *testing.T) {
		c.Exporter.SetHealthy(true)
		eventually(t, 30*time.Second, "DemoUnhealthy resolved and demo_healthy 1 scraped", func() bool {
			return !alertActive(t, c, "DemoUnhealthy") && promHasData(t, c, "demo_healthy == 1")
		})
		r := expOnce(t, c, cfg.Path, "abort-missing-route")
		expWantVerdict(t, r, 2, "error")
		tr := tracingFind(t, c, r)
		tracingWantTree(t, tr, "preflight", "pick", "reach", "inject", "verdict")
		tracingWantError(t, tr, "inject", "no-such-host")
	})
}

// jaegerTrace is a trace as Jaeger's query API (/api/traces) returns it.
type jaegerTrace struct {
	TraceID   string       `json:"traceID"`
	Spans     []jaegerSpan `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64       `json:"startTime"` // microseconds
	ProcessID string      `json:"processID"`
	Tags      []jaegerTag `json:"tags"`
	Logs      []jaegerLog `json:"logs"`
}

// jaegerLog is a span event; an error is one with exception.* fields.
type jaegerLog struct {
	Fields []jaegerTag `json:"fields"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// tracingRun is one run's trace, its root span and the children sorted by
// start time.
type tracingRun struct {
	jaegerTrace
	root     jaegerSpan
	children []jaegerSpan
	rec      journal.Record
}

func (tr tracingRun) span(t *testing.T, name string) jaegerSpan {
	t.Helper()
	i := slices.IndexFunc(tr.children, func(s jaegerSpan) bool { return s.OperationName == name })
	if i < 0 {
		t.Fatalf("no %s span in trace %s", name, tr.TraceID)
	}
	return tr.children[i]
}

func (tr tracingRun) tag(s jaegerSpan, key string) any {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// tracingFind polls Jaeger for the chaosd-e2e service's traces until the
// one the run's journal record names arrives (bounded: a hang guard, not
// a latency figure), and checks the run is that trace's root.
func tracingFind(t *testing.T, c *cluster.Cluster, r expRun) tracingRun {
	t.Helper()
	id := r.Rec.TraceID
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" || strings.Trim(id, "0") == "" {
		t.Fatalf("journal traceId %q, want 32 hex digits", id)
	}
	if !strings.Contains(r.Out, `"trace_id":"`+id+`"`) || !strings.Contains(r.Out, "trace:   "+id) {
		t.Errorf("trace id %s missing from the run's log lines (trace_id) or its summary (trace:):\n%s", id, tail(r.Out, 30))
	}
	q := c.JaegerQueryURL + "/api/traces?" + url.Values{"service": {"chaosd-e2e"}, "limit": {"50"}, "lookback": {"1h"}}.Encode()
	var found *jaegerTrace
	eventually(t, time.Minute, "trace "+id+" in Jaeger", func() bool {
		traces, err := jaegerTraces(q)
		if err != nil {
			t.Fatalf("GET %s: %v", q, err)
		}
		for i := range traces {
			if fmt.Sprintf("%032s", traces[i].TraceID) == id {
				found = &traces[i]
				return true
			}
		}
		return false
	})
	tr := tracingRun{jaegerTrace: *found, rec: r.Rec}
	var roots []jaegerSpan
	for _, s := range found.Spans {
		if len(s.References) == 0 {
			roots = append(roots, s)
		} else {
			tr.children = append(tr.children, s)
		}
	}
	if len(roots) != 1 || roots[0].OperationName != "chaosd.run" {
		t.Fatalf("trace %s has roots %+v, want one chaosd.run", id, roots)
	}
	tr.root = roots[0]
	slices.SortStableFunc(tr.children, func(a, b jaegerSpan) int { return int(a.StartTime - b.StartTime) })
	if svc := found.Processes[tr.root.ProcessID].ServiceName; svc != "chaosd-e2e" {
		t.Errorf("service %q, want chaosd-e2e (tracing.serviceName)", svc)
	}
	want := map[string]any{"chaosd.experiment": r.Rec.Experiment, "chaosd.run.id": r.Rec.RunID,
		"chaosd.verdict": string(r.Rec.Verdict), "chaosd.action": "http-abort", "chaosd.target.kind": "virtualservice"}
	for k, v := range want {
		if got := tr.tag(tr.root, k); got != v {
			t.Errorf("root span %s = %v, want %v", k, got, v)
		}
	}
	targets, _ := tr.tag(tr.root, "chaosd.targets").(string)
	if len(r.Rec.Targets()) != 1 || !strings.Contains(targets, r.Rec.Targets()[0]) {
		t.Errorf("root span chaosd.targets = %q, want the run's target %v", targets, r.Rec.Targets())
	}
	return tr
}

func jaegerTraces(q string) ([]jaegerTrace, error) {
	resp, err := http.Get(q)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var body struct {
		Data []jaegerTrace `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	return body.Data, nil
}

// tracingWantTree: the root's children, in the order they started, are
// the phases named, each a direct child of the root.
func tracingWantTree(t *testing.T, tr tracingRun, phases ...string) {
	t.Helper()
	var got []string
	for _, s := range tr.children {
		got = append(got, s.OperationName)
		if len(s.References) != 1 || s.References[0].RefType != "CHILD_OF" || s.References[0].SpanID != tr.root.SpanID {
			t.Errorf("span %s references %+v, want CHILD_OF the run's span %s", s.OperationName, s.References, tr.root.SpanID)
		}
	}
	if !slices.Equal(got, phases) {
		t.Errorf("phase spans %v, want %v", got, phases)
	}
}

// tracingWantError: only the span named failed (none when empty), with an
// exception event whose message contains msg; the run's span fails with it.
func tracingWantError(t *testing.T, tr tracingRun, span, msg string) {
	t.Helper()
	for _, s := range append([]jaegerSpan{tr.root}, tr.children...) {
		failed := tr.tag(s, "otel.status_code") == "ERROR"
		want := span != "" && (s.OperationName == span || s.OperationName == "chaosd.run")
		if failed != want {
			t.Errorf("span %s failed = %t, want %t (tags %+v)", s.OperationName, failed, want, s.Tags)
		}
	}
	if span == "" {
		return
	}
	s := tr.span(t, span)
	if !slices.ContainsFunc(s.Logs, func(l jaegerLog) bool {
		return slices.ContainsFunc(l.Fields, func(f jaegerTag) bool {
			v, _ := f.Value.(string)
			return f.Key == "exception.message" && strings.Contains(v, msg)
		})
	}) {
		t.Errorf("%s span logs %+v, want an exception mentioning %q", span, s.Logs, msg)
	}
}
