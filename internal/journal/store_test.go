package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func openStore(t *testing.T, opts Options) *Store {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	return names
}

func runIDs(sums []Summary) []string {
	var ids []string
	for _, s := range sums {
		ids = append(ids, s.RunID)
	}
	return ids
}

func TestStoreWriteGetList(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{Dir: dir})
	for i, id := range []string{"b", "a", "c"} {
		// Written out of order: List sorts by start time.
		start := t0.Add(time.Duration([]int{2, 1, 3}[i]) * time.Minute)
		if err := s.Write(testRecord(id, start)); err != nil {
			t.Fatalf("Write %s: %v", id, err)
		}
	}
	if got, want := dirFiles(t, dir), []string{
		"2025-03-14T09-27-53.589Z-a.json",
		"2025-03-14T09-28-53.589Z-b.json",
		"2025-03-14T09-29-53.589Z-c.json",
	}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files = %v, want %v", got, want)
	}
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{name: "all", limit: 0, want: []string{"c", "b", "a"}},
		{name: "limited", limit: 2, want: []string{"c", "b"}},
		{name: "limit above count", limit: 10, want: []string{"c", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runIDs(s.List(tt.limit)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("List(%d) = %v, want %v", tt.limit, got, tt.want)
			}
		})
	}
	sum := s.List(1)[0]
	if sum.Verdict != VerdictWeakness || sum.DurationSeconds != 90 || len(sum.Targets) != 1 || sum.Targets[0] != "virtualservice/shop/checkout" {
		t.Errorf("summary = %+v", sum)
	}
	got, err := s.Get("b")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.RunID != "b" || got.Seed != testRecord("b", t0).Seed || len(got.Timeline) != 1 {
		t.Errorf("Get(b) = %+v", got)
	}
}

func TestStoreGetNotFound(t *testing.T) {
	s := openStore(t, Options{})
	if err := s.Write(testRecord("a", t0)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"missing", "../a", "", "a/../../etc"} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(%q) err = %v, want ErrNotFound", id, err)
			}
		})
	}
}

func TestStoreRewriteReplaces(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{Dir: dir})
	inProgress := testRecord("r1", t0)
	inProgress.Verdict, inProgress.FinishedAt = "", time.Time{}
	if err := s.Write(inProgress); err != nil {
		t.Fatal(err)
	}
	final := testRecord("r1", t0.Add(time.Second)) // start time corrected: new file name
	if err := s.Write(final); err != nil {
		t.Fatal(err)
	}
	if files := dirFiles(t, dir); len(files) != 1 || !strings.HasPrefix(files[0], "2025-03-14T09-26-54.589Z") {
		t.Errorf("files = %v, want only the final record", files)
	}
	if l := s.List(0); len(l) != 1 || l[0].Verdict != VerdictWeakness {
		t.Errorf("List = %+v", l)
	}
}

func TestStoreRetention(t *testing.T) {
	size := func() int64 {
		s := openStore(t, Options{})
		if err := s.Write(testRecord("r0", t0)); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(s.Dir(), dirFiles(t, s.Dir())[0]))
		if err != nil {
			t.Fatal(err)
		}
		return info.Size()
	}()
	tests := []struct {
		name     string
		maxRuns  int
		maxBytes int64
		want     []string
	}{
		{name: "unbounded", want: []string{"r4", "r3", "r2", "r1", "r0"}},
		{name: "by count", maxRuns: 2, want: []string{"r4", "r3"}},
		{name: "by bytes", maxBytes: 3*size + size/2, want: []string{"r4", "r3", "r2"}},
		{name: "both, count tighter", maxRuns: 1, maxBytes: 10 * size, want: []string{"r4"}},
		{name: "newest kept even over bytes", maxBytes: 1, want: []string{"r4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, Options{Dir: dir, MaxRuns: tt.maxRuns, MaxBytes: tt.maxBytes})
			for i := range 5 {
				if err := s.Write(testRecord(fmt.Sprintf("r%d", i), t0.Add(time.Duration(i)*time.Minute))); err != nil {
					t.Fatal(err)
				}
			}
			if got := runIDs(s.List(0)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("List = %v, want %v", got, tt.want)
			}
			if files := dirFiles(t, dir); len(files) != len(tt.want) {
				t.Errorf("files on disk = %v, want %d", files, len(tt.want))
			}
		})
	}
}

