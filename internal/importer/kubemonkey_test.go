package importer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readApps(t *testing.T) []App {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "kubemonkey", "apps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	apps, err := KubeMonkeyApps(data)
	if err != nil {
		t.Fatal(err)
	}
	return apps
}

func TestKubeMonkeyGolden(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		toml     string // testdata/kubemonkey file read instead of env
		apps     bool
		warnings []string
		notes    []string
	}{
		{name: "defaults without apps", warnings: []string{"W019"}, notes: []string{"N003", "N004", "N006"}},
		{
			name: "book apps",
			env: map[string]string{
				"KUBEMONKEY_DRY_RUN": "false", "KUBEMONKEY_RUN_HOUR": "7", "KUBEMONKEY_START_HOUR": "9", "KUBEMONKEY_END_HOUR": "17",
				"KUBEMONKEY_TIME_ZONE": "Europe/London", "KUBEMONKEY_BLACKLISTED_NAMESPACES": "kube-system,monitoring",
				"KUBEMONKEY_WHITELISTED_NAMESPACES": "", "KUBEMONKEY_GRACEPERIOD_SEC": "10",
			},
			apps:     true,
			warnings: []string{"W014", "W016"},
			notes:    []string{"N003", "N006", "N009", "N012"},
		},
		{
			name: "whitelist patterns and debug mode",
			env: map[string]string{
				"KUBEMONKEY_WHITELISTED_NAMESPACES": `["team-*", "go-demo-8"]`, "KUBEMONKEY_BLACKLISTED_NAMESPACES": `[""]`,
				"DEBUG_ENABLED": "true", "DEBUG_SCHEDULE_IMMEDIATE_KILL": "true", "KUBEMONKEY_NOTIFICATIONS_ENABLED": "true",
			},
			warnings: []string{"W005", "W009", "W019"},
			notes:    []string{"N003", "N004", "N006", "N007"},
		},
		{
			// Class 7: [notifications] and [kubernetes] are named, not
			// dropped: enabled notifications are a warning, the API host a note.
			name: "readme notifications", toml: "readme-notifications.toml", apps: true,
			warnings: []string{"W014", "W015", "W016"},
			notes:    []string{"N003", "N004", "N006", "N009", "N012"},
		},
		{
			// The chart's own config.toml: notifications off, debug off.
			name: "helm chart defaults", toml: "helm-chart-defaults.toml", apps: true,
			warnings: []string{"W014", "W016"},
			notes:    []string{"N003", "N004", "N006", "N009", "N012"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var apps []App
			if tt.apps {
				apps = readApps(t)
			}
			if tt.toml != "" {
				data, err := os.ReadFile(filepath.Join("testdata", "kubemonkey", tt.toml))
				if err != nil {
					t.Fatal(err)
				}
				if tt.env, err = KubeMonkeyTOML(data); err != nil {
					t.Fatal(err)
				}
			}
			res, err := testOptions(nil).KubeMonkey(tt.env, apps...)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, tt.warnings, tt.notes, filepath.Join("kubemonkey", dnsLabel(tt.name)+".golden"))
		})
	}
}

func TestKubeMonkeyModes(t *testing.T) {
	res, err := testOptions(nil).KubeMonkey(nil, readApps(t)...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, res)
	modes := map[string]string{}
	for _, e := range cfg.Experiments {
		modes[e.Name] = e.Target.Mode.String() + " " + e.Target.Selector
	}
	want := map[string]string{
		"kube-monkey-go-demo-8":    "one app=go-demo-8",
		"kube-monkey-go-demo-8-db": "all app=go-demo-8-db",
		"kube-monkey-repeater":     "percent:50 kube-monkey/identifier=repeater",
		"kube-monkey-agent":        "maxPercent:30 app=agent,tier=node",
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			if modes[name] != w {
				t.Errorf("got %q, want %q (all: %v)", modes[name], w, modes)
			}
		})
	}
}

