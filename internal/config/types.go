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
	// Concurrent runs share one blast radius: a run reserves what it picked
	// until it ends, and the others count that against their budgets.
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
	// Tracing exports every run as an OpenTelemetry trace; off unless set.
	Tracing Tracing `koanf:"tracing"`

	loc   *time.Location // parsed Timezone, set by validation
	hash  string         // SHA-256 of the source bytes, set by Parse
	file  string         // the name Parse was given, for ValidateScope's errors
	lines lineIndex      // key path to line, for ValidateScope's errors
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

// Guard configures the monitoring that judges every run. It needs
// alertmanager, prometheus or both; without either, nothing could block a
// start, halt a fault or find a weakness, so chaosd refuses the config
// unless unguarded opts out.
type Guard struct {
	// Alertmanager blocks and halts runs while matching alerts fire.
	Alertmanager *AlertmanagerGuard `koanf:"alertmanager"`
	// Prometheus evaluates PromQL checks before, during and after a run.
	Prometheus *PrometheusGuard `koanf:"prometheus"`
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
	// SLIs are the service level indicators every experiment is judged by,
	// baseline against fault; an experiment's own slis replace the entry of
	// the same name and add the others. They need guard.prometheus.
	SLIs []SLI `koanf:"slis"`
	// SLIBaseline is how far back before the injection the baseline window
	// of every SLI reaches.
	SLIBaseline time.Duration `koanf:"sliBaseline"`
	// SLIStep is the resolution of the SLIs' range queries: one sample per
	// step in the baseline and in the fault window.
	SLIStep time.Duration `koanf:"sliStep"`
	// PauseOnAlertGap pauses chaosd (with the cooldown) after an alert-gap
	// verdict, as after a weakness. By default an alert gap is reported
	// and chaos goes on: the system coped, only the alerting missed it.
	PauseOnAlertGap bool `koanf:"pauseOnAlertGap"`
	// ScoreWindow is how many of the most recent runs of each experiment
	// against each workload the resiliency score looks at; of those, only
	// passed, weakness and alert-gap runs count (docs/verdicts.md).
	ScoreWindow int `koanf:"scoreWindow"`
	// Unguarded runs experiments with neither alertmanager nor prometheus:
	// nothing blocks a start or halts a fault, and every run that completes
	// passes. Only for dry runs and demos; `chaosd validate` warns, and the
	// status says unguarded.
	Unguarded bool `koanf:"unguarded"`
}

// AlertmanagerGuard blocks and halts runs while matching alerts are active.
type AlertmanagerGuard struct {
	// URL of Alertmanager's API (v2), e.g. http://alertmanager.monitoring:9093.
	URL string `koanf:"url"`
	// Block lists matchers ('severity=~"critical|warning"'); an active alert
	// matching all of them blocks. Empty blocks on every active alert.
	Block []string `koanf:"block"`
	// Ignore lists matchers; an alert matching all of them never blocks.
	// chaosd's own ChaosWeaknessFound and ChaosAlertGapFound alerts are
	// always ignored.
	Ignore []string `koanf:"ignore"`
}

// PrometheusGuard evaluates PromQL checks before, during and after a run.
type PrometheusGuard struct {
	// URL of Prometheus' HTTP API, e.g. http://prometheus.monitoring:9090.
	URL string `koanf:"url"`
	// Checks must all hold for a run to start, continue and pass.
	Checks []Check `koanf:"checks"`
	// BlockPending makes alerts still pending in Prometheus block a start.
	BlockPending bool `koanf:"blockPending"`
}

// Check is a PromQL expression that must hold. With Empty it must return no
// samples; otherwise every sample must lie within [Min, Max] and a result with
// no samples counts as unknown, never as healthy.
type Check struct {
	// Name identifies the check in verdicts, logs and reports; unique.
	Name string `koanf:"name"`
	// Expr is the PromQL expression, evaluated as an instant query.
	Expr string `koanf:"expr"`
	// Min is the lowest value every sample may have.
	Min *float64 `koanf:"min"`
	// Max is the highest value every sample may have.
	Max *float64 `koanf:"max"`
	// Empty requires the query to return no samples (an alert-style
	// expression such as "... > 0.05"); it excludes Min and Max.
	Empty bool `koanf:"empty"`
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
	// A node with a NoSchedule or NoExecute taint (control-plane nodes, for
	// one) does not count, whatever tolerations some pods have.
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
	// Name identifies the experiment (a DNS label, unique): in chaosd once
	// NAME, metrics, logs and reports.
	Name string `koanf:"name"`
	// Schedule in robfig/cron syntax: five fields, @every, @hourly, CRON_TZ=.
	Schedule string `koanf:"schedule"`
	// Jitter delays each activation by a uniform random 0..Jitter.
	Jitter time.Duration `koanf:"jitter"`
	// Policy names an entry of Config.Policies; empty means "default" when
	// that exists, else no policy beyond the built-in exclusions.
	Policy string `koanf:"policy"`
	// Target says what the experiment may hit.
	Target Target `koanf:"target"`
	// Action says what is done to each chosen target.
	Action Action `koanf:"action"`
	// Duration the fault is held before it is reverted.
	Duration time.Duration `koanf:"duration"`
	// Observe is the window after the revert in which the guard judges.
	Observe time.Duration `koanf:"observe"`
	// SLIs judge this experiment's runs, baseline against fault, on top of
	// guard.slis (an entry with the same name replaces the guard's).
	SLIs []SLI `koanf:"slis"`
	// DryRun overrides Config.DryRun for this experiment when set.
	DryRun *bool `koanf:"dryRun"`
	// Disabled experiments are validated but never scheduled.
	Disabled bool `koanf:"disabled"`
	// Reach says what happens when, before injecting, the fault turns out
	// unable to reach any traffic (see docs/verdicts.md, `unreachable`).
	Reach Reach `koanf:"reach"`
	// Landing says how an http-* fault is proven to have acted on
	// requests after it was injected.
	Landing Landing `koanf:"landing"`

	schedule cron.Schedule // parsed Schedule, set by validation
}

