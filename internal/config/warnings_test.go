package config

import (
	"slices"
	"testing"
	"time"
)

// TestWarningsScheduleFasterThanRun: an experiment whose activations come
// more often than one run lasts is valid, but runs less often than its
// schedule says; the warning says so, with the arithmetic.
func TestWarningsScheduleFasterThanRun(t *testing.T) {
	const guard = "guard: {alertmanager: {url: http://am:9093}}\n"
	tests := []struct {
		name       string
		experiment string
		want       []string
	}{
		{
			name:       "period longer than the run",
			experiment: `{name: e, schedule: "@every 2m", target: {kind: pod}, action: {type: pod-kill}, observe: 1m}`,
		},
		{
			name:       "period equal to the run",
			experiment: `{name: e, schedule: "@every 1m", target: {kind: pod}, action: {type: pod-kill}}`,
		},
		{
			name:       "chaoskube's 10m interval would be fine, 30s with the default observe is not",
			experiment: `{name: e, schedule: "@every 30s", target: {kind: pod}, action: {type: pod-kill}}`,
			want: []string{"c.yaml:3: warning: experiments[0].schedule: activations come every 30s, but a run lasts at least 1m0s " +
				"(duration 0s + observe 1m0s); activations while a run is active are skipped as already-running, so it runs at most once every 1m0s"},
		},
		{
			name:       "cron schedule, hold and observe",
			experiment: `{name: e, schedule: "*/5 * * * *", target: {kind: virtualservice}, action: {type: http-abort, status: 500}, duration: 6m, observe: 1m}`,
			want: []string{"c.yaml:3: warning: experiments[0].schedule: activations come every 5m0s, but a run lasts at least 7m0s " +
				"(duration 6m0s + observe 1m0s); activations while a run is active are skipped as already-running, so it runs at most once every 10m0s"},
		},
		{
			name:       "disabled experiments are not scheduled",
			experiment: `{name: e, schedule: "@every 30s", target: {kind: pod}, action: {type: pod-kill}, disabled: true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(guard+"experiments:\n  - "+tt.experiment+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Warnings(); !slices.Equal(got, tt.want) {
				t.Errorf("Warnings =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRunPeriod(t *testing.T) {
	tests := []struct{ gap, run, want time.Duration }{
		{30 * time.Second, time.Minute, time.Minute},
		{30 * time.Second, 61 * time.Second, 90 * time.Second},
		{5 * time.Minute, 7 * time.Minute, 10 * time.Minute},
		{0, time.Minute, time.Minute},
	}
	for _, tt := range tests {
		if got := RunPeriod(tt.gap, tt.run); got != tt.want {
			t.Errorf("RunPeriod(%s, %s) = %s, want %s", tt.gap, tt.run, got, tt.want)
		}
	}
}
