package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse holds Parse to its promise: any input yields a config or a list
// of problems, never a panic. Parse recovers panics into an "internal error
// while parsing" problem, so seeing that message means a panic happened.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../../config/*.yaml", "testdata/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, doc := range []string{
		"",
		"- a\n",
		"a: &x {b: *x}\n",
		"experiments: [\n",
		experimentDoc("", `schedule: "CRON_TZ="`),
		experimentDoc("", `schedule: "TZ=UTC"`),
		experimentDoc("", "schedule: \"CRON_TZ=UTC\t0 * * * *\""),
		experimentDoc("", `schedule: "@every -1h"`),
		experimentDoc("", `schedule: "0 0 30 2 *"`),
		experimentDoc("", "target: {kind: pod, mode: maxPercent:100}"),
		experimentDoc(`windows: {hours: "24:00-00:00", weekdays: [sun], blackoutDates: ["2026-02-29"]}`),
		experimentDoc("policies: {default: {maxUnavailablePerWorkload: 99999999999999999999%}}"),
		experimentDoc("", "target: {kind: virtualservice}", "action: {type: http-fault, abort: {}, fixedDelay: {}}", "duration: 1m"),
		experimentDoc("", "action: {type: pod-kill, headers: {a: [1]}}"),
		"experiments:\n  - &e {name: a}\n  - <<: [*e, *e]\n",
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil {
			if cfg == nil {
				t.Fatal("Parse returned neither a config nor an error")
			}
			for _, e := range cfg.Experiments {
				if e.CronSchedule() == nil {
					t.Fatalf("valid config with experiment %q lacking a schedule", e.Name)
				}
			}
			return
		}
		if cfg != nil {
			t.Fatal("Parse returned a config along with an error")
		}
		var errs *Errors
		if !errors.As(err, &errs) {
			t.Fatalf("Parse error is %T, want *Errors", err)
		}
		if len(errs.List) == 0 {
			t.Fatal("Parse returned an empty problem list")
		}
		if msg := errs.Error(); strings.Contains(msg, "internal error while parsing") {
			t.Fatalf("Parse panicked (recovered):\n%s", msg)
		}
	})
}
