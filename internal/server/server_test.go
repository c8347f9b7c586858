package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/journal"
)

type memRuns map[string]journal.Record

func (m memRuns) List(limit int) []journal.Summary {
	var out []journal.Summary
	for _, r := range m {
		out = append(out, r.Summarize())
	}
	return out
}

func (m memRuns) Get(id string) (journal.Record, error) {
	r, ok := m[id]
	if !ok {
		return journal.Record{}, fmt.Errorf("get %s: %w", id, journal.ErrNotFound)
	}
	return r, nil
}

func newTestServer(t *testing.T, ready error) *httptest.Server {
	t.Helper()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rec := journal.Record{SchemaVersion: journal.SchemaVersion, RunID: "run-1", Experiment: "kill-random-pod",
		Action: "pod-kill", StartedAt: now.Add(-time.Minute), FinishedAt: now, Verdict: journal.VerdictWeakness,
		Reason: "alert <b>DemoDown</b> fired"}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "chaosd_test_total", Help: "t"}))
	srv := httptest.NewServer(New(Options{
		Status: func() control.Status {
			return control.Status{State: "paused", Leader: "pod-a", PauseReasons: []string{"cooldown after weakness"},
				Next:   []control.NextActivation{{Experiment: "kill-random-pod", At: now.Add(time.Minute)}},
				Active: []control.ActiveFault{{RunID: "run-2", Experiment: "abort", Action: "http-abort", Target: "virtualservice/go-demo-8/go-demo-8"}}}
		},
		Ready:    func() error { return ready },
		Runs:     memRuns{"run-1": rec},
		Gatherer: reg,
		Clock:    clocktesting.NewFakePassiveClock(now),
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestEndpoints(t *testing.T) {
	srv := newTestServer(t, nil)
	tests := []struct {
		name     string
		path     string
		wantCode int
		contains []string
		excludes []string
	}{
		{name: "healthz", path: "/healthz", wantCode: 200, contains: []string{"ok"}},
		{name: "readyz", path: "/readyz", wantCode: 200},
		{name: "metrics", path: "/metrics", wantCode: 200, contains: []string{"chaosd_test_total"}},
		{name: "status json", path: "/api/v1/status", wantCode: 200, contains: []string{`"state": "paused"`, `"leader": "pod-a"`}},
		{name: "runs", path: "/api/v1/runs", wantCode: 200, contains: []string{`"runId": "run-1"`, `"verdict": "weakness"`}},
		{name: "runs bad limit", path: "/api/v1/runs?limit=x", wantCode: 400},
		{name: "run", path: "/api/v1/runs/run-1", wantCode: 200, contains: []string{`"experiment": "kill-random-pod"`}},
		{name: "unknown run", path: "/api/v1/runs/nope", wantCode: 404},
		{name: "run report", path: "/api/v1/runs/run-1/report", wantCode: 200, contains: []string{"<html", "kill-random-pod", "weakness"}, excludes: []string{"<b>DemoDown</b>"}},
		{name: "recent report", path: "/report", wantCode: 200, contains: []string{"kill-random-pod"}},
		{
			name: "status page", path: "/", wantCode: 200,
			contains: []string{"paused", "cooldown after weakness", "virtualservice/go-demo-8/go-demo-8", "kill-random-pod", "in 1m0s", "/api/v1/runs/run-1/report",
				"activations are skipped until chaosd runs again"},
			excludes: []string{"<b>DemoDown</b>"},
		},
		{name: "unknown path", path: "/nope", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, hdr := get(t, srv.URL+tt.path)
			if code != tt.wantCode {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, code, tt.wantCode, body)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s: body lacks %q", tt.path, s)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(body, s) {
					t.Errorf("GET %s: body contains unescaped %q", tt.path, s)
				}
			}
			if !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("GET %s: no restrictive Content-Security-Policy", tt.path)
			}
		})
	}
}

func TestReadyzReportsWhy(t *testing.T) {
	srv := newTestServer(t, errors.New("targets cache not synced"))
	code, body, _ := get(t, srv.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "targets cache not synced") {
		t.Fatalf("readyz = %d %q, want 503 with the reason", code, body)
	}
}

func TestReadOnly(t *testing.T) {
	srv := newTestServer(t, nil)
	resp, err := http.Post(srv.URL+"/api/v1/status", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /api/v1/status = %d, want 405", resp.StatusCode)
	}
}

// TestPageRunningRunsAndSkippedActivations: a run not yet judged shows as
// running (not an empty verdict), and the next activation of an experiment
// with a run in progress says it is skipped if that run is still going.
func TestPageRunningRunsAndSkippedActivations(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	runs := memRuns{
		"run-3": {SchemaVersion: journal.SchemaVersion, RunID: "run-3", Experiment: "abort", Action: "http-abort", StartedAt: now.Add(-10 * time.Second)},
		"run-1": {SchemaVersion: journal.SchemaVersion, RunID: "run-1", Experiment: "kill", Action: "pod-kill",
			StartedAt: now.Add(-time.Hour), FinishedAt: now.Add(-59 * time.Minute), Verdict: journal.VerdictPassed},
	}
	srv := httptest.NewServer(New(Options{
		Status: func() control.Status {
			return control.Status{State: "running", Next: []control.NextActivation{
				{Experiment: "abort", At: now.Add(8 * time.Second)},
				{Experiment: "kill", At: now.Add(time.Minute)},
			}}
		},
		Ready: func() error { return nil }, Runs: runs, Gatherer: prometheus.NewRegistry(), Clock: clocktesting.NewFakePassiveClock(now),
	}))
	t.Cleanup(srv.Close)
	_, body, _ := get(t, srv.URL+"/")
	if !strings.Contains(body, `<td class="running">running</td>`) {
		t.Errorf("the run in progress is not shown as running:\n%s", body)
	}
	if strings.Contains(body, `<td class="v-"></td>`) {
		t.Errorf("a run shows an empty verdict:\n%s", body)
	}
	if n := strings.Count(body, "skipped if its current run is still going"); n != 1 {
		t.Errorf("%d activations marked as skipped, want 1 (abort's):\n%s", n, body)
	}
	abortRow := body[strings.Index(body, "<td class=\"nw\">abort</td>"):]
	abortRow = abortRow[:strings.Index(abortRow, "</tr>")]
	if !strings.Contains(abortRow, "skipped if its current run is still going") {
		t.Errorf("abort's next activation is not marked: %s", abortRow)
	}
}
