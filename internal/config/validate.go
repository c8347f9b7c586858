package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// AlwaysExcludedNamespaces are never targeted unless a policy allows them;
// chaosd's own namespace is added at run time.
var AlwaysExcludedNamespaces = []string{"kube-system"}

// Limits that keep a single experiment from becoming a denial of service.
const (
	MaxLoadConcurrency = 1000
	MaxLoadDuration    = 10 * time.Minute
)

// validate checks everything that can be checked without a cluster and
// records every problem, never only the first.
func validate(c *Config, errs *Errors) {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		errs.add("timezone", "unknown time zone %q", c.Timezone)
		loc = time.UTC
	}
	c.loc = loc
	if c.MaxConcurrentRuns < 1 {
		errs.add("maxConcurrentRuns", "must be at least 1, got %d", c.MaxConcurrentRuns)
	}
	validateGuard(&c.Guard, errs)
	for name, p := range c.Policies {
		validatePolicy("policies."+name, name, p, errs)
	}
	seen := map[string]int{}
	for i := range c.Experiments {
		e := &c.Experiments[i]
		path := experimentPath(i)
		if prev, dup := seen[e.Name]; dup && e.Name != "" {
			errs.add(path+".name", "duplicate experiment name %q (also experiments[%d])", e.Name, prev)
		}
		seen[e.Name] = i
		validateExperiment(c, path, e, errs)
	}
	validateNotifications(c, errs)
	if c.Journal.MaxRuns < 0 {
		errs.add("journal.maxRuns", "must not be negative")
	}
	if c.Journal.MaxBytes < 0 {
		errs.add("journal.maxBytes", "must not be negative")
	}
	validateTracing(c.Tracing, errs)
}

func experimentPath(i int) string { return fmt.Sprintf("experiments[%d]", i) }

func validateGuard(g *Guard, errs *Errors) {
	if am := g.Alertmanager; am != nil {
		validateURL("guard.alertmanager.url", am.URL, true, errs)
		validateMatchers("guard.alertmanager.block", am.Block, errs)
		validateMatchers("guard.alertmanager.ignore", am.Ignore, errs)
	}
	if p := g.Prometheus; p != nil {
		validateURL("guard.prometheus.url", p.URL, true, errs)
		names := map[string]bool{}
		for i, c := range p.Checks {
			path := fmt.Sprintf("guard.prometheus.checks[%d]", i)
			requireUniqueName(path+".name", "check", c.Name, names, errs)
			if strings.TrimSpace(c.Expr) == "" {
				errs.add(path+".expr", "is required")
			}
			switch {
			case c.Empty && (c.Min != nil || c.Max != nil):
				errs.add(path, "empty cannot be combined with min or max")
			case !c.Empty && c.Min == nil && c.Max == nil:
				errs.add(path, "needs min, max or empty: true")
			case c.Min != nil && c.Max != nil && *c.Min > *c.Max:
				errs.add(path, "min %g is greater than max %g", *c.Min, *c.Max)
			}
		}
	}
	validateSLIs("guard.slis", g.SLIs, g.Prometheus != nil, errs)
	if len(g.SLIs) > 0 || g.SLIBaseline != DefaultSLIBaseline || g.SLIStep != DefaultSLIStep {
		if g.SLIStep < time.Second {
			errs.add("guard.sliStep", "must be at least 1s, got %s", g.SLIStep)
		} else if g.SLIBaseline < 2*g.SLIStep {
			errs.add("guard.sliBaseline", "must span at least two sliSteps (%s), got %s", 2*g.SLIStep, g.SLIBaseline)
		}
	}
	if g.ScoreWindow < 1 {
		errs.add("guard.scoreWindow", "must be at least 1, got %d", g.ScoreWindow)
	}
	if g.Unguarded && (g.Alertmanager != nil || g.Prometheus != nil) {
		errs.add("guard.unguarded", "cannot be combined with alertmanager or prometheus")
	}
	if g.PollInterval < 100*time.Millisecond {
		errs.add("guard.pollInterval", "must be at least 100ms, got %s", g.PollInterval)
	}
	if g.Timeout <= 0 {
		errs.add("guard.timeout", "must be positive, got %s", g.Timeout)
	}
	if g.UnknownAfter < g.PollInterval {
		errs.add("guard.unknownAfter", "must be at least pollInterval (%s), got %s", g.PollInterval, g.UnknownAfter)
	}
}

