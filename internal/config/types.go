// Package config owns chaosd's configuration: the typed model, loading it from
// YAML with koanf, strict validation that reports every problem at once, and
// hot reload of the file mounted from a ConfigMap.
//
// A *Config handed out by this package is a validated, defaulted snapshot: the
// rest of chaosd never re-validates it and never reads config from anywhere
// else. This package must never talk to a cluster.
package config

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Config is the whole chaosd configuration, usually mounted from a ConfigMap.
type Config struct {
	// Timezone in which cron schedules and windows are evaluated (IANA name).
	Timezone string `koanf:"timezone"`
	// Paused stops new runs (true), or stops them and reverts every active
	// fault (revert). Edited with kubectl as the manual kill switch.
	Paused PauseMode `koanf:"paused"`
	// DryRun picks and logs targets but changes nothing in the cluster.
	DryRun bool `koanf:"dryRun"`
	// MaxConcurrentRuns caps simultaneous runs across all experiments.
	MaxConcurrentRuns int `koanf:"maxConcurrentRuns"`
	// Windows limits when chaos may run at all.
	Windows Windows `koanf:"windows"`
	// Guard decides, from Prometheus and Alertmanager, whether a run may
	// start, must halt, and what its verdict is.
	Guard Guard `koanf:"guard"`
	// Policies are reusable blast-radius policies referenced by experiments.
	Policies map[string]Policy `koanf:"policies"`
	// Experiments are what chaosd breaks, and when.
	Experiments []Experiment `koanf:"experiments"`
	// Notifications says who hears about runs.
	Notifications Notifications `koanf:"notifications"`
	// Journal says where run journals are kept and for how long.
	Journal Journal `koanf:"journal"`

	loc *time.Location // parsed Timezone, set by validation
}

// Windows restricts activations to weekdays and hours, minus blackout dates,
// all in Config.Timezone. An empty Windows allows every time.
type Windows struct {
	// Weekdays as Mon, Tue, ... Sun; empty means every day.
	Weekdays []Weekday `koanf:"weekdays"`
	// Hours as "HH:MM-HH:MM"; an end before the start wraps past midnight.
	Hours HourRange `koanf:"hours"`
	// BlackoutDates as YYYY-MM-DD on which nothing runs.
	BlackoutDates []Date `koanf:"blackoutDates"`
}

// Guard configures the monitoring that judges every run.
type Guard struct {
	Alertmanager *AlertmanagerGuard `koanf:"alertmanager"`
	Prometheus   *PrometheusGuard   `koanf:"prometheus"`
	// PollInterval is how often the guard is evaluated during a run.
	PollInterval time.Duration `koanf:"pollInterval"`
	// Timeout bounds every single call to Prometheus or Alertmanager.
	Timeout time.Duration `koanf:"timeout"`
	// OnUnknown is what happens to an active fault when the guard cannot be
	// evaluated for longer than UnknownAfter: revert, pause or ignore.
	OnUnknown UnknownPolicy `koanf:"onUnknown"`
	// UnknownAfter defaults to three poll intervals.
	UnknownAfter time.Duration `koanf:"unknownAfter"`
	// Cooldown after a weakness: a duration, or "manual" (until chaosd resume).
	Cooldown Cooldown `koanf:"cooldown"`
}

// AlertmanagerGuard blocks and halts runs while matching alerts are active.
type AlertmanagerGuard struct {
	URL string `koanf:"url"`
	// Block lists matchers ('severity=~"critical|warning"'); an active alert
	// matching all of them blocks. Empty blocks on every active alert.
	Block []string `koanf:"block"`
	// Ignore lists matchers; an alert matching all of them never blocks.
	// chaosd's own ChaosWeaknessFound alerts are always ignored.
	Ignore []string `koanf:"ignore"`
}

// PrometheusGuard evaluates PromQL checks before, during and after a run.
type PrometheusGuard struct {
	URL    string  `koanf:"url"`
	Checks []Check `koanf:"checks"`
	// BlockPending makes alerts still pending in Prometheus block a start.
	BlockPending bool `koanf:"blockPending"`
}

// Check is a PromQL expression that must hold. With Empty it must return no
// samples; otherwise every sample must lie within [Min, Max] and a result with
// no samples counts as unknown, never as healthy.
type Check struct {
	Name  string   `koanf:"name"`
	Expr  string   `koanf:"expr"`
	Min   *float64 `koanf:"min"`
	Max   *float64 `koanf:"max"`
	Empty bool     `koanf:"empty"`
}

