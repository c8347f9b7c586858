package scheduler

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestWritePlanGolden(t *testing.T) {
	cfg, err := configFromFile("../../config/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plans := Plan(cfg, mustTime(t, "2026-11-23T08:00:00+01:00"), 3, NewRand(1))
	var buf bytes.Buffer
	if err := WritePlan(&buf, plans); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "plan-full.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("plan differs from %s (run go test -update after checking):\n%s", golden, got)
	}
}

func TestPlan(t *testing.T) {
	cfg, err := configFromFile("../../config/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	from := mustTime(t, "2026-11-23T08:00:00+01:00")
	plans := Plan(cfg, from, 3, NewRand(1))
	if len(plans) != len(cfg.Experiments) {
		t.Fatalf("got %d plans, want one per experiment (%d)", len(plans), len(cfg.Experiments))
	}
	for i, p := range plans {
		t.Run(p.Experiment, func(t *testing.T) {
			if p.Experiment != cfg.Experiments[i].Name {
				t.Errorf("plan %d is for %s, want config order", i, p.Experiment)
			}
			if len(p.Activations) != 3 || p.Exhausted != "" {
				t.Fatalf("got %d activations (%s), want 3", len(p.Activations), p.Exhausted)
			}
			prev := from
			for _, a := range p.Activations {
				if !a.Allowed || !a.Scheduled.After(prev) || a.At.Before(a.Scheduled) || a.At.Sub(a.Scheduled) > p.Jitter {
					t.Errorf("bad activation %+v after %s", a, prev)
				}
				if ok, _ := Allowed(cfg.Windows, a.At, cfg.Location()); !ok {
					t.Errorf("activation at %s is outside the windows", a.At)
				}
				prev = a.Scheduled
			}
		})
	}
	t.Run("same seed, same plan", func(t *testing.T) {
		if again := Plan(cfg, from, 3, NewRand(1)); !reflect.DeepEqual(plans, again) {
			t.Error("two plans with seed 1 differ")
		}
	})
}

func TestPlanEdgeCases(t *testing.T) {
	from := mustTime(t, "2026-11-23T08:00:00Z")
	tests := []struct {
		name          string
		doc           string
		n, wantActs   int
		wantSkipped   map[string]int
		wantExhausted string
		wantOutput    string
	}{
		{
			name:          "never inside the windows",
			doc:           oneExperiment("UTC", `{hours: "09:00-17:00"}`, "0 20 * * *", "0s"),
			n:             3,
			wantSkipped:   map[string]int{"outside hours 09:00-17:00": MaxPlanSteps},
			wantExhausted: "no activation within windows in the next 10000 scheduled runs (through Thu 2054-04-09 20:00:00 UTC)",
			wantOutput: `e  schedule "0 20 * * *"  jitter 0s
  skipped 10000 outside windows: outside hours 09:00-17:00 (10000)
  no activation within windows in the next 10000 scheduled runs (through Thu 2054-04-09 20:00:00 UTC)
`,
		},
		{
			name: "disabled is listed, not planned",
			doc:  strings.Replace(oneExperiment("UTC", "", "@hourly", "0s"), "  - name: e\n", "  - name: e\n    disabled: true\n", 1),
			n:    3,
			wantOutput: `e  schedule "@hourly"  jitter 0s
  disabled: not scheduled
`,
		},
		{
			name:     "skips are counted by reason",
			doc:      oneExperiment("UTC", `{hours: "09:00-10:00", weekdays: [Mon], blackoutDates: ["2026-11-30"]}`, "30 * * * *", "0s"),
			n:        2,
			wantActs: 2,
			wantSkipped: map[string]int{
				"outside hours 09:00-10:00": 24,
				"blackout date 2026-11-30":  24,
				"weekday Tue not allowed":   48, "weekday Wed not allowed": 48, "weekday Thu not allowed": 48,
				"weekday Fri not allowed": 48, "weekday Sat not allowed": 48, "weekday Sun not allowed": 48,
			},
			wantOutput: `e  schedule "30 * * * *"  jitter 0s
  #  SCHEDULED                    JITTER WINDOW  RUNS AT
  1  Mon 2026-11-23 09:30:00 UTC  -              Mon 2026-11-23 09:30:00 UTC
  2  Mon 2026-12-07 09:30:00 UTC  -              Mon 2026-12-07 09:30:00 UTC
  skipped 336 outside windows: weekday Fri not allowed (48), weekday Sat not allowed (48), weekday Sun not allowed (48), weekday Thu not allowed (48), weekday Tue not allowed (48), weekday Wed not allowed (48), blackout date 2026-11-30 (24), outside hours 09:00-10:00 (24)
`,
		},
		{
			name:     "jitter window crossing midnight",
			doc:      oneExperiment("Europe/Berlin", "", "50 23 * * *", "20m"),
			n:        1,
			wantActs: 1,
			wantOutput: `e  schedule "50 23 * * *"  jitter 20m0s
  #  SCHEDULED                    JITTER WINDOW          RUNS AT
  1  Mon 2026-11-23 23:50:00 CET  23:50:00-Tue 00:10:00  Tue 2026-11-24 00:09:56 CET
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseConfig(t, tc.doc)
			plans := Plan(cfg, from, tc.n, NewRand(1))
			p := plans[0]
			if len(p.Activations) != tc.wantActs || p.Exhausted != tc.wantExhausted || !reflect.DeepEqual(p.Skipped, tc.wantSkipped) {
				t.Errorf("got %d activations, skipped %v, exhausted %q; want %d, %v, %q",
					len(p.Activations), p.Skipped, p.Exhausted, tc.wantActs, tc.wantSkipped, tc.wantExhausted)
			}
			var buf bytes.Buffer
			if err := WritePlan(&buf, plans); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.wantOutput {
				t.Errorf("WritePlan output:\n%s\nwant:\n%s", buf.String(), tc.wantOutput)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWritePlanError(t *testing.T) {
	plans := []ExperimentPlan{{Experiment: "e", Schedule: "@hourly", Disabled: true}}
	if err := WritePlan(failingWriter{}, plans); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WritePlan error = %v, want the writer's error wrapped", err)
	}
}