func validateMatchers(path string, ms []string, errs *Errors) {
	for i, m := range ms {
		if _, err := amlabels.ParseMatcher(m); err != nil {
			errs.add(fmt.Sprintf("%s[%d]", path, i), "invalid matcher %q: %v", m, err)
		}
	}
}

func validateURL(path, raw string, required bool, errs *Errors) {
	if raw == "" {
		if required {
			errs.add(path, "is required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.add(path, "must be an http or https URL, got %q", raw)
	}
}

func validatePolicy(path, name string, p Policy, errs *Errors) {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		errs.add(path, "policy name %q is not a valid name: %s", name, msgs[0])
	}
	validateNamespaces(path+".excludeNamespaces", p.ExcludeNamespaces, errs)
	validateNamespaces(path+".allowNamespaces", p.AllowNamespaces, errs)
	if p.MinReadyNodes < 0 {
		errs.add(path+".minReadyNodes", "must not be negative")
	}
	if p.MinPodAge < 0 {
		errs.add(path+".minPodAge", "must not be negative")
	}
}

func validateNamespaces(path string, nss []string, errs *Errors) {
	for i, ns := range nss {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			errs.add(fmt.Sprintf("%s[%d]", path, i), "invalid namespace %q: %s", ns, msgs[0])
		}
	}
}

func validateExperiment(c *Config, path string, e *Experiment, errs *Errors) {
	if e.Name == "" {
		errs.add(path+".name", "is required")
	} else if msgs := validation.IsDNS1123Label(e.Name); len(msgs) > 0 {
		errs.add(path+".name", "%q is not a valid name: %s", e.Name, msgs[0])
	}
	sched, err := ParseSchedule(e.Schedule, c.loc)
	if err != nil {
		errs.add(path+".schedule", "%v", err)
	} else {
		e.schedule = sched
		if gap := shortestGap(sched); e.Jitter >= gap {
			errs.add(path+".jitter", "jitter %s must be shorter than the schedule's shortest gap %s", e.Jitter, gap)
		}
	}
	if e.Jitter < 0 {
		errs.add(path+".jitter", "must not be negative")
	}
	if e.Duration < 0 {
		errs.add(path+".duration", "must not be negative")
	}
	if e.Observe < 0 {
		errs.add(path+".observe", "must not be negative")
	}
	policy, ok := c.Policies[e.Policy]
	if !ok && e.Policy != DefaultPolicyName {
		errs.add(path+".policy", "references undefined policy %q", e.Policy)
	}
	validateTarget(path+".target", e.Target, policy, errs)
	validateAction(path, e, errs)
	validateSLIs(path+".slis", e.SLIs, c.Guard.Prometheus != nil, errs)
	validateLanding(path+".landing", e, errs)
}

// validateLanding checks the landing queries: both or neither (a custom
// fault count against the default traffic count would compare unrelated
// series), each a template that renders.
func validateLanding(path string, e *Experiment, errs *Errors) {
	l := e.Landing
	if l.MinRequests < 1 {
		errs.add(path+".minRequests", "must be at least 1, got %d", l.MinRequests)
	}
	if (l.Query == "") != (l.TrafficQuery == "") {
		errs.add(path, "query and trafficQuery go together: set both or neither")
	}
	for field, q := range map[string]string{"query": l.Query, "trafficQuery": l.TrafficQuery} {
		if q == "" {
			continue
		}
		if _, err := ParseLandingQuery(q); err != nil {
			errs.add(path+"."+field, "%v", err)
		}
	}
}

