package journal

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAuditLogSurvivesReopen: audit entries are on disk when WriteAudit
// returns, listed newest first, kept apart from runs, and read back at
// Open; a line chaosd cannot decode is skipped, not fatal.
func TestAuditLogSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{Dir: dir})
	entries := []AuditEntry{
		{At: t0, Action: AuditPause, Who: "alice", Groups: []string{"sre"}, From: "alice@laptop, context prod", Detail: "reason: incident"},
		{At: t0.Add(time.Minute), Action: AuditConfig, Who: "bob-editor (field manager)", FieldManager: "bob-editor",
			Operation: "Update", ResourceVersion: "42", ConfigHash: "abc", WrittenAt: t0.Add(50 * time.Second)},
		{At: t0.Add(2 * time.Minute), Action: AuditResume, Who: "alice"},
	}
	for _, e := range entries {
		if err := s.WriteAudit(e); err != nil {
			t.Fatalf("WriteAudit: %v", err)
		}
	}
	if err := s.Write(testRecord("r1", t0)); err != nil {
		t.Fatal(err)
	}
	if got := actions(s.Audit(2)); !slices.Equal(got, []AuditAction{AuditResume, AuditConfig}) {
		t.Errorf("Audit(2) = %v, want the newest two, newest first", got)
	}
	if ids := runIDs(s.List(0)); !slices.Equal(ids, []string{"r1"}) {
		t.Errorf("runs = %v, want only r1: the audit log is not a run", ids)
	}

	// A torn or foreign line is skipped at Open and dropped by the next write.
	path := filepath.Join(dir, AuditFile)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("{\"at\":\"2026-\n"); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	if _, err := ReadAuditFile(path); err == nil || !strings.Contains(err.Error(), "1 unreadable lines") {
		t.Errorf("ReadAuditFile of a torn log: err = %v, want 1 unreadable line", err)
	}
	reopened := openStore(t, Options{Dir: dir})
	got := reopened.Audit(0)
	if len(got) != 3 || got[2].Who != "alice" || got[2].Groups[0] != "sre" || got[1].FieldManager != "bob-editor" || !got[1].WrittenAt.Equal(t0.Add(50*time.Second)) {
		t.Fatalf("after reopen: %+v, want the three entries with every field", got)
	}
	if err := reopened.WriteAudit(AuditEntry{At: t0.Add(3 * time.Minute), Action: AuditStop, Who: "carol"}); err != nil {
		t.Fatal(err)
	}
	onDisk, err := ReadAuditFile(path)
	if err != nil || len(onDisk) != 4 || onDisk[3].Action != AuditStop {
		t.Fatalf("ReadAuditFile = %d entries, %v; want 4 ending with the stop", len(onDisk), err)
	}
	// The first store, whose memory lacks the stop (another replica's, on a
	// shared volume), appends to the log on disk.
	if err := s.WriteAudit(AuditEntry{At: t0.Add(4 * time.Minute), Action: AuditPause, Who: "dave"}); err != nil {
		t.Fatal(err)
	}
	if got := actions(s.Audit(0)); !slices.Equal(got, []AuditAction{AuditPause, AuditStop, AuditResume, AuditConfig, AuditPause}) {
		t.Errorf("after a write on a shared log: %v, want every entry, newest first", got)
	}
}

// TestWriteAuditRejects: an entry without action or time, or after Close,
// is refused.
func TestWriteAuditRejects(t *testing.T) {
	tests := []struct {
		name  string
		e     AuditEntry
		close bool
		want  string
	}{
		{name: "no action", e: AuditEntry{At: t0, Who: "alice"}, want: "action and time are required"},
		{name: "no time", e: AuditEntry{Action: AuditPause, Who: "alice"}, want: "action and time are required"},
		{name: "closed", e: AuditEntry{At: t0, Action: AuditPause}, close: true, want: ErrClosed.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, Options{})
			if tt.close {
				_ = s.Close()
			}
			if err := s.WriteAudit(tt.e); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteAudit = %v, want %q", err, tt.want)
			}
			if n := len(s.Audit(0)); n != 0 {
				t.Errorf("%d entries kept after a refused write", n)
			}
		})
	}
}

// TestNewestAudit: retention keeps the newest entries.
func TestNewestAudit(t *testing.T) {
	log := []AuditEntry{{Who: "a"}, {Who: "b"}, {Who: "c"}}
	tests := []struct {
		name string
		keep int
		want []string
	}{
		{name: "under the bound", keep: 5, want: []string{"a", "b", "c"}},
		{name: "at the bound", keep: 3, want: []string{"a", "b", "c"}},
		{name: "over the bound", keep: 2, want: []string{"b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range newestAudit(log, tt.keep) {
				got = append(got, e.Who)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("newestAudit(%d) = %v, want %v", tt.keep, got, tt.want)
			}
		})
	}
}

func actions(entries []AuditEntry) []AuditAction {
	var out []AuditAction
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}
