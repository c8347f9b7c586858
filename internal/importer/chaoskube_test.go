package importer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestChaoskubeGolden(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		warnings []string
		notes    []string
	}{
		{name: "defaults", args: nil, notes: []string{"N003", "N004", "N007"}},
		{
			// The example Deployment in chaoskube's README.
			name: "readme",
			args: []string{
				"--interval=10m", "--labels=environment=test", "--annotations=chaos.alpha.kubernetes.io/enabled=true",
				"--namespaces=!kube-system", "--excluded-weekdays=Sat,Sun", "--excluded-times-of-day=22:00-08:00,11:00-13:00",
				"--excluded-days-of-year=Apr1,Dec24", "--timezone=Europe/Berlin", "--minimum-age=1h",
			},
			warnings: []string{"W012", "W017", "W018"},
			notes:    []string{"N003", "N004"},
		},
		{
			name: "live with namespaces, kinds and a bigger kill",
			args: []string{
				"--no-dry-run", "--interval", "5m", "--namespaces", "default,testing,!production", "--namespace-labels=!integration",
				"--kinds=!DaemonSet,!StatefulSet", "--max-kill=3", "--grace-period=30s", "--excluded-times-of-day=18:00-08:00",
				"--log-format=json", "--metrics-address=:8080",
			},
			notes: []string{"N003", "N006"},
		},
		{
			name:     "pod name filters disable the experiment",
			args:     []string{"--included-pod-names=foo|bar", "--excluded-pod-names=prod", "--namespaces=kube-system", "--kinds=ReplicaSet,Job"},
			warnings: []string{"W005"},
			notes:    []string{"N003", "N004", "N007"},
		},
		{
			name:     "flags without an equivalent",
			args:     []string{"--dynamic-interval", "--max-runtime=1h", "--slack-webhook=https://hooks.slack.com/x", "--bogus=1", "--interval=1500ms", "--timezone=Local"},
			warnings: []string{"W009", "W016", "W020"},
			notes:    []string{"N003", "N004", "N007"},
		},
		{
			// Class 5. The args of linki/chaoskube examples/deployment/chaoskube.yaml
			// at 58fc0b1d964a71d8bb9b9dd2e2e565c9dcde18c6 (v0.39.1), verbatim:
			// --kinds=!DaemonSet keeps pods of Jobs, ReplicationControllers and
			// custom controllers, so it becomes excludeOwnerKinds, no allow-list.
			name: "upstream example deployment",
			args: []string{
				"--interval=10m", "--labels=environment=test", "--annotations=chaos.alpha.kubernetes.io/enabled=true",
				"--kinds=!DaemonSet", "--namespaces=!kube-system", "--excluded-weekdays=Sat,Sun",
				"--excluded-times-of-day=22:00-08:00,11:00-13:00", "--excluded-days-of-year=Apr1,Dec24", "--timezone=UTC",
				"--minimum-age=1h", "--no-dry-run",
			},
			warnings: []string{"W012", "W017", "W018"},
			notes:    []string{"N003"},
		},
		{
			// chaoskube compares the direct owner: !Deployment excludes nothing.
			name:  "excluding Deployment excludes nothing, as in chaoskube",
			args:  []string{"--kinds=!Deployment,!Job", "--labels=app=nginx"},
			notes: []string{"N003", "N004", "N007", "N014"},
		},
		{
			// Likewise an included Deployment includes no pod in chaoskube.
			name:  "including Deployment includes nothing, as in chaoskube",
			args:  []string{"--kinds=Deployment,StatefulSet", "--labels=app=nginx"},
			notes: []string{"N003", "N004", "N007", "N014"},
		},
		{
			// chaoskube kills every --interval; a chaosd run lasts its
			// observe window (1m by default), so 30s would silently halve
			// the rate: a named warning, from chaosd's own validation.
			name:     "interval shorter than a chaosd run",
			args:     []string{"--interval=30s", "--labels=app=nginx"},
			warnings: []string{"W020"},
			notes:    []string{"N003", "N004", "N007"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := testOptions(nil).Chaoskube(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, tt.warnings, tt.notes, filepath.Join("chaoskube", dnsLabel(tt.name)+".golden"))
		})
	}
}