// targetActions lists which actions apply to which target kind. A zone
// outage is a node-cordon or node-drain aimed at a zone.
var targetActions = map[TargetKind][]ActionType{
	TargetPod:            {ActionPodKill},
	TargetVirtualService: {ActionHTTPAbort, ActionHTTPDelay, ActionHTTPFault},
	TargetNode:           {ActionNodeCordon, ActionNodeDrain, ActionNodeDelete},
	TargetZone:           {ActionNodeCordon, ActionNodeDrain},
	TargetURL:            {ActionHTTPLoad},
}

var ownerKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"}

var kindName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

func validateTarget(path string, t Target, p Policy, errs *Errors) {
	if _, ok := targetActions[t.Kind]; !ok {
		errs.add(path+".kind", "must be one of pod, virtualservice, node, zone, url, got %q", t.Kind)
		return
	}
	validateNamespaces(path+".namespaces", t.Namespaces, errs)
	excluded := ExcludedNamespaces(p)
	for i, ns := range t.Namespaces {
		if slices.Contains(excluded, ns) {
			errs.add(fmt.Sprintf("%s.namespaces[%d]", path, i), "namespace %q is excluded by the experiment's policy", ns)
		}
	}
	for field, sel := range map[string]string{"selector": t.Selector, "namespaceSelector": t.NamespaceSelector} {
		if _, err := labels.Parse(sel); err != nil {
			errs.add(path+"."+field, "invalid label selector %q: %v", sel, err)
		}
	}
	for i, k := range t.OwnerKinds {
		if !slices.Contains(ownerKinds, k) {
			errs.add(fmt.Sprintf("%s.ownerKinds[%d]", path, i), "must be one of %s, got %q", strings.Join(ownerKinds, ", "), k)
		}
	}
	for i, k := range t.ExcludeOwnerKinds {
		// A Kubernetes kind is an UpperCamelCase name; anything else
		// would never match and silently exclude nothing.
		if !kindName.MatchString(k) {
			errs.add(fmt.Sprintf("%s.excludeOwnerKinds[%d]", path, i), "must be a kind such as DaemonSet or Job, got %q", k)
		}
	}
	onlyFor := func(field string, set bool, kinds ...TargetKind) {
		if set && !slices.Contains(kinds, t.Kind) {
			errs.add(path+"."+field, "does not apply to target kind %s", t.Kind)
		}
	}
	onlyFor("namespaces", len(t.Namespaces) > 0, TargetPod, TargetVirtualService)
	onlyFor("namespaceSelector", t.NamespaceSelector != "", TargetPod, TargetVirtualService)
	onlyFor("ownerKinds", len(t.OwnerKinds) > 0, TargetPod)
	onlyFor("excludeOwnerKinds", len(t.ExcludeOwnerKinds) > 0, TargetPod)
	onlyFor("optIn", t.OptIn, TargetPod, TargetVirtualService, TargetNode)
	onlyFor("podNamespace", t.PodNamespace != "", TargetNode, TargetZone)
	onlyFor("label", t.Label != "", TargetZone)
	onlyFor("url", t.URL != "", TargetURL)
	onlyFor("selector", t.Selector != "", TargetPod, TargetVirtualService, TargetNode, TargetZone)
	if t.PodNamespace != "" {
		if slices.Contains(excluded, t.PodNamespace) {
			errs.add(path+".podNamespace", "namespace %q is excluded by the experiment's policy", t.PodNamespace)
		}
		validateNamespaces(path+".podNamespace", []string{t.PodNamespace}, errs)
	}
	if t.Kind == TargetURL {
		validateURL(path+".url", t.URL, true, errs)
		if t.Mode.Kind != ModeOne {
			errs.add(path+".mode", "a url target is a single endpoint; mode must be one")
		}
	}
	if t.Kind == TargetZone && t.Mode.Kind != ModeOne {
		errs.add(path+".mode", "a zone outage takes one zone at a time; mode must be one")
	}
}

