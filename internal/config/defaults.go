package config

import "time"

// Defaults that are not the zero value. Documented in docs/configuration.md.
const (
	DefaultTimezone          = "UTC"
	DefaultMaxConcurrentRuns = 1
	DefaultPollInterval      = time.Second
	DefaultGuardTimeout      = 2 * time.Second
	DefaultCooldown          = 10 * time.Minute
	DefaultObserve           = time.Minute
	DefaultZoneLabel         = "topology.kubernetes.io/zone"
	DefaultDrainTimeout      = 2 * time.Minute
	DefaultLoadConcurrency   = 10
	DefaultLoadDuration      = 10 * time.Second
	DefaultSLIBaseline       = 5 * time.Minute
	DefaultSLIStep           = 10 * time.Second
	DefaultJournalMaxRuns    = 500
	DefaultJournalMaxBytes   = 100 << 20
	// DefaultScoreWindow is the resiliency score's window: enough runs for
	// one failure not to dominate, few enough to follow a fix within a day
	// of hourly runs.
	DefaultScoreWindow = 20
	// DefaultLandingMinRequests is the least traffic over a hold that can
	// tell a fault that landed from one that did not.
	DefaultLandingMinRequests = 20
	// DefaultPolicyName is used by experiments that name no policy.
	DefaultPolicyName = "default"
)

// DefaultNotifyOn is the book's "notify only on failure".
// An alert gap is a failure of the alerting, so it is one too.
var DefaultNotifyOn = []Event{EventWeakness, EventAlertGap, EventError}

// applyDefaults fills what the file left out. present tells whether a key
// path was written in the file, for defaults whose zero value is meaningful
// (observe: 0s and cooldown: 0s are honoured, not replaced).
func (c *Config) applyDefaults(present func(path string) bool) {
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	if c.Paused == "" {
		c.Paused = NotPaused
	}
	if c.MaxConcurrentRuns == 0 {
		c.MaxConcurrentRuns = DefaultMaxConcurrentRuns
	}
	g := &c.Guard
	if g.PollInterval == 0 {
		g.PollInterval = DefaultPollInterval
	}
	if g.Timeout == 0 {
		g.Timeout = DefaultGuardTimeout
	}
	if g.OnUnknown == "" {
		g.OnUnknown = UnknownRevert
	}
	if g.UnknownAfter == 0 {
		g.UnknownAfter = 3 * g.PollInterval
	}
	if g.SLIBaseline == 0 {
		g.SLIBaseline = DefaultSLIBaseline
	}
	if g.SLIStep == 0 {
		g.SLIStep = DefaultSLIStep
	}
	if g.ScoreWindow == 0 {
		g.ScoreWindow = DefaultScoreWindow
	}
	if !present("guard.cooldown") {
		g.Cooldown = Cooldown{Duration: DefaultCooldown}
	}
	for i := range c.Experiments {
		c.Experiments[i].applyDefaults(present, experimentPath(i))
	}
	n := &c.Notifications
	if n.Slack != nil && n.Slack.On == nil {
		n.Slack.On = DefaultNotifyOn
	}
	if n.Webhook != nil && n.Webhook.On == nil {
		n.Webhook.On = DefaultNotifyOn
	}
	if n.Alertmanager != nil && n.Alertmanager.URL == "" && g.Alertmanager != nil {
		n.Alertmanager.URL = g.Alertmanager.URL
	}
	if c.Journal.MaxRuns == 0 {
		c.Journal.MaxRuns = DefaultJournalMaxRuns
	}
	if c.Journal.MaxBytes == 0 {
		c.Journal.MaxBytes = DefaultJournalMaxBytes
	}
	c.Tracing.applyDefaults(present)
}

func (e *Experiment) applyDefaults(present func(string) bool, path string) {
	if e.Policy == "" {
		e.Policy = DefaultPolicyName
	}
	if e.Target.Mode.Kind == "" {
		e.Target.Mode = Mode{Kind: ModeOne}
	}
	if e.Target.Kind == TargetZone && e.Target.Label == "" {
		e.Target.Label = DefaultZoneLabel
	}
	if !present(path + ".observe") {
		e.Observe = DefaultObserve
	}
	if e.Landing.MinRequests == 0 {
		e.Landing.MinRequests = DefaultLandingMinRequests
	}
	a := &e.Action
	switch a.Type {
	case ActionPodKill:
		if a.Method == "" {
			a.Method = PodKillDelete
		}
	case ActionNodeDrain:
		if a.Timeout == 0 {
			a.Timeout = DefaultDrainTimeout
		}
		if a.IgnoreDaemonSets == nil {
			yes := true
			a.IgnoreDaemonSets = &yes
		}
	case ActionHTTPLoad:
		if a.Method == "" {
			a.Method = "GET"
		}
		if a.Concurrency == 0 {
			a.Concurrency = DefaultLoadConcurrency
		}
		if a.Duration == 0 {
			a.Duration = DefaultLoadDuration
		}
	}
}

// Pod-kill methods.
const (
	PodKillDelete = "delete"
	PodKillEvict  = "evict"
)
