package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A config with neither Alertmanager nor Prometheus would judge every run
// passed: validate refuses it, unless it opts out explicitly, and then says
// so on every validation.
func TestValidateGuardRequired(t *testing.T) {
	const experiments = `experiments:
  - name: kill
    schedule: "@hourly"
    target: {kind: pod, namespaces: [shop]}
    action: {type: pod-kill}
`
	tests := []struct {
		name       string
		doc        string
		wantCode   int    // 0: valid
		wantStderr string // a line validate must print
		wantStdout string
	}{
		{name: "no guard", doc: experiments, wantCode: 1,
			wantStderr: "guard: neither alertmanager nor prometheus is set, so every run would pass unjudged; configure one, or set guard.unguarded: true to run without a guard"},
		{name: "alertmanager", doc: "guard: {alertmanager: {url: http://am:9093}}\n" + experiments, wantStdout: "config.yaml: valid"},
		{name: "prometheus", doc: "guard: {prometheus: {url: http://prom:9090}}\n" + experiments, wantStdout: "config.yaml: valid"},
		{name: "explicit opt-out", doc: "guard: {unguarded: true}\n" + experiments, wantStdout: "config.yaml: valid",
			wantStderr: "config.yaml:1: warning: guard.unguarded: no Alertmanager or Prometheus judges the runs, so every run that completes passes"},
		{name: "schedule faster than a run", doc: "guard: {alertmanager: {url: http://am:9093}}\nexperiments:\n" +
			"  - {name: kill, schedule: \"@every 20s\", target: {kind: pod, namespaces: [shop]}, action: {type: pod-kill}}\n",
			wantStdout: "config.yaml: valid",
			wantStderr: "config.yaml:3: warning: experiments[0].schedule: activations come every 20s, but a run lasts at least 1m0s"},
		{name: "opt-out next to a guard", doc: "guard: {unguarded: true, alertmanager: {url: http://am:9093}}\n" + experiments, wantCode: 1,
			wantStderr: "guard.unguarded: cannot be combined with alertmanager or prometheus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			cmd := newValidateCommand()
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			var stdout, stderr bytes.Buffer
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SetArgs([]string{"config.yaml"})
			err := cmd.Execute()
			code := 0
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.code
			} else if err != nil {
				t.Fatalf("validate: %v", err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, &stdout, &stderr)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantStdout, &stdout)
			}
		})
	}
}