// Policy is a blast-radius policy: how much may break at once.
type Policy struct {
	// ExcludeNamespaces are never targeted. kube-system and chaosd's own
	// namespace are always excluded unless listed in AllowNamespaces.
	ExcludeNamespaces []string `koanf:"excludeNamespaces"`
	// AllowNamespaces lifts the built-in exclusion of kube-system and
	// chaosd's own namespace.
	AllowNamespaces []string `koanf:"allowNamespaces"`
	// MaxUnavailablePerWorkload, as a count or a percentage of the workload's
	// desired replicas, counting pods that are already unavailable.
	MaxUnavailablePerWorkload IntOrPercent `koanf:"maxUnavailablePerWorkload"`
	// MinReadyNodes that must stay Ready and schedulable after a node fault.
	MinReadyNodes int `koanf:"minReadyNodes"`
	// RespectPodDisruptionBudgets refuses pods whose PDB allows no disruption.
	RespectPodDisruptionBudgets *bool `koanf:"respectPodDisruptionBudgets"`
	// MinPodAge: younger pods are never targeted.
	MinPodAge time.Duration `koanf:"minPodAge"`
	// AllowControlPlane permits node faults on control-plane nodes.
	AllowControlPlane bool `koanf:"allowControlPlane"`
}

// RespectsPDBs reports whether PodDisruptionBudgets are honoured (default yes).
func (p Policy) RespectsPDBs() bool {
	return p.RespectPodDisruptionBudgets == nil || *p.RespectPodDisruptionBudgets
}

// Experiment is one kind of fault run on a schedule against random targets.
type Experiment struct {
	Name string `koanf:"name"`
	// Schedule in robfig/cron syntax: five fields, @every, @hourly, CRON_TZ=.
	Schedule string `koanf:"schedule"`
	// Jitter delays each activation by a uniform random 0..Jitter.
	Jitter time.Duration `koanf:"jitter"`
	// Policy names an entry of Config.Policies; empty means "default" when
	// that exists, else no policy beyond the built-in exclusions.
	Policy string `koanf:"policy"`
	Target Target `koanf:"target"`
	Action Action `koanf:"action"`
	// Duration the fault is held before it is reverted.
	Duration time.Duration `koanf:"duration"`
	// Observe is the window after the revert in which the guard judges.
	Observe time.Duration `koanf:"observe"`
	// DryRun overrides Config.DryRun for this experiment when set.
	DryRun *bool `koanf:"dryRun"`
	// Disabled experiments are validated but never scheduled.
	Disabled bool `koanf:"disabled"`

	schedule cron.Schedule // parsed Schedule, set by validation
}

// IsDryRun reports whether this experiment runs without changing anything.
func (e Experiment) IsDryRun(global bool) bool {
	if e.DryRun != nil {
		return *e.DryRun
	}
	return global
}

// TargetKind names what an experiment hits.
type TargetKind string

const (
	TargetPod            TargetKind = "pod"
	TargetVirtualService TargetKind = "virtualservice"
	TargetNode           TargetKind = "node"
	TargetZone           TargetKind = "zone"
	TargetURL            TargetKind = "url"
)

// Target selects the candidates an experiment may hit. Selectors combine
// with AND; the opt-out annotation chaosd.io/exclude=true always wins.
type Target struct {
	Kind TargetKind `koanf:"kind"`
	// Namespaces to look in (pods, virtualservices); empty means all
	// namespaces the policy allows.
	Namespaces []string `koanf:"namespaces"`
	// NamespaceSelector is a label selector on namespaces.
	NamespaceSelector string `koanf:"namespaceSelector"`
	// Selector is a label selector on the targets themselves (for nodes
	// and zones, on nodes).
	Selector string `koanf:"selector"`
	// OptIn requires chaosd.io/enabled=true on the target, its workload or
	// its namespace.
	OptIn bool `koanf:"optIn"`
	// OwnerKinds limits pods to those owned by these kinds: Deployment,
	// StatefulSet, DaemonSet, ReplicaSet, Pod (a bare pod).
	OwnerKinds []string `koanf:"ownerKinds"`
	// PodNamespace limits nodes to those running a pod of this namespace.
	PodNamespace string `koanf:"podNamespace"`
	// Label is the node label that defines a zone (zones only).
	Label string `koanf:"label"`
	// URL is the endpoint of a load burst (url only).
	URL string `koanf:"url"`
	// Mode says how many of the eligible candidates are hit.
	Mode Mode `koanf:"mode"`
}

// ActionType names a fault.
type ActionType string

const (
	ActionPodKill    ActionType = "pod-kill"
	ActionHTTPAbort  ActionType = "http-abort"
	ActionHTTPDelay  ActionType = "http-delay"
	ActionHTTPFault  ActionType = "http-fault"
	ActionNodeCordon ActionType = "node-cordon"
	ActionNodeDrain  ActionType = "node-drain"
	ActionNodeDelete ActionType = "node-delete"
	ActionHTTPLoad   ActionType = "http-load"
)

