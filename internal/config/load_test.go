package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAllErrorsAtOnce checks that one pass reports every problem, each on
// the line a config author has to fix.
func TestAllErrorsAtOnce(t *testing.T) {
	_, err := LoadFile("testdata/many-errors.yaml")
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("LoadFile error is %T, want *Errors: %v", err, err)
	}
	want := []string{
		"testdata/many-errors.yaml: 20 problem(s) in config",
		`  testdata/many-errors.yaml:3: timezone: unknown time zone "Mars/Olympus"`,
		`  testdata/many-errors.yaml:4: paused: must be true, false or revert, got "maybe"`,
		"  testdata/many-errors.yaml:5: bogus: unknown key",
		`  testdata/many-errors.yaml:7: windows.weekdays[1]: must be a weekday like Mon, got "Funday"`,
		`  testdata/many-errors.yaml:8: windows.hours: must look like 09:00-17:00, got "9-17"`,
		`  testdata/many-errors.yaml:12: guard.alertmanager.block[0]: invalid matcher "severity=~\"(": matcher value contains unescaped double quote: "(`,
		"  testdata/many-errors.yaml:13: guard.pollInterval: expected a duration with a unit like 30s, got 5",
		`  testdata/many-errors.yaml:18: policies.nodes.maxUnavailablePerWorkload: percentage "101%" is outside 0-100`,
		`  testdata/many-errors.yaml:21: experiments[0].schedule: cron expression "0 0 30 2 *" never fires`,
		`  testdata/many-errors.yaml:24: experiments[0].target.namespaces[0]: namespace "demo" is excluded by the experiment's policy`,
		`  testdata/many-errors.yaml:25: experiments[0].target.selector: invalid label selector "app in (": unable to parse requirement: found '', expected: ',', ')' or identifier`,
		"  testdata/many-errors.yaml:26: experiments[0].target.mode: percentage 101 is outside 0-100",
		"  testdata/many-errors.yaml:29: experiments[0].action.status: does not apply to action pod-kill",
		`  testdata/many-errors.yaml:30: experiments[1].name: duplicate experiment name "kill" (also experiments[0])`,
		"  testdata/many-errors.yaml:32: experiments[1].jitter: jitter 1h0m0s must be shorter than the schedule's shortest gap 1h0m0s",
		`  testdata/many-errors.yaml:33: experiments[1].policy: references undefined policy "missing"`,
		"  testdata/many-errors.yaml:35: experiments[1].action.type: action http-abort cannot target a pod",
		// A missing key is reported on the line of its parent.
		"  testdata/many-errors.yaml:37: experiments[2].duration: action node-cordon holds a fault and needs a positive duration before it is reverted",
		`  testdata/many-errors.yaml:38: experiments[2].schedule: invalid cron expression "CRON_TZ="`,
		"  testdata/many-errors.yaml:42: notifications.slack: needs exactly one of webhookURLFile or webhookURLEnv (the URL is a secret)",
	}
	got := strings.Split(errs.Error(), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("Error() differs\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"line of a nested flow key", experimentDoc("", "target: {kind: pod, mode: percent:0}"),
			"test.yaml: 1 problem(s) in config\n  test.yaml:4: experiments[0].target.mode: mode percent:0 must be at least 1"},
		{"whole-file problem has no line", "- a\n",
			"test.yaml: 1 problem(s) in config\n  test.yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]interface {}"},
		{"line of a key in a list item", "maxConcurrentRuns: 1\n" + experimentDoc("", "jitter: 5"),
			"test.yaml: 1 problem(s) in config\n  test.yaml:7: experiments[0].jitter: expected a duration with a unit like 30s, got 5"},
		{"keys behind an alias point at the anchor", `experiments:
  - name: a
    schedule: "@hourly"
    target: &t {kind: pod, mode: percent:0}
    action: {type: pod-kill}
  - name: b
    schedule: "@hourly"
    target: *t
    action: {type: pod-kill}
`, "test.yaml: 2 problem(s) in config\n  test.yaml:4: experiments[0].target.mode: mode percent:0 must be at least 1\n  test.yaml:4: experiments[1].target.mode: mode percent:0 must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErrors(t, tc.doc).Error(); got != tc.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "read config: ") {
		t.Errorf("LoadFile(missing) = %v, want a wrapped os.ErrNotExist", err)
	}
}

