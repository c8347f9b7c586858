package importer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testOptions are deterministic: a fixed environment and clock.
func testOptions(env map[string]string) Options {
	return Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Now:       func() time.Time { return time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC) },
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./internal/importer -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the translation (run go test ./internal/importer -update and review the diff)\n--- got:\n%s", path, got)
	}
}

// mustParse asserts the translated config is one chaosd accepts.
func mustParse(t *testing.T, res Result) *config.Config {
	t.Helper()
	cfg, err := config.Parse("translated", res.Config)
	if err != nil {
		t.Fatalf("translated config is invalid: %v\n%s", err, res.Config)
	}
	return cfg
}

// checkResult asserts the translation is a valid config with exactly these
// warning and note codes, and that it matches the golden file.
func checkResult(t *testing.T, res Result, warnings, notes []string, goldenName string) {
	t.Helper()
	mustParse(t, res)
	if got := codes(res.Warnings); !slices.Equal(got, warnings) {
		t.Errorf("warnings %v, want %v:\n%v", got, warnings, res.Warnings)
	}
	if got := codes(res.Notes); !slices.Equal(got, notes) {
		t.Errorf("notes %v, want %v:\n%v", got, notes, res.Notes)
	}
	golden(t, goldenName, res.Config)
}

// codes lists the distinct codes of findings, sorted.
func codes(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		if !slices.Contains(out, w.Code) {
			out = append(out, w.Code)
		}
	}
	slices.Sort(out)
	return out
}

func readFile(t *testing.T, path string) File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return File{Name: filepath.Base(path), Data: data}
}