// IsDryRun reports whether this experiment runs without changing anything.
func (e Experiment) IsDryRun(global bool) bool {
	if e.DryRun != nil {
		return *e.DryRun
	}
	return global
}

// Reach is the check, before injecting, that a fault can affect traffic:
// a VirtualService nobody's data plane applies, or bound only to a gateway
// with no workload, is skipped as unreachable.
type Reach struct {
	// RunWhenUnreachable injects all the same when the check finds no
	// caller or gateway the fault could act on, or cannot read the cluster
	// to tell; landing then decides (usually no-effect).
	RunWhenUnreachable bool `koanf:"runWhenUnreachable"`
}

// Landing proves, after injecting an http-* fault, that it acted on
// requests: the faulted requests and all requests to the target over the
// hold, both read from Prometheus. Without query and trafficQuery it uses
// Istio's standard istio_requests_total (Envoy's response_flags FI for an
// abort, DI for a delay). Proxyless gRPC emits no istio_requests_total:
// give queries over the client's own metrics. Queries may use
// {{.namespace}}, {{.name}} (the VirtualService), {{.host}} (its first host
// as a cluster-local name), {{.window}} (the hold, as a PromQL duration)
// and {{.flag}} (FI or DI). Pod kills are proven by the replacement and
// drains by the evictions, without Prometheus. It needs guard.prometheus;
// without one, http-* faults are judged by the guard alone.
type Landing struct {
	// MinRequests is the least traffic over the hold that can tell a fault
	// that landed from one that did not; below it the run is no-effect
	// (too little traffic), never passed. Default 20.
	MinRequests int `koanf:"minRequests"`
	// Query counts the requests the fault acted on over the hold.
	Query string `koanf:"query"`
	// TrafficQuery counts all requests to the target over the hold.
	TrafficQuery string `koanf:"trafficQuery"`
	// Disabled turns the landing check off: such runs are judged by the
	// guard alone.
	Disabled bool `koanf:"disabled"`
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
	// Kind of target; it decides which actions and target fields apply.
	Kind TargetKind `koanf:"kind"`
	// Namespaces to look in (pods, virtualservices); empty means all
	// namespaces the policy allows. Required with chaosd --namespaced, and
	// then limited to the watched namespaces.
	Namespaces []string `koanf:"namespaces"`
	// NamespaceSelector is a label selector on namespaces. Refused with
	// chaosd --namespaced, which cannot read Namespace objects.
	NamespaceSelector string `koanf:"namespaceSelector"`
	// Selector is a label selector on the targets themselves (for nodes
	// and zones, on nodes).
	Selector string `koanf:"selector"`
	// OptIn requires chaosd.io/enabled=true on the target, its workload or
	// its namespace. With chaosd --namespaced namespace annotations cannot
	// be read: put chaosd.io/enabled (and chaosd.io/exclude) on the
	// workload or the pod.
	OptIn bool `koanf:"optIn"`
	// OwnerKinds limits pods to those owned by these kinds: Deployment,
	// StatefulSet, DaemonSet, ReplicaSet, Pod (a bare pod).
	OwnerKinds []string `koanf:"ownerKinds"`
	// ExcludeOwnerKinds skips pods whose workload is of one of these kinds
	// (as ownerKinds spells them, or any other controller kind such as
	// Job); every other pod stays a candidate, including pods of custom
	// controllers.
	ExcludeOwnerKinds []string `koanf:"excludeOwnerKinds"`
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
	// Type of fault; it decides which of the fields below apply.
	Type ActionType `koanf:"type"`

	// GracePeriod for pod-kill (default: the pod's own) and for the pods a
	// node-drain evicts.
	GracePeriod *time.Duration `koanf:"gracePeriod"`
	// Method of pod-kill: delete (default) or evict (through the Eviction
	// API, so PDBs apply). For http-load, the HTTP method (default GET).
	Method string `koanf:"method"`

	// Status is the HTTP status http-abort answers with.
	Status int `koanf:"status"`
	// Percent of requests http-abort or http-delay affects (default 100).
	Percent *float64 `koanf:"percent"`
	// Delay http-delay adds to each affected request.
	Delay time.Duration `koanf:"delay"`
	// Abort block of an http-fault; applied together with FixedDelay.
	Abort *AbortSpec `koanf:"abort"`
	// FixedDelay block of an http-fault; applied together with Abort.
	FixedDelay *DelaySpec `koanf:"fixedDelay"`
	// Route limits an http-* fault to the routes with this destination;
	// without it every route of the VirtualService is affected.
	Route *RouteSelector `koanf:"route"`

	// DeleteEmptyDirData lets node-drain (and zones) evict pods with
	// emptyDir volumes, losing their data.
	DeleteEmptyDirData bool `koanf:"deleteEmptyDirData"`
	// IgnoreDaemonSets lets node-drain proceed past DaemonSet pods.
	IgnoreDaemonSets *bool `koanf:"ignoreDaemonSets"`
	// Timeout bounds a node-drain, or each request of an http-load.
	Timeout time.Duration `koanf:"timeout"`

	// Restore makes node-delete re-create the Node from its snapshot after
	// the experiment's duration.
	Restore bool `koanf:"restore"`

	// Concurrency is how many workers an http-load burst runs.
	Concurrency int `koanf:"concurrency"`
	// Rate caps an http-load burst in requests per second; 0 is as fast as
	// the workers go.
	Rate int `koanf:"rate"`
	// Duration of an http-load burst.
	Duration time.Duration `koanf:"duration"`
	// Headers sent with every http-load request.
	Headers map[string]string `koanf:"headers"`
	// Body sent with every http-load request.
	Body string `koanf:"body"`
}