// TestExampleConfigs keeps the shipped examples valid.
func TestExampleConfigs(t *testing.T) {
	files, err := filepath.Glob("../../config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range cfg.Experiments {
				if e.CronSchedule() == nil {
					t.Errorf("experiment %s has no parsed schedule", e.Name)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg := mustParse(t, experimentDoc(""))
	checks := []struct {
		name      string
		got, want any
	}{
		{"timezone", cfg.Timezone, "UTC"},
		{"location", cfg.Location(), time.UTC},
		{"paused", cfg.Paused, NotPaused},
		{"maxConcurrentRuns", cfg.MaxConcurrentRuns, 1},
		{"guard.pollInterval", cfg.Guard.PollInterval, time.Second},
		{"guard.timeout", cfg.Guard.Timeout, 2 * time.Second},
		{"guard.onUnknown", cfg.Guard.OnUnknown, UnknownRevert},
		{"guard.unknownAfter", cfg.Guard.UnknownAfter, 3 * time.Second},
		{"guard.cooldown", cfg.Guard.Cooldown, Cooldown{Duration: 10 * time.Minute}},
		{"journal.maxRuns", cfg.Journal.MaxRuns, 500},
		{"journal.maxBytes", cfg.Journal.MaxBytes, int64(100 << 20)},
		{"experiment policy", cfg.Experiments[0].Policy, "default"},
		{"experiment mode", cfg.Experiments[0].Target.Mode, Mode{Kind: ModeOne}},
		{"experiment observe", cfg.Experiments[0].Observe, time.Minute},
		{"pod-kill method", cfg.Experiments[0].Action.Method, PodKillDelete},
		{"experiment dry run follows global", cfg.Experiments[0].IsDryRun(true), true},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

// TestExplicitValues checks that values written in the file survive
// defaulting, including zero values that mean something.
func TestExplicitValues(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		get  func(*Config) any
		want any
	}{
		{"observe 0s is honoured", experimentDoc("", "observe: 0s"),
			func(c *Config) any { return c.Experiments[0].Observe }, time.Duration(0)},
		{"observe 0s through a merge key", `experiments:
  - &kill
    name: a
    schedule: "@hourly"
    observe: 0s
    target: {kind: pod}
    action: {type: pod-kill}
  - <<: *kill
    name: b
`, func(c *Config) any { return c.Experiments[1].Observe }, time.Duration(0)},
		{"observe left empty gets the default", experimentDoc("", "observe:"),
			func(c *Config) any { return c.Experiments[0].Observe }, time.Minute},
		{"cooldown null gets the default", experimentDoc("guard: {cooldown: null}"),
			func(c *Config) any { return c.Guard.Cooldown }, Cooldown{Duration: 10 * time.Minute}},
		{"cooldown manual", experimentDoc("guard: {cooldown: manual}"),
			func(c *Config) any { return c.Guard.Cooldown }, Cooldown{Manual: true}},
		{"cooldown 0s is honoured", experimentDoc("guard: {cooldown: 0s}"),
			func(c *Config) any { return c.Guard.Cooldown }, Cooldown{}},
		{"paused revert", experimentDoc("paused: revert"),
			func(c *Config) any { return c.Paused }, PauseRevert},
		{"paused true as a YAML bool", experimentDoc("paused: true"),
			func(c *Config) any { return c.Paused }, Paused},
		{"paused false as a YAML bool", experimentDoc("paused: false"),
			func(c *Config) any { return c.Paused.IsPaused() }, false},
		{"paused as a string", experimentDoc(`paused: "True"`),
			func(c *Config) any { return c.Paused }, Paused},
		{"maxUnavailablePerWorkload as a YAML int", experimentDoc("policies: {default: {maxUnavailablePerWorkload: 1}}"),
			func(c *Config) any { return c.Policies["default"].MaxUnavailablePerWorkload }, IntOrPercent{Set: true, Value: 1}},
		{"maxUnavailablePerWorkload as a percentage", experimentDoc("policies: {default: {maxUnavailablePerWorkload: 34%}}"),
			func(c *Config) any { return c.Policies["default"].MaxUnavailablePerWorkload }, IntOrPercent{Set: true, Value: 34, Percent: true}},
		{"respectPodDisruptionBudgets defaults to true", experimentDoc("policies: {default: {}}"),
			func(c *Config) any { return c.PolicyFor(c.Experiments[0]).RespectsPDBs() }, true},
		{"respectPodDisruptionBudgets false", experimentDoc("policies: {default: {respectPodDisruptionBudgets: false}}"),
			func(c *Config) any { return c.PolicyFor(c.Experiments[0]).RespectsPDBs() }, false},
		{"experiment dryRun overrides global", experimentDoc("dryRun: true", "dryRun: false"),
			func(c *Config) any { return c.Experiments[0].IsDryRun(c.DryRun) }, false},
		{"timezone location", experimentDoc("timezone: Europe/Berlin"),
			func(c *Config) any { return c.Location().String() }, "Europe/Berlin"},
		{"unknownAfter follows pollInterval", experimentDoc("guard: {pollInterval: 2s}"),
			func(c *Config) any { return c.Guard.UnknownAfter }, 6 * time.Second},
		{"zone label default", experimentDoc("", "target: {kind: zone}", "action: {type: node-cordon}", "duration: 1m"),
			func(c *Config) any { return c.Experiments[0].Target.Label }, DefaultZoneLabel},
		{"node-drain defaults", experimentDoc("", "target: {kind: node}", "action: {type: node-drain}", "duration: 1m"),
			func(c *Config) any {
				a := c.Experiments[0].Action
				return [2]any{a.Timeout, *a.IgnoreDaemonSets}
			}, [2]any{2 * time.Minute, true}},
		{"http-load defaults", experimentDoc("", "target: {kind: url, url: http://x}", "action: {type: http-load}"),
			func(c *Config) any {
				a := c.Experiments[0].Action
				return [3]any{a.Method, a.Concurrency, a.Duration}
			}, [3]any{"GET", 10, 10 * time.Second}},
		{"notification events default", experimentDoc("notifications: {slack: {webhookURLEnv: SLACK}}"),
			func(c *Config) any { return slices.Equal(c.Notifications.Slack.On, DefaultNotifyOn) }, true},
		{"alertmanager notification url from the guard", experimentDoc(
			"guard: {alertmanager: {url: http://am:9093}}\nnotifications: {alertmanager: {raiseOnWeakness: true}}"),
			func(c *Config) any { return c.Notifications.Alertmanager.URL }, "http://am:9093"},
		{"http-fault spelled out", experimentDoc("", "target: {kind: virtualservice}",
			"action: {type: http-abort, status: 503}", "duration: 1m"),
			func(c *Config) any {
				abort, delay := c.Experiments[0].Action.HTTPFault()
				return [2]any{*abort, delay == nil}
			}, [2]any{AbortSpec{Status: 503, Percent: 100}, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, tc.doc)
			if got := tc.get(cfg); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
