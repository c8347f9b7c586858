package server

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/control"
)

// TestPageAudit: the status page lists who paused, stopped, resumed or
// changed the config, from where, newest first, escaped; the section is a
// golden file so a change in wording shows in review.
func TestPageAudit(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	entries := []control.AuditSummary{
		{At: now.Add(-time.Minute), Action: "config", Who: "bob-editor (field manager)",
			From:   "configmap chaosd/chaosd-config key config.yaml, Update at 2026-12-06T11:58:59Z, resourceVersion 812",
			Detail: "loaded, hash 0123456789ab"},
		{At: now.Add(-2 * time.Minute), Action: "resume", Who: "alice (system:masters, system:authenticated)",
			From: "alice@laptop, context prod", Detail: "manual pause and cooldown lifted"},
		{At: now.Add(-3 * time.Minute), Action: "stop", Who: "alice (system:masters, system:authenticated)",
			From: "alice@laptop, context prod", Detail: "reason: <incident 42>"},
	}
	tests := []struct {
		name   string
		audit  []control.AuditSummary
		golden string
		want   []string
	}{
		{name: "entries", audit: entries, golden: "audit.html.golden", want: []string{
			"<td>bob-editor (field manager)</td>", "2026-12-06 11:59:00Z", "reason: &lt;incident 42&gt;",
			"alice@laptop, context prod",
		}},
		{name: "none", golden: "audit-none.html.golden", want: []string{`id="audit-entries">No pause, resume, stop or config change`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			section := pageSection(t, statusPageOf(t, control.Status{State: "running", Audit: tt.audit}, now), "audit")
			for _, w := range tt.want {
				if !strings.Contains(section, w) {
					t.Errorf("audit section lacks %q:\n%s", w, section)
				}
			}
			// Newest first, as given: the config change before the stop.
			if tt.audit != nil && strings.Index(section, ">config<") > strings.Index(section, ">stop<") {
				t.Errorf("audit entries out of order:\n%s", section)
			}
			checkGolden(t, tt.golden, section)
		})
	}
}

// statusPageOf renders the status page for st at now.
func statusPageOf(t *testing.T, st control.Status, now time.Time) string {
	t.Helper()
	srv := httptest.NewServer(New(Options{
		Status: func() control.Status { return st }, Ready: func() error { return nil }, Runs: memRuns{},
		Gatherer: prometheus.NewRegistry(), Clock: clocktesting.NewFakePassiveClock(now),
	}))
	defer srv.Close()
	_, body, _ := get(t, srv.URL+"/")
	return body
}

// pageSection cuts <section id="id">…</section> out of a page.
func pageSection(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `<section id="`+id+`">`)
	if start < 0 {
		t.Fatalf("no %s section in:\n%s", id, body)
	}
	end := strings.Index(body[start:], "</section>")
	if end < 0 {
		t.Fatalf("%s section not closed in:\n%s", id, body)
	}
	return body[start : start+end+len("</section>")]
}

// checkGolden compares got with testdata/name; -update rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if string(want) != got+"\n" {
		t.Errorf("section differs from %s (run with -update after checking):\n%s", path, got)
	}
}
