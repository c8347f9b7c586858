package configdoc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

const repoRoot = "../.."

func generated(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Generate(&buf, repoRoot); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestConfigurationDocIsCurrent(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join(repoRoot, "docs", "configuration.md"))
	if err != nil {
		t.Fatalf("read docs/configuration.md (run go generate ./internal/configdoc): %v", err)
	}
	if got := generated(t); got != string(committed) {
		t.Errorf("docs/configuration.md is out of date: run go generate ./internal/configdoc\n%s", firstDiff(string(committed), got))
	}
}

// firstDiff shows the first line that differs.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  committed: %s\n  generated: %s", i+1, wl, gl)
		}
	}
	return ""
}

// koanfPaths walks config.Config on its own (not with the generator's
// walk): every key, and every block that holds keys.
func koanfPaths(t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" {
			continue
		}
		p := tag
		if path != "" {
			p = path + "." + tag
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		textType := reflect.PointerTo(ft).Implements(textUnmarshaler)
		switch {
		case ft.Kind() == reflect.Struct && !textType:
			*out = append(*out, p)
			koanfPaths(ft, p, out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !reflect.PointerTo(ft.Elem()).Implements(textUnmarshaler):
			*out = append(*out, p+"[]")
			koanfPaths(ft.Elem(), p+"[]", out)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			*out = append(*out, p+".<name>")
			koanfPaths(ft.Elem(), p+".<name>", out)
		default:
			*out = append(*out, p)
		}
	}
}

func TestEveryKeyPathIsDocumented(t *testing.T) {
	var paths []string
	koanfPaths(reflect.TypeFor[config.Config](), "", &paths)
	if len(paths) < 50 {
		t.Fatalf("only %d key paths found; the walk is broken", len(paths))
	}
	doc := generated(t)
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			if !strings.Contains(doc, "`"+p+"`") {
				t.Errorf("docs/configuration.md does not mention `%s`", p)
			}
		})
	}
}

func TestDocumentStatesWhatValidationEnforces(t *testing.T) {
	doc := generated(t)
	rows := []string{
		"| `http-abort` | `virtualservice` | `status`, `percent`, `route` | yes |",
		"| `pod-kill` | `pod` | `gracePeriod`, `method` | no |",
		"| `node-delete` | `node` | `restore` | with `restore: true` |",
		"| `url` | `http-load` | `url` |",
		"| `experiments[].target.mode` | [mode](#mode) | `one` |",
		"| `guard.cooldown` | [cooldown](#cooldown) | `" + formatDuration(config.DefaultCooldown) + "` |",
		"| `journal.maxRuns` | integer | `500` |",
		"| `experiments[].action.method` | string | `delete` (pod-kill); `GET` (http-load) |",
		"| `guard.unknownAfter` | duration | 3 × `guard.pollInterval` |",
		"| `paused` | `false` \\| `true` \\| `revert` | `false` |",
	}
	for _, r := range rows {
		t.Run(r, func(t *testing.T) {
			if !strings.Contains(doc, r) {
				t.Errorf("missing row %s", r)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		root string
		want string
	}{
		{name: "no config package", root: t.TempDir(), want: "no Go files"},
		{name: "missing root", root: filepath.Join(t.TempDir(), "nope"), want: "no Go files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Generate(&bytes.Buffer{}, tt.root)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestStripName(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"Check", "Check is a PromQL expression.", "A PromQL expression."},
		{"Windows", "Windows restricts activations.", "Restricts activations."},
		{"Guard", "Configures things.", "Configures things."},
		{"Mode", "Mode", "Mode"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			if got := stripName(tt.name, tt.doc); got != tt.want {
				t.Errorf("stripName(%q, %q) = %q, want %q", tt.name, tt.doc, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		vals []qualified
		exps int
		want string
	}{
		{name: "one value everywhere", vals: []qualified{{"1m", ""}, {"1m", ""}}, exps: 2, want: "`1m`"},
		{name: "one value for some", vals: []qualified{{"2m", "node-drain"}, {"2m", "node-drain"}}, exps: 5, want: "`2m` (node-drain)"},
		{name: "values differ", vals: []qualified{{"delete", "pod-kill"}, {"GET", "http-load"}}, exps: 2, want: "`delete` (pod-kill); `GET` (http-load)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.vals, tt.exps); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Second: "1m30s", 10 * time.Minute: "10m", 500 * time.Millisecond: "500ms"} {
		t.Run(want, func(t *testing.T) {
			if got := formatDuration(d); got != want {
				t.Errorf("got %q", got)
			}
		})
	}
}