func TestKubeMonkeySchedule(t *testing.T) {
	m := &monkeyConv{start: 10, end: 16}
	tests := []struct {
		mtbf, schedule, jitter string
	}{
		{"1", "0 10 * * 1-5", "5h59m"},
		{"2d", "0 10 * * 2,4", "5h59m"},
		{"3", "0 10 * * 3", "5h59m"},
		{"6", "0 10 1,11,21 * *", "5h59m"},
		{"10", "0 10 1,15 * *", "5h59m"},
		{"20", "0 10 1 * *", "5h59m"},
		{"60", "0 10 1 */2 *", "5h59m"},
		{"400", "0 10 1 1 *", "5h59m"},
		{"3h", "@every 3h", "1h30m"},
		{"30m", "@every 30m", "15m"},
	}
	for _, tt := range tests {
		t.Run(tt.mtbf, func(t *testing.T) {
			s, j, err := m.fromMTBF(tt.mtbf)
			if err != nil || s != tt.schedule || formatDuration(j) != tt.jitter {
				t.Errorf("fromMTBF(%q) = %q, %s, %v; want %q, %s", tt.mtbf, s, formatDuration(j), err, tt.schedule, tt.jitter)
			}
		})
	}
	for _, bad := range []string{"", "0", "x", "2w", "-1"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			if _, _, err := m.fromMTBF(bad); err == nil {
				t.Errorf("fromMTBF(%q) accepted", bad)
			}
		})
	}
}

func TestKubeMonkeyErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "hour out of range", env: map[string]string{"KUBEMONKEY_START_HOUR": "25"}, want: "KUBEMONKEY_START_HOUR"},
		{name: "start after end", env: map[string]string{"KUBEMONKEY_START_HOUR": "17", "KUBEMONKEY_END_HOUR": "9"}, want: "before end hour"},
		{name: "dry run not a bool", env: map[string]string{"KUBEMONKEY_DRY_RUN": "maybe"}, want: "KUBEMONKEY_DRY_RUN"},
		{name: "grace period not a number", env: map[string]string{"KUBEMONKEY_GRACEPERIOD_SEC": "5s"}, want: "KUBEMONKEY_GRACEPERIOD_SEC"},
		{name: "unknown time zone", env: map[string]string{"KUBEMONKEY_TIME_ZONE": "Mars/Olympus"}, want: "time zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testOptions(nil).KubeMonkey(tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	t.Run("no enabled app", func(t *testing.T) {
		res, err := testOptions(nil).KubeMonkey(nil, App{Name: "off", Labels: map[string]string{kmEnabled: "disabled"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(res.Warnings); !slices.Equal(got, []string{"W011"}) {
			t.Errorf("warnings %v", got)
		}
	})
	t.Run("manifest not YAML", func(t *testing.T) {
		if _, err := KubeMonkeyApps([]byte("kind: [")); err == nil {
			t.Error("accepted")
		}
	})
}

func TestKubeMonkeyTOML(t *testing.T) {
	// The full example of kube-monkey's configuration reference.
	data := []byte(`[kubemonkey]
dry_run = true                           # Terminations are only logged
run_hour = 8                             # Build the day's schedule at 8am
start_hour = 10
end_hour = 16
blacklisted_namespaces = ["kube-system", "monitoring"]
whitelisted_namespaces = [""]            # Every namespace
time_zone = "America/New_York"           # Note the field is time_zone
[debug]
enabled = true
schedule_immediate_kill = true
`)
	env, err := KubeMonkeyTOML(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"KUBEMONKEY_DRY_RUN": "true", "KUBEMONKEY_RUN_HOUR": "8", "KUBEMONKEY_START_HOUR": "10", "KUBEMONKEY_END_HOUR": "16",
		"KUBEMONKEY_BLACKLISTED_NAMESPACES": "kube-system,monitoring", "KUBEMONKEY_WHITELISTED_NAMESPACES": "",
		"KUBEMONKEY_TIME_ZONE": "America/New_York", "DEBUG_ENABLED": "true", "DEBUG_SCHEDULE_IMMEDIATE_KILL": "true",
	}
	for k, v := range want {
		t.Run(k, func(t *testing.T) {
			if env[k] != v {
				t.Errorf("%s = %q, want %q", k, env[k], v)
			}
		})
	}
	t.Run("translates", func(t *testing.T) {
		res, err := testOptions(nil).KubeMonkey(env)
		if err != nil {
			t.Fatal(err)
		}
		if cfg := mustParse(t, res); cfg.Timezone != "America/New_York" || !cfg.DryRun {
			t.Errorf("timezone %s dryRun %v", cfg.Timezone, cfg.DryRun)
		}
	})
	for _, bad := range []string{"just words", `a = "open`, "a = [1, 2"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			if _, err := KubeMonkeyTOML([]byte(bad)); err == nil {
				t.Error("accepted")
			}
		})
	}
}
