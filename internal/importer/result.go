package importer

import (
	"os"
	"time"
)

// File is one input document, YAML or JSON.
type File struct {
	Name string
	Data []byte
}

// Result is a translated configuration.
type Result struct {
	// Config is a chaosd config in YAML that config.Parse accepts.
	Config []byte
	// Warnings are constructs that could not be translated faithfully; the
	// user must read every one before running the config.
	Warnings []Warning
	// Notes are deliberate differences that need no action, such as a
	// rollback that chaosd's automatic revert already covers.
	Notes []Warning
}

// Warning is one finding of a translation: a stable code ("W004"), a name
// ("named-virtualservice") and a message naming the construct it is about.
type Warning struct {
	Code    string
	Name    string
	Message string
}

func (w Warning) String() string { return w.Code + " " + w.Name + ": " + w.Message }

// kind is a Warning's code and name; the message is added per finding.
type kind struct{ code, name string }

// Warnings: the config does less than, or something else than, the input.
var (
	wUnsupportedProvider = kind{"W001", "unsupported-provider"}
	wUnsupportedProbe    = kind{"W002", "unsupported-probe"}
	wUnsupportedTol      = kind{"W003", "unsupported-tolerance"}
	wNamedVS             = kind{"W004", "named-virtualservice"}
	wUnsupportedFilter   = kind{"W005", "unsupported-filter"}
	wUnresolvedVariable  = kind{"W006", "unresolved-variable"}
	wUnsupportedArgument = kind{"W007", "unsupported-argument"}
	wUnsupportedRollback = kind{"W008", "unsupported-rollback"}
	wUnsupportedFlag     = kind{"W009", "unsupported-flag"}
	wSplitExperiment     = kind{"W010", "split-experiment"}
	wNothingToRun        = kind{"W011", "nothing-to-run"}
	wWindowNarrowed      = kind{"W012", "window-narrowed"}
	wNotRandom           = kind{"W013", "order-not-random"}
	wApproxSchedule      = kind{"W014", "approximated-schedule"}
	wUnsupportedSection  = kind{"W015", "unsupported-section"}
	wInvalidValue        = kind{"W016", "invalid-value"}
	wExpiringDates       = kind{"W017", "expiring-dates"}
	wOptInAnnotation     = kind{"W018", "opt-in-annotation"}
	wNoApps              = kind{"W019", "no-apps"}
	wRunOutlasts         = kind{"W020", "run-outlasts-schedule"}
	wUnsupportedChaos    = kind{"W021", "unsupported-chaos"}
	wHTTPChaos           = kind{"W022", "http-chaos-not-converted"}
	wApproxMode          = kind{"W023", "approximated-mode"}
	wAssumedNamespace    = kind{"W024", "assumed-namespace"}
)

// Notes: chaosd does it differently on purpose; nothing to fix.
var (
	nAutomaticRevert    = kind{"N001", "automatic-revert"}
	nDefaultSchedule    = kind{"N002", "default-schedule"}
	nAssumedGuard       = kind{"N003", "assumed-guard"}
	nDryRun             = kind{"N004", "dry-run"}
	nResolvedVariable   = kind{"N005", "resolved-variable"}
	nIgnoredFlag        = kind{"N006", "ignored-setting"}
	nBuiltInExclusion   = kind{"N007", "built-in-exclusion"}
	nDefaultDuration    = kind{"N008", "default-duration"}
	nSkippedApp         = kind{"N009", "skipped-app"}
	nNamedNode          = kind{"N010", "named-node"}
	nMergedFault        = kind{"N011", "merged-http-fault"}
	nIdentifierSelector = kind{"N012", "identifier-selector"}
	nDeprecatedAlias    = kind{"N013", "deprecated-alias"}
	nDriverIgnored      = kind{"N014", "ignored-by-source"}
	nRunningOnly        = kind{"N015", "running-pods-only"}
	nScheduleTimezone   = kind{"N016", "schedule-timezone"}
)

// Options tune a translation. The zero value is ready to use.
type Options struct {
	// LookupEnv resolves Chaos Toolkit `type: env` configuration; nil means
	// os.LookupEnv.
	LookupEnv func(key string) (string, bool)
	// Now anchors dates that the source tools repeat every year (chaoskube
	// --excluded-days-of-year); nil means time.Now.
	Now func() time.Time
	// Schedule and Jitter for imported one-shot experiments (Chaos Toolkit,
	// a Chaos Mesh PodChaos outside a Schedule);
	// defaults "@every 1h" and 10m.
	Schedule string
	Jitter   time.Duration
	// AlertmanagerURL for the guard every imported config gets; default
	// http://alertmanager.monitoring:9093.
	AlertmanagerURL string
	// PrometheusURL for guard checks when the experiments don't name one
	// (prometheus_base_url); default http://prometheus.monitoring:9090.
	PrometheusURL string
	// Live leaves dryRun off in configs imported from Chaos Toolkit and
	// Chaos Mesh. By
	// default they start in dry run: a one-shot experiment becomes a
	// recurring one, which deserves a look at `chaosd plan` first.
	Live bool
}

const (
	defaultSchedule        = "@every 1h"
	defaultJitter          = 10 * time.Minute
	defaultAlertmanagerURL = "http://alertmanager.monitoring:9093"
	defaultPrometheusURL   = "http://prometheus.monitoring:9090"
)

func (o Options) withDefaults() Options {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Schedule == "" {
		o.Schedule = defaultSchedule
		if o.Jitter == 0 {
			o.Jitter = defaultJitter
		}
	}
	if o.AlertmanagerURL == "" {
		o.AlertmanagerURL = defaultAlertmanagerURL
	}
	if o.PrometheusURL == "" {
		o.PrometheusURL = defaultPrometheusURL
	}
	return o
}

// ChaosToolkit translates Chaos Toolkit experiments with default Options.
func ChaosToolkit(files ...File) (Result, error) { return Options{}.ChaosToolkit(files...) }

// Chaoskube translates chaoskube's command-line flags with default Options.
func Chaoskube(args []string) (Result, error) { return Options{}.Chaoskube(args) }

// ChaosMesh translates Chaos Mesh objects with default Options.
func ChaosMesh(files ...File) (Result, error) { return Options{}.ChaosMesh(files...) }

// KubeMonkey translates kube-monkey's settings with default Options.
func KubeMonkey(env map[string]string, apps ...App) (Result, error) {
	return Options{}.KubeMonkey(env, apps...)
}