func TestOpenIndexesExistingAndSkipsJunk(t *testing.T) {
	dir := t.TempDir()
	first := openStore(t, Options{Dir: dir})
	for i := range 3 {
		if err := first.Write(testRecord(fmt.Sprintf("r%d", i), t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	_ = first.Close()
	junk := map[string]string{
		"2025-01-01T00-00-00.000Z-corrupt.json": "{not json",
		"2025-01-01T00-00-00.000Z-future.json":  `{"schemaVersion": 99, "runId": "future"}`,
		".tmp-123.json":                         "half a rec",
		"README.txt":                            "not a journal",
	}
	for name, content := range junk {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	core, logs := observer.New(zapcore.WarnLevel)
	s := openStore(t, Options{Dir: dir, MaxRuns: 2, Logger: zap.New(core)})

	if got := runIDs(s.List(0)); fmt.Sprint(got) != "[r2 r1]" {
		t.Errorf("List after reopen = %v, want [r2 r1] (retention applied on open)", got)
	}
	warned := map[string]bool{}
	for _, e := range logs.FilterMessage("skipping unreadable journal file").All() {
		warned[e.ContextMap()["file"].(string)] = true
	}
	for _, name := range []string{"2025-01-01T00-00-00.000Z-corrupt.json", "2025-01-01T00-00-00.000Z-future.json"} {
		if !warned[name] {
			t.Errorf("no warning for %s; warnings: %v", name, logs.All())
		}
	}
	files := strings.Join(dirFiles(t, dir), " ")
	if strings.Contains(files, ".tmp-") {
		t.Errorf("leftover temp file not removed: %s", files)
	}
	if !strings.Contains(files, "corrupt.json") || !strings.Contains(files, "future.json") {
		t.Errorf("unreadable journals must be left for a human, files: %s", files)
	}
}

func TestOpenErrors(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		dir      string
		wantErr  string
		skipRoot bool
	}{
		{name: "no dir configured", dir: "", wantErr: "no directory configured"},
		{name: "parent is a file", dir: filepath.Join(notADir, "journal"), wantErr: "create directory"},
		{name: "read-only dir", dir: readOnly, wantErr: "is not writable", skipRoot: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipRoot && os.Geteuid() == 0 {
				t.Skip("root ignores directory permissions")
			}
			_, err := Open(Options{Dir: tt.dir})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Open(%q) err = %v, want it to contain %q", tt.dir, err, tt.wantErr)
			}
		})
	}
}

func TestWriteAfterClose(t *testing.T) {
	s := openStore(t, Options{})
	if err := s.Write(testRecord("a", t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(testRecord("b", t0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close err = %v, want ErrClosed", err)
	}
	if _, err := s.Get("a"); err != nil {
		t.Errorf("Get after Close: %v (a clean shutdown must lose nothing)", err)
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{Dir: dir})
	if err := s.Write(testRecord("../escape", t0)); err == nil {
		t.Fatal("Write accepted a run id with a path in it")
	}
	if files := dirFiles(t, dir); len(files) != 0 {
		t.Errorf("files = %v, want none", files)
	}
}

func TestConcurrentWrites(t *testing.T) {
	s := openStore(t, Options{MaxRuns: 5})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := s.Write(testRecord(fmt.Sprintf("r%02d", i), t0.Add(time.Duration(i)*time.Second))); err != nil {
				t.Error(err)
			}
			_ = s.List(3)
		})
	}
	wg.Wait()
	if got := runIDs(s.List(0)); fmt.Sprint(got) != "[r19 r18 r17 r16 r15]" {
		t.Errorf("List = %v", got)
	}
	if n := len(dirFiles(t, s.Dir())); n != 5 {
		t.Errorf("%d files on disk, want 5", n)
	}
}
