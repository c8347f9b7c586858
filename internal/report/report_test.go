package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chaosd/chaosd/internal/journal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		render func(*bytes.Buffer) error
	}{
		{name: "html", golden: "report.html.golden", render: func(b *bytes.Buffer) error {
			return RenderHTML(b, fixtures(), Options{Title: "Game day 2025-03-14", GeneratedAt: generated})
		}},
		{name: "markdown", golden: "report.md.golden", render: func(b *bytes.Buffer) error {
			return RenderMarkdown(b, fixtures(), Options{Title: "Game day 2025-03-14", GeneratedAt: generated})
		}},
		{name: "html without runs", golden: "empty.html.golden", render: func(b *bytes.Buffer) error {
			return RenderHTML(b, nil, Options{})
		}},
		{name: "markdown without runs", golden: "empty.md.golden", render: func(b *bytes.Buffer) error {
			return RenderMarkdown(b, nil, Options{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := tt.render(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", path, firstDiff(got.String(), string(want)))
			}
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + "\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func TestHTMLIsSelfContainedAndEscaped(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderHTML(&buf, fixtures(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, banned := range []string{"<script", "src=", "<link", "<img", "@import", "url(", `href="http`, "<a href=\"//"} {
		if strings.Contains(strings.ToLower(out), banned) {
			t.Errorf("report contains %q: must be self-contained and script-free", banned)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;") {
		t.Error("hostile label is not visible as escaped text")
	}
	for _, want := range []string{`class="verdict v-weakness"`, `class="verdict v-passed"`, `class="verdict v-error"`, `id="run-20250314-0900-abort"`, `href="#run-20250314-0900-abort"`, "NOT REVERTED", "in progress"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s", want)
		}
	}
}

// Every row of a Markdown table must keep its column count, whatever the
// labels contain.
func TestMarkdownTablesSurviveHostileText(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderMarkdown(&buf, fixtures(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	unescapedPipe := regexp.MustCompile(`(^|[^\\])\|`)
	var header int
	for i, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		// Count with overlapping matches handled: escape pairs are "\|".
		n := len(unescapedPipe.FindAllStringIndex(strings.ReplaceAll(line, "||", "| |"), -1))
		if header == 0 {
			header = n
			continue
		}
		if n != header {
			t.Errorf("line %d has %d cell separators, header has %d: %s", i+1, n, header, line)
		}
	}
	for _, banned := range []string{`<script`, `](http`, `[link]`} {
		if regexp.MustCompile(`(^|[^\\])` + regexp.QuoteMeta(banned)).MatchString(out) {
			t.Errorf("markdown contains unescaped %q", banned)
		}
	}
}

func TestRenderDoesNotReorderCallerSlice(t *testing.T) {
	recs := fixtures()
	first := recs[0].RunID
	if err := RenderMarkdown(&bytes.Buffer{}, recs, Options{}); err != nil {
		t.Fatal(err)
	}
	if recs[0].RunID != first {
		t.Error("render sorted the caller's slice")
	}
}

func TestFormatFromPathAndWriteFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		file    string
		want    string
		wantErr bool
	}{
		{name: "html", file: "r.html", want: "<!DOCTYPE html>"},
		{name: "htm upper case", file: "R.HTM", want: "<!DOCTYPE html>"},
		{name: "markdown", file: "r.md", want: "# chaosd report"},
		{name: "unknown", file: "r.pdf", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			err := WriteFile(path, fixtures(), Options{})
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				if _, statErr := os.Stat(path); statErr == nil {
					t.Error("file written despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(b), tt.want) {
				t.Errorf("%s starts with %.40q, want %q", tt.file, b, tt.want)
			}
		})
	}
}

func writeJournal(t *testing.T, path string, r journal.Record) {
	t.Helper()
	var buf bytes.Buffer
	if err := journal.Encode(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRecords(t *testing.T) {
	recs := fixtures()
	dir := t.TempDir()
	for _, r := range recs {
		writeJournal(t, filepath.Join(dir, r.RunID+".json"), r)
	}
	if err := os.WriteFile(filepath.Join(dir, ".tmp-1.json"), []byte("{half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An in-progress copy of a finished run, elsewhere.
	other := t.TempDir()
	stale := recs[1] // "weak"
	stale.Verdict, stale.FinishedAt = "", stale.StartedAt
	writeJournal(t, filepath.Join(other, "stale.json"), stale)
	corrupt := filepath.Join(other, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	t.Run("directory and file, deduplicated, sorted", func(t *testing.T) {
		got, err := LoadRecords(filepath.Join(other, "stale.json"), dir, filepath.Join(dir, recs[0].RunID+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(recs) {
			t.Fatalf("loaded %d records, want %d", len(got), len(recs))
		}
		for i := 1; i < len(got); i++ {
			if got[i].StartedAt.Before(got[i-1].StartedAt) {
				t.Errorf("records not in start order at %d", i)
			}
		}
		for _, r := range got {
			if r.RunID == stale.RunID && r.Verdict != journal.VerdictWeakness {
				t.Errorf("in-progress copy won over the finished record: %+v", r)
			}
		}
	})
	errTests := []struct {
		name    string
		paths   []string
		wantErr string
	}{
		{name: "nothing given", paths: nil, wantErr: "no files"},
		{name: "missing path", paths: []string{filepath.Join(dir, "missing.json")}, wantErr: "no such file"},
		{name: "corrupt file names itself", paths: []string{corrupt}, wantErr: "corrupt.json"},
		{name: "empty directory", paths: []string{empty}, wantErr: "no journal files"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadRecords(tt.paths...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
