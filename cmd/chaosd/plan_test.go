package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestPlanGolden runs `chaosd plan` on the full example with a fixed start
// and seed: the output is what a user sees, so it is pinned byte for byte.
func TestPlanGolden(t *testing.T) {
	var out bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"plan", "-f", "../../config/full.yaml", "--next", "3", "--from", "2026-11-23T08:00:00+01:00", "--seed", "1"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("chaosd plan: %v\n%s", err, out.String())
	}
	golden := filepath.Join("testdata", "plan-full.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("chaosd plan output differs from %s (run with -update if intended):\n%s", golden, out.String())
	}
}

func TestValidateExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{name: "valid examples", args: []string{"validate", "../../config/minimal.yaml", "../../config/full.yaml"}, wantCode: 0},
		{name: "invalid file", args: []string{"validate", "-f", "testdata/invalid.yaml"}, wantCode: 1},
		{name: "no file", args: []string{"validate"}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			cmd := newRootCommand()
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tt.args)
			if got := exitCode(cmd.Execute()); got != tt.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", got, tt.wantCode, out.String())
			}
		})
	}
}

// TestPlanWarnsScheduleFasterThanRun: plan prints the config's warnings
// before the activations, so a schedule that skips its own activations is
// visible where the schedule is shown.
func TestPlanWarnsScheduleFasterThanRun(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	doc := "guard: {alertmanager: {url: http://am:9093}}\nexperiments:\n" +
		"  - {name: kill, schedule: \"@every 30s\", target: {kind: pod}, action: {type: pod-kill}, observe: 45s}\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"plan", "-f", cfg, "--next", "1", "--from", "2026-11-23T08:00:00Z", "--seed", "1"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("chaosd plan: %v\n%s", err, &stderr)
	}
	want := cfg + ":3: warning: experiments[0].schedule: activations come every 30s, but a run lasts at least 45s " +
		"(duration 0s + observe 45s); activations while a run is active are skipped as already-running, so it runs at most once every 1m0s\n"
	if stderr.String() != want {
		t.Errorf("stderr =\n%q\nwant\n%q", stderr.String(), want)
	}
	if !bytes.Contains(stdout.Bytes(), []byte("kill")) {
		t.Errorf("plan output lacks the experiment:\n%s", &stdout)
	}
}
