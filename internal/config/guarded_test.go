package config

import (
	"errors"
	"slices"
	"testing"
)

// TestValidateGuarded: a config must name Alertmanager or Prometheus, or
// opt out with guard.unguarded, which then shows as a warning.
func TestValidateGuarded(t *testing.T) {
	const experiments = `experiments:
  - name: kill
    schedule: "@hourly"
    target: {kind: pod}
    action: {type: pod-kill}
`
	tests := []struct {
		name         string
		guard        string
		want         []string
		wantWarnings []string
	}{
		{name: "no guard section", want: []string{
			"guard: neither alertmanager nor prometheus is set, so every run would pass unjudged; configure one, or set guard.unguarded: true to run without a guard",
		}},
		{name: "a guard without monitoring", guard: "guard: {pollInterval: 2s}\n", want: []string{
			"guard: neither alertmanager nor prometheus is set, so every run would pass unjudged; configure one, or set guard.unguarded: true to run without a guard",
		}},
		{name: "alertmanager", guard: "guard: {alertmanager: {url: http://am:9093}}\n"},
		{name: "prometheus", guard: "guard: {prometheus: {url: http://prom:9090}}\n"},
		{name: "explicit opt-out", guard: "guard:\n  unguarded: true\n", wantWarnings: []string{
			"c.yaml:2: warning: guard.unguarded: no Alertmanager or Prometheus judges the runs, so every run that completes passes",
		}},
		{name: "unguarded: false is no opt-out", guard: "guard: {unguarded: false}\n", want: []string{
			"guard: neither alertmanager nor prometheus is set, so every run would pass unjudged; configure one, or set guard.unguarded: true to run without a guard",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.guard+experiments))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var errs *Errors
			if err := cfg.ValidateGuarded(); errors.As(err, &errs) {
				got = errs.Messages()
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ValidateGuarded = %q, want %q", got, tt.want)
			}
			if w := cfg.Warnings(); !slices.Equal(w, tt.wantWarnings) {
				t.Errorf("Warnings = %q, want %q", w, tt.wantWarnings)
			}
		})
	}
}

func TestUnguardedExcludesGuards(t *testing.T) {
	_, err := Parse("c.yaml", []byte("guard: {unguarded: true, prometheus: {url: http://prom:9090}}\n"))
	var errs *Errors
	if !errors.As(err, &errs) || !slices.Contains(errs.Messages(), "guard.unguarded: cannot be combined with alertmanager or prometheus") {
		t.Errorf("Parse = %v, want unguarded next to prometheus refused", err)
	}
}