// ExcludedNamespaces returns the namespaces a policy never lets chaosd touch,
// built-in exclusions included.
func ExcludedNamespaces(p Policy) []string {
	var out []string
	for _, ns := range AlwaysExcludedNamespaces {
		if !slices.Contains(p.AllowNamespaces, ns) {
			out = append(out, ns)
		}
	}
	return append(out, p.ExcludeNamespaces...)
}

func validateAction(expPath string, e *Experiment, errs *Errors) {
	path := expPath + ".action"
	a := e.Action
	allowed, kindOK := targetActions[e.Target.Kind]
	known := false
	for _, acts := range targetActions {
		known = known || slices.Contains(acts, a.Type)
	}
	if !known {
		errs.add(path+".type", "unknown action %q", a.Type)
		return
	}
	if kindOK && !slices.Contains(allowed, a.Type) {
		errs.add(path+".type", "action %s cannot target a %s", a.Type, e.Target.Kind)
	}
	fields := actionFields(a)
	for field, set := range fields {
		if set && !slices.Contains(actionUses[a.Type], field) {
			errs.add(path+"."+field, "does not apply to action %s", a.Type)
		}
	}
	checkPercent := func(field string, pct float64) {
		if pct < 0 || pct > 100 {
			errs.add(path+"."+field, "percentage %g is outside 0-100", pct)
		}
	}
	checkStatus := func(field string, status int) {
		if status < 200 || status > 599 {
			errs.add(path+"."+field, "HTTP status must be 200-599, got %d", status)
		}
	}
	if a.Percent != nil {
		checkPercent("percent", *a.Percent)
	}
	switch a.Type {
	case ActionPodKill:
		if a.Method != PodKillDelete && a.Method != PodKillEvict {
			errs.add(path+".method", "must be delete or evict, got %q", a.Method)
		}
		if a.GracePeriod != nil && *a.GracePeriod < 0 {
			errs.add(path+".gracePeriod", "must not be negative")
		}
	case ActionHTTPAbort:
		checkStatus("status", a.Status)
	case ActionHTTPDelay:
		if a.Delay <= 0 {
			errs.add(path+".delay", "must be a positive duration")
		}
	case ActionHTTPFault:
		if a.Abort == nil && a.FixedDelay == nil {
			errs.add(path, "http-fault needs abort, fixedDelay or both")
		}
		if a.Abort != nil {
			checkStatus("abort.status", a.Abort.Status)
			checkPercent("abort.percent", a.Abort.Percent)
		}
		if a.FixedDelay != nil {
			if a.FixedDelay.Delay <= 0 {
				errs.add(path+".fixedDelay.delay", "must be a positive duration")
			}
			checkPercent("fixedDelay.percent", a.FixedDelay.Percent)
		}
	case ActionNodeDrain:
		if a.Timeout < 0 {
			errs.add(path+".timeout", "must not be negative")
		}
	case ActionHTTPLoad:
		if a.Concurrency < 1 || a.Concurrency > MaxLoadConcurrency {
			errs.add(path+".concurrency", "must be 1-%d, got %d", MaxLoadConcurrency, a.Concurrency)
		}
		if a.Duration <= 0 || a.Duration > MaxLoadDuration {
			errs.add(path+".duration", "must be positive and at most %s, got %s", MaxLoadDuration, a.Duration)
		}
		if a.Rate < 0 {
			errs.add(path+".rate", "must not be negative")
		}
	}
	if a.Route != nil && a.Route.Host == "" {
		errs.add(path+".route.host", "is required")
	}
	holds := a.Type != ActionPodKill && a.Type != ActionHTTPLoad && (a.Type != ActionNodeDelete || a.Restore)
	switch {
	case holds && e.Duration == 0:
		errs.add(expPath+".duration", "action %s holds a fault and needs a positive duration before it is reverted", a.Type)
	case !holds && e.Duration != 0:
		errs.add(expPath+".duration", "action %s holds nothing to revert; remove duration", a.Type)
	}
}