// Action is the fault applied to each chosen target. Which fields apply
// depends on Type; validation rejects fields that don't belong.
type Action struct {
	Type ActionType `koanf:"type"`

	// pod-kill: GracePeriod defaults to the pod's own; Method is delete
	// (default) or evict (through the Eviction API, so PDBs apply).
	// http-load: Method is the HTTP method (default GET).
	GracePeriod *time.Duration `koanf:"gracePeriod"`
	Method      string         `koanf:"method"`

	// http-abort: Status and Percent. http-delay: Delay and Percent.
	// http-fault: an abort block and/or a fixedDelay block,, both applied together.
	Status     int            `koanf:"status"`
	Percent    *float64       `koanf:"percent"`
	Delay      time.Duration  `koanf:"delay"`
	Abort      *AbortSpec     `koanf:"abort"`
	FixedDelay *DelaySpec     `koanf:"fixedDelay"`
	Route      *RouteSelector `koanf:"route"`

	// node-drain (and zones): what drain may evict, and how long it may take.
	DeleteEmptyDirData bool          `koanf:"deleteEmptyDirData"`
	IgnoreDaemonSets   *bool         `koanf:"ignoreDaemonSets"`
	Timeout            time.Duration `koanf:"timeout"`

	// node-delete: re-create the Node from its snapshot after Duration.
	Restore bool `koanf:"restore"`

	// http-load: a bounded burst.
	Concurrency int               `koanf:"concurrency"`
	Rate        int               `koanf:"rate"`
	Duration    time.Duration     `koanf:"duration"`
	Headers     map[string]string `koanf:"headers"`
	Body        string            `koanf:"body"`
}

// AbortSpec aborts a percentage of requests with an HTTP status.
type AbortSpec struct {
	Status  int     `koanf:"status"`
	Percent float64 `koanf:"percent"`
}

// DelaySpec delays a percentage of requests by a fixed duration.
type DelaySpec struct {
	Delay   time.Duration `koanf:"delay"`
	Percent float64       `koanf:"percent"`
}

// RouteSelector limits an HTTP fault to routes whose destination matches.
type RouteSelector struct {
	Host   string `koanf:"host"`
	Subset string `koanf:"subset"`
}

// HTTPFault returns the abort and delay an http-* action injects, whichever
// of the three spellings was used. Both are nil for other action types.
func (a Action) HTTPFault() (*AbortSpec, *DelaySpec) {
	pct := 100.0
	if a.Percent != nil {
		pct = *a.Percent
	}
	switch a.Type {
	case ActionHTTPAbort:
		return &AbortSpec{Status: a.Status, Percent: pct}, nil
	case ActionHTTPDelay:
		return nil, &DelaySpec{Delay: a.Delay, Percent: pct}
	case ActionHTTPFault:
		return a.Abort, a.FixedDelay
	}
	return nil, nil
}

// Notifications configures who hears about runs. Secrets are read from a
// file or an environment variable, never written into the config itself.
type Notifications struct {
	Slack        *SlackNotification        `koanf:"slack"`
	Webhook      *WebhookNotification      `koanf:"webhook"`
	Alertmanager *AlertmanagerNotification `koanf:"alertmanager"`
}

// Event names what a notification can be sent for.
type Event string

const (
	EventStarted  Event = "started"
	EventFinished Event = "finished"
	EventWeakness Event = "weakness"
	EventError    Event = "error"
	EventPaused   Event = "paused"
	EventResumed  Event = "resumed"
)

// SlackNotification posts Block Kit messages to an incoming webhook.
type SlackNotification struct {
	WebhookURLFile string  `koanf:"webhookURLFile"`
	WebhookURLEnv  string  `koanf:"webhookURLEnv"`
	On             []Event `koanf:"on"`
}

// WebhookNotification posts chaosd's JSON payload to a URL.
type WebhookNotification struct {
	URL     string  `koanf:"url"`
	URLFile string  `koanf:"urlFile"`
	URLEnv  string  `koanf:"urlEnv"`
	On      []Event `koanf:"on"`
}

// AlertmanagerNotification raises chaosd's own ChaosWeaknessFound alert.
type AlertmanagerNotification struct {
	RaiseOnWeakness bool `koanf:"raiseOnWeakness"`
	// URL defaults to guard.alertmanager.url.
	URL string `koanf:"url"`
	// ExternalURL is chaosd's own address, used for report links.
	ExternalURL string `koanf:"externalURL"`
}

// Journal configures where run journals are written and how many are kept.
type Journal struct {
	Dir      string `koanf:"dir"`
	MaxRuns  int    `koanf:"maxRuns"`
	MaxBytes int64  `koanf:"maxBytes"`
}