// AbortSpec aborts a percentage of requests with an HTTP status.
type AbortSpec struct {
	// Status is the HTTP status aborted requests get.
	Status int `koanf:"status"`
	// Percent of requests aborted.
	Percent float64 `koanf:"percent"`
}

// DelaySpec delays a percentage of requests by a fixed duration.
type DelaySpec struct {
	// Delay added to each delayed request.
	Delay time.Duration `koanf:"delay"`
	// Percent of requests delayed.
	Percent float64 `koanf:"percent"`
}

// RouteSelector limits an HTTP fault to routes whose destination matches.
type RouteSelector struct {
	// Host of the route's destination, as written in the VirtualService.
	Host string `koanf:"host"`
	// Subset of the destination; empty matches any.
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
	// Slack posts to an incoming webhook.
	Slack *SlackNotification `koanf:"slack"`
	// Webhook posts chaosd's JSON payload.
	Webhook *WebhookNotification `koanf:"webhook"`
	// Alertmanager raises an alert when a run finds a weakness.
	Alertmanager *AlertmanagerNotification `koanf:"alertmanager"`
}

// Event names what a notification can be sent for.
type Event string

const (
	EventStarted  Event = "started"
	EventFinished Event = "finished"
	EventWeakness Event = "weakness"
	EventAlertGap Event = "alert-gap"
	EventError    Event = "error"
	EventPaused   Event = "paused"
	EventResumed  Event = "resumed"
)

// SlackNotification posts Block Kit messages to an incoming webhook.
type SlackNotification struct {
	// WebhookURLFile is a file holding the webhook URL (a mounted Secret).
	WebhookURLFile string `koanf:"webhookURLFile"`
	// WebhookURLEnv is an environment variable holding the webhook URL.
	WebhookURLEnv string `koanf:"webhookURLEnv"`
	// On lists the events that are posted.
	On []Event `koanf:"on"`
}

// WebhookNotification posts chaosd's JSON payload to a URL.
type WebhookNotification struct {
	// URL to post to, when it is no secret.
	URL string `koanf:"url"`
	// URLFile is a file holding the URL (a mounted Secret).
	URLFile string `koanf:"urlFile"`
	// URLEnv is an environment variable holding the URL.
	URLEnv string `koanf:"urlEnv"`
	// On lists the events that are posted.
	On []Event `koanf:"on"`
}

// AlertmanagerNotification raises chaosd's own ChaosWeaknessFound and
// ChaosAlertGapFound alerts.
type AlertmanagerNotification struct {
	// RaiseOnWeakness raises ChaosWeaknessFound when a run finds a weakness.
	RaiseOnWeakness bool `koanf:"raiseOnWeakness"`
	// RaiseOnAlertGap raises ChaosAlertGapFound when a run's SLI moved
	// beyond tolerance and no alert fired.
	RaiseOnAlertGap bool `koanf:"raiseOnAlertGap"`
	// URL defaults to guard.alertmanager.url.
	URL string `koanf:"url"`
	// ExternalURL is chaosd's own address, used for report links.
	ExternalURL string `koanf:"externalURL"`
}

// Journal configures where run journals are written and how many are kept.
type Journal struct {
	// Dir is the directory run journals are written to.
	Dir string `koanf:"dir"`
	// MaxRuns is how many runs are kept; older ones are deleted.
	MaxRuns int `koanf:"maxRuns"`
	// MaxBytes caps the journal's total size; older runs are deleted.
	MaxBytes int64 `koanf:"maxBytes"`
}