// actionUses lists the optional action fields each action type reads.
var actionUses = map[ActionType][]string{
	ActionPodKill:    {"gracePeriod", "method"},
	ActionHTTPAbort:  {"status", "percent", "route"},
	ActionHTTPDelay:  {"delay", "percent", "route"},
	ActionHTTPFault:  {"abort", "fixedDelay", "route"},
	ActionNodeCordon: {},
	ActionNodeDrain:  {"deleteEmptyDirData", "ignoreDaemonSets", "timeout", "gracePeriod"},
	ActionNodeDelete: {"restore"},
	ActionHTTPLoad:   {"method", "concurrency", "rate", "duration", "headers", "body", "timeout"},
}

func actionFields(a Action) map[string]bool {
	return map[string]bool{
		"gracePeriod":        a.GracePeriod != nil,
		"method":             a.Method != "",
		"status":             a.Status != 0,
		"percent":            a.Percent != nil,
		"delay":              a.Delay != 0,
		"abort":              a.Abort != nil,
		"fixedDelay":         a.FixedDelay != nil,
		"route":              a.Route != nil,
		"deleteEmptyDirData": a.DeleteEmptyDirData,
		"ignoreDaemonSets":   a.IgnoreDaemonSets != nil,
		"timeout":            a.Timeout != 0,
		"restore":            a.Restore,
		"concurrency":        a.Concurrency != 0,
		"rate":               a.Rate != 0,
		"duration":           a.Duration != 0,
		"headers":            a.Headers != nil,
		"body":               a.Body != "",
	}
}

var knownEvents = []Event{EventStarted, EventFinished, EventWeakness, EventAlertGap, EventError, EventPaused, EventResumed}

func validateNotifications(c *Config, errs *Errors) {
	n := c.Notifications
	checkOn := func(path string, on []Event) {
		for i, ev := range on {
			if !slices.Contains(knownEvents, ev) {
				errs.add(fmt.Sprintf("%s[%d]", path, i), "unknown event %q (started, finished, weakness, alert-gap, error, paused, resumed)", ev)
			}
		}
	}
	if s := n.Slack; s != nil {
		if (s.WebhookURLFile == "") == (s.WebhookURLEnv == "") {
			errs.add("notifications.slack", "needs exactly one of webhookURLFile or webhookURLEnv (the URL is a secret)")
		}
		checkOn("notifications.slack.on", s.On)
	}
	if w := n.Webhook; w != nil {
		set := 0
		for _, v := range []string{w.URL, w.URLFile, w.URLEnv} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			errs.add("notifications.webhook", "needs exactly one of url, urlFile or urlEnv")
		}
		validateURL("notifications.webhook.url", w.URL, false, errs)
		checkOn("notifications.webhook.on", w.On)
	}
	if am := n.Alertmanager; am != nil && (am.RaiseOnWeakness || am.RaiseOnAlertGap) {
		if am.URL == "" {
			errs.add("notifications.alertmanager.url", "is required to raise alerts (or set guard.alertmanager.url)")
		}
		validateURL("notifications.alertmanager.url", am.URL, false, errs)
		validateURL("notifications.alertmanager.externalURL", am.ExternalURL, false, errs)
	}
}

// requireUniqueName reports a missing name, or one already in seen (the
// names of the list so far, as "duplicate <what> name"), and records it.
func requireUniqueName(path, what, name string, seen map[string]bool, errs *Errors) {
	switch {
	case name == "":
		errs.add(path, "is required")
	case seen[name]:
		errs.add(path, "duplicate %s name %q", what, name)
	}
	seen[name] = true
}