// A flag given twice makes chaoskube's kingpin refuse to start ("flag
// 'interval' cannot be repeated"), so the importer refuses it too.
func TestChaoskubeRefusesRepeatedFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"value flag":            {"--interval=10m", "--labels=app=a", "--interval", "5m"},
		"bool and its negation": {"--dry-run", "--no-dry-run"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := testOptions(nil).Chaoskube(args)
			if err == nil || !strings.Contains(err.Error(), "given twice") {
				t.Fatalf("error %v, want one naming the repeated flag", err)
			}
		})
	}
}

func TestChaoskubeMapping(t *testing.T) {
	res, err := testOptions(nil).Chaoskube([]string{
		"--no-dry-run", "--interval=2m", "--labels=app=demo", "--namespaces=a,b,!c", "--kinds=ReplicaSet",
		"--excluded-weekdays=sat,SUN", "--excluded-times-of-day=17:00-09:00", "--minimum-age=30m", "--max-kill=2",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, res)
	e := cfg.Experiments[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"dry run off", cfg.DryRun, false},
		{"schedule", e.Schedule, "@every 2m"},
		{"selector", e.Target.Selector, "app=demo"},
		{"namespaces", strings.Join(e.Target.Namespaces, ","), "a,b"},
		{"excluded namespace", strings.Join(cfg.Policies["default"].ExcludeNamespaces, ","), "c"},
		{"owner kinds", strings.Join(e.Target.OwnerKinds, ","), "Deployment,ReplicaSet"},
		{"weekdays", len(cfg.Windows.Weekdays), 5},
		{"hours", cfg.Windows.Hours.String(), "09:00-17:00"},
		{"minimum age", cfg.Policies["default"].MinPodAge.String(), "30m0s"},
		{"mode", e.Target.Mode.String(), "count:2"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestChaoskubeErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "positional argument", args: []string{"kill"}, want: "not a flag"},
		{name: "missing value", args: []string{"--labels"}, want: "needs a value"},
		{name: "invalid selector", args: []string{"--labels=a=("}, want: "label selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testOptions(nil).Chaoskube(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestAllowedHours(t *testing.T) {
	tests := []struct {
		name     string
		periods  []string
		want     string
		narrowed bool
	}{
		{name: "nothing excluded", want: ""},
		{name: "night excluded", periods: []string{"22:00-08:00"}, want: "08:00-22:00"},
		{name: "day excluded wraps", periods: []string{"08:00-20:00"}, want: "20:00-08:00"},
		{name: "two gaps keep the longest", periods: []string{"22:00-08:00", "11:00-13:00"}, want: "13:00-22:00", narrowed: true},
		{name: "morning excluded ends at midnight", periods: []string{"00:00-09:00"}, want: "09:00-24:00"},
		{name: "everything excluded", periods: []string{"00:00-12:00", "12:00-00:00"}, want: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, narrowed, err := allowedHours(tt.periods)
			if err != nil || got != tt.want || narrowed != tt.narrowed {
				t.Errorf("allowedHours(%v) = %q, %v, %v; want %q, %v", tt.periods, got, narrowed, err, tt.want, tt.narrowed)
			}
		})
	}
}

func TestYearlyDates(t *testing.T) {
	got, bad := yearlyDates([]string{"Apr1", "Feb29", "Dec 24", "Smarch3"}, 2027)
	want := []string{"2027-04-01", "2027-12-24", "2028-02-29", "2028-04-01", "2028-12-24", "2029-04-01", "2029-12-24"}
	if !slices.Equal(got, want) || !slices.Equal(bad, []string{"Smarch3"}) {
		t.Errorf("got %v bad %v, want %v", got, bad, want)
	}
}
