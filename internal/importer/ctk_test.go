package importer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
)

var ctkEnv = map[string]string{"NODE_LABEL": "kubernetes.io/os=linux", "TARGET_NAMESPACE": "shop"}

func TestChaosToolkitGolden(t *testing.T) {
	tests := []struct {
		file     string
		warnings []string
		notes    []string
	}{
		{file: "terminate-app.yaml", warnings: []string{"W002"}, notes: []string{"N002", "N003", "N004", "N005"}},
		{file: "terminate-db.yaml", notes: []string{"N002", "N003", "N004"}},
		{file: "health-prometheus.yaml", warnings: []string{"W002"}, notes: []string{"N002", "N003", "N004"}},
		{file: "abort-50.yaml", warnings: []string{"W004"}, notes: []string{"N001", "N002", "N003", "N004"}},
		{file: "abort-100.yaml", warnings: []string{"W004"}, notes: []string{"N001", "N002", "N003", "N004", "N008"}},
		{file: "abort-delay.yaml", warnings: []string{"W004"}, notes: []string{"N001", "N002", "N003", "N004", "N011"}},
		{file: "drain-node.yaml", notes: []string{"N001", "N002", "N003", "N004", "N005", "N014"}},
		{file: "delete-node.yaml", notes: []string{"N002", "N003", "N004", "N005", "N014"}},
		{file: "random-pod.yaml", notes: []string{"N002", "N003", "N004"}},
		{file: "pauses.yaml", warnings: []string{"W001", "W002"}, notes: []string{"N001", "N002", "N003", "N004", "N006"}},
		{file: "configuration-env.yaml", warnings: []string{"W006", "W010"}, notes: []string{"N002", "N003", "N004", "N005"}},
		{file: "unsupported.yaml", warnings: []string{"W001", "W002", "W003", "W008", "W011", "W015"}, notes: []string{"N002", "N003", "N004", "N006"}},
		{file: "name-pattern.yaml", warnings: []string{"W005", "W013"}, notes: []string{"N002", "N003", "N004"}},
		{file: "set-fault.json", warnings: []string{"W004", "W007"}, notes: []string{"N001", "N002", "N003", "N004"}},
		// Class 1: a jsonpath filter on the sample value becomes the PromQL
		// comparison keeping the same series; other filters are W003.
		{file: "prometheus-jsonpath-filters.yaml", warnings: []string{"W003"}, notes: []string{"N002", "N003", "N004"}},
		// Class 3: delete_pods runs terminate_pods(name_pattern=name), so it
		// converts like it (a name disables, a label selector maps), noted.
		{file: "delete-pods-deprecated.json", warnings: []string{"W005", "W010", "W013"}, notes: []string{"N002", "N003", "N004", "N006", "N013"}},
		// Class 2: both pod filters narrow the nodes in the driver; chaosd's
		// podNamespace alone would be wider, so the experiment is disabled.
		{file: "drain-by-pod-label.yaml", warnings: []string{"W005"}, notes: []string{"N001", "N002", "N003", "N004", "N008"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := testOptions(ctkEnv).ChaosToolkit(readFile(t, filepath.Join("testdata", "chaostoolkit", tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, tt.warnings, tt.notes, filepath.Join("chaostoolkit", strings.TrimSuffix(tt.file, filepath.Ext(tt.file))+".golden"))
		})
	}
}

// TestChaosToolkitAllInOne converts the whole corpus into one config:
// names stay unique and identical checks are not repeated.
func TestChaosToolkitAllInOne(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "chaostoolkit", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	var files []File
	for _, p := range paths {
		if !strings.HasSuffix(p, ".golden") {
			files = append(files, readFile(t, p))
			files = append(files, readFile(t, p)) // twice: names must stay unique
		}
	}
	res, err := testOptions(ctkEnv).ChaosToolkit(files...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, res)
	if n := len(cfg.Guard.Prometheus.Checks); n != 5 {
		t.Errorf("%d guard checks, want the 5 distinct ones", n)
	}
	if len(cfg.Experiments) < 2*len(files)/2 {
		t.Errorf("only %d experiments from %d files", len(cfg.Experiments), len(files))
	}
}

func TestChaosToolkitMapping(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, e config.Experiment)
	}{
		{
			name: "pause after a pod kill is the observe window", file: "terminate-db.yaml",
			check: func(t *testing.T, e config.Experiment) {
				if e.Observe.String() != "10s" || e.Duration != 0 || e.Action.GracePeriod == nil || *e.Action.GracePeriod != 0 {
					t.Errorf("observe %s duration %s grace %v", e.Observe, e.Duration, e.Action.GracePeriod)
				}
			},
		},
		{
			name: "pause after an abort is how long it is held", file: "abort-50.yaml",
			check: func(t *testing.T, e config.Experiment) {
				abort, _ := e.Action.HTTPFault()
				if e.Duration.String() != "1m0s" || e.Action.Type != config.ActionHTTPAbort || abort.Status != 500 || abort.Percent != 50 {
					t.Errorf("duration %s action %+v", e.Duration, e.Action)
				}
				if e.Action.Route == nil || e.Action.Route.Host != "go-demo-8" || e.Action.Route.Subset != "primary" {
					t.Errorf("route %+v", e.Action.Route)
				}
				if e.Target.Selector != importedVSLabel+"=go-demo-8" || !slices.Equal(e.Target.Namespaces, []string{"go-demo-8"}) {
					t.Errorf("target %+v", e.Target)
				}
			},
		},
		{
			name: "abort and delay become one http-fault", file: "abort-delay.yaml",
			check: func(t *testing.T, e config.Experiment) {
				abort, delay := e.Action.HTTPFault()
				if e.Action.Type != config.ActionHTTPFault || abort == nil || delay == nil || delay.Delay.String() != "15s" || e.Duration.String() != "2m0s" {
					t.Errorf("action %+v duration %s", e.Action, e.Duration)
				}
			},
		},
		{
			// chaosk8s filters nodes by pods only when pod_label_selector
			// comes with pod_namespace; alone, pod_namespace filters nothing.
			name: "drain keeps local storage and timeout, and ignores a lone pod namespace as the driver does", file: "drain-node.yaml",
			check: func(t *testing.T, e config.Experiment) {
				a := e.Action
				if a.Type != config.ActionNodeDrain || !a.DeleteEmptyDirData || a.Timeout.String() != "3m0s" || e.Target.PodNamespace != "" || e.Target.Selector != "kubernetes.io/os=linux" || e.Disabled {
					t.Errorf("experiment %+v", e)
				}
			},
		},
		{
			name: "pauses before and after are summed from the injection on", file: "pauses.yaml",
			check: func(t *testing.T, e config.Experiment) {
				if e.Duration.String() != "45s" || e.Target.Mode.Kind != config.ModeAll {
					t.Errorf("duration %s mode %s", e.Duration, e.Target.Mode)
				}
			},
		},
		{
			name: "a random pod anywhere in the namespace", file: "random-pod.yaml",
			check: func(t *testing.T, e config.Experiment) {
				if e.Target.Selector != "" || !slices.Equal(e.Target.Namespaces, []string{"go-demo-8"}) || e.Target.Mode.Kind != config.ModeOne {
					t.Errorf("target %+v", e.Target)
				}
			},
		},
		{
			name: "a name pattern disables rather than widens", file: "name-pattern.yaml",
			check: func(t *testing.T, e config.Experiment) {
				if !e.Disabled || e.Target.Mode.String() != "count:2" {
					t.Errorf("disabled %v mode %s", e.Disabled, e.Target.Mode)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := testOptions(ctkEnv).ChaosToolkit(readFile(t, filepath.Join("testdata", "chaostoolkit", tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			cfg := mustParse(t, res)
			if len(cfg.Experiments) != 1 {
				t.Fatalf("%d experiments, want 1", len(cfg.Experiments))
			}
			tt.check(t, cfg.Experiments[0])
		})
	}
}

func TestChaosToolkitOptions(t *testing.T) {
	file := readFile(t, filepath.Join("testdata", "chaostoolkit", "health-prometheus.yaml"))
	tests := []struct {
		name  string
		opts  Options
		check func(t *testing.T, cfg *config.Config)
	}{
		{
			name: "defaults: dry run, hourly with jitter, prometheus from the experiment",
			opts: testOptions(nil),
			check: func(t *testing.T, cfg *config.Config) {
				e := cfg.Experiments[0]
				if !cfg.DryRun || e.Schedule != "@every 1h" || e.Jitter.String() != "10m0s" {
					t.Errorf("dryRun %v schedule %q jitter %s", cfg.DryRun, e.Schedule, e.Jitter)
				}
				if cfg.Guard.Prometheus.URL != "http://prometheus.istio-system:9090" || cfg.Guard.Alertmanager.URL != defaultAlertmanagerURL {
					t.Errorf("guard %+v %+v", cfg.Guard.Prometheus, cfg.Guard.Alertmanager)
				}
			},
		},
		{
			name: "live, own schedule and alertmanager",
			opts: Options{Live: true, Schedule: "0 10 * * 1-5", AlertmanagerURL: "http://am:9093", LookupEnv: func(string) (string, bool) { return "", false }},
			check: func(t *testing.T, cfg *config.Config) {
				e := cfg.Experiments[0]
				if cfg.DryRun || e.Schedule != "0 10 * * 1-5" || e.Jitter != 0 || cfg.Guard.Alertmanager.URL != "http://am:9093" {
					t.Errorf("dryRun %v schedule %q jitter %s am %s", cfg.DryRun, e.Schedule, e.Jitter, cfg.Guard.Alertmanager.URL)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.opts.ChaosToolkit(file)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, mustParse(t, res))
		})
	}
}

func TestChaosToolkitErrors(t *testing.T) {
	tests := []struct {
		name  string
		files []File
		want  string
	}{
		{name: "no files", want: "no experiment files"},
		{name: "not YAML", files: []File{{Name: "x.yaml", Data: []byte("method: [")}}, want: "x.yaml"},
		{name: "not JSON", files: []File{{Name: "x.json", Data: []byte(`{"method": [}`)}}, want: "x.json"},
		{name: "duplicate keys, as in a merged file", files: []File{{Name: "all.yaml", Data: []byte("method: []\nmethod: []\n")}}, want: "all.yaml"},
		{name: "not an experiment", files: []File{{Name: "k.yaml", Data: []byte("kind: Deployment\n")}}, want: "not an experiment"},
		{name: "a selector chaosd rejects", files: []File{{Name: "bad.yaml", Data: []byte(`
method:
- type: action
  provider: {type: python, module: chaosk8s.pod.actions, func: terminate_pods, arguments: {label_selector: "a=(", rand: true}}
`)}}, want: "label selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testOptions(nil).ChaosToolkit(tt.files...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
