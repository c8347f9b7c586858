package importer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
)

// cmCronParser is api/v1alpha1 StandardCronParser (schedule_types.go,
// v2.8.3): an optional seconds field before the standard five.
var cmCronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// validateCMSchedule refuses what the Schedule CRD schema and webhook
// (schedule_types.go markers, schedule_webhook.go validateSchedule) refuse.
func validateCMSchedule(spec cmScheduleSpec) (err error) {
	defer func() {
		if r := recover(); r != nil { // robfig/cron v3.0.1 panics on "CRON_TZ=" alone
			err = fmt.Errorf("spec.schedule %q: not a cron expression", spec.Schedule)
		}
	}()
	if spec.Schedule == "" {
		return fmt.Errorf("spec.schedule is required")
	}
	if _, err := cmCronParser.Parse(spec.Schedule); err != nil {
		return fmt.Errorf("spec.schedule %q: %w", spec.Schedule, err)
	}
	switch spec.ConcurrencyPolicy {
	case "", "Forbid", "Allow":
	default:
		return fmt.Errorf("spec.concurrencyPolicy %q is not Forbid or Allow", spec.ConcurrencyPolicy)
	}
	if spec.HistoryLimit != nil && *spec.HistoryLimit < 1 {
		return fmt.Errorf("spec.historyLimit %d: must be at least 1", *spec.HistoryLimit)
	}
	if spec.StartingDeadlineSeconds != nil && *spec.StartingDeadlineSeconds <= 0 {
		return fmt.Errorf("spec.startingDeadlineSeconds %d: must be greater than 0", *spec.StartingDeadlineSeconds)
	}
	if spec.Type == "" {
		return fmt.Errorf("spec.type is required")
	}
	if _, ok := scheduleItemKeys[spec.Type]; !ok {
		return fmt.Errorf("spec.type %q: unknown template type", spec.Type)
	}
	return nil
}

// scheduleKeys maps a Schedule's timing onto the experiment.
func (c *cmConv) scheduleKeys(obj cmObject, e *draftExperiment, spec cmScheduleSpec) {
	e.schedule = c.cronSpec(obj, e, spec.Schedule)
	if spec.ConcurrencyPolicy == "Allow" {
		c.d.warn(wApproxSchedule, e, "%s: spec.concurrencyPolicy Allow: Chaos Mesh spawns a new PodChaos even while the last is unfinished; chaosd skips an activation while the experiment's run is active", obj.describe())
	}
	if spec.HistoryLimit != nil {
		c.d.note(nIgnoredFlag, e, "%s: spec.historyLimit %d: how many spawned objects Chaos Mesh keeps; chaosd spawns none, and its journal (chaosd report) keeps every run", obj.describe(), *spec.HistoryLimit)
	}
	if spec.StartingDeadlineSeconds != nil {
		c.d.note(nIgnoredFlag, e, "%s: spec.startingDeadlineSeconds %d: Chaos Mesh starts the latest missed activation if it is at most %ds late; chaosd never starts a missed activation late, so no activation runs more than its jitter late", obj.describe(), *spec.StartingDeadlineSeconds, *spec.StartingDeadlineSeconds)
	}
}

// cronSpec turns Chaos Mesh's cron spec into chaosd's five fields. Both use
// robfig/cron; Chaos Mesh also takes a leading seconds field, which chaosd
// does not: second 0 is dropped as it changes nothing, any other second
// is a named approximation. Chaos Mesh evaluates the spec in its
// controller's local time: the TZ its Helm chart sets from the value
// `timezone` (default "UTC", helm/chaos-mesh/values.yaml), as chaosd uses
// its config's timezone (default UTC).
func (c *cmConv) cronSpec(obj cmObject, e *draftExperiment, spec string) string {
	spec = strings.TrimSpace(spec)
	prefix := ""
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		tz, rest, _ := strings.Cut(spec, " ")
		prefix, spec = tz+" ", strings.TrimSpace(rest)
	} else if !strings.HasPrefix(spec, "@every") {
		c.d.note(nScheduleTimezone, nil, "Chaos Mesh evaluates a Schedule's spec.schedule in the time zone of its Helm value `timezone` (default UTC); chaosd in the config's timezone (default UTC): if you changed one, set timezone to the same")
	}
	fields := strings.Fields(spec)
	if strings.HasPrefix(spec, "@") || len(fields) != 6 {
		return prefix + spec
	}
	sec, rest := fields[0], prefix+strings.Join(fields[1:], " ")
	if n, err := strconv.Atoi(sec); err == nil {
		if n != 0 {
			c.d.warn(wApproxSchedule, e, "%s: spec.schedule %q: chaosd schedules whole minutes; it fires at second 0, %ds earlier than Chaos Mesh", obj.describe(), spec, n)
		}
		return rest
	}
	c.d.warn(wApproxSchedule, e, "%s: spec.schedule %q: the seconds field %s may fire more than once a minute; chaosd schedules whole minutes, so %q fires at most once a minute, at second 0", obj.describe(), spec, sec, rest)
	return rest
}

// httpChaos explains why an HTTPChaos is not converted. Chaos Mesh injects
// it inside the selected pods (a proxy in their network namespace that
// matches port, path, method and headers, the server side); chaosd injects
// HTTP faults by editing an Istio VirtualService that routes to a service
// (the callers' side). The file names neither a service nor a
// VirtualService, so which one routes to those pods, if any, is not in it,
// and chaosd's route selector matches destinations, not paths or methods.
//
// schedule is the Schedule's cron spec, or "" for a bare HTTPChaos.
func (c *cmConv) httpChaos(obj cmObject, path string, spec cmHTTPChaosSpec, schedule string) error {
	if err := validateCMSelector(spec.cmPodSelector); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if spec.Target != "Request" && spec.Target != "Response" {
		return fmt.Errorf("%s.target %q is not Request or Response", path, spec.Target)
	}
	ns := obj.Metadata.Namespace
	if len(spec.Selector.Namespaces) > 0 { // validated: not nil
		ns = strings.Join(spec.Selector.Namespaces, ", ")
	}
	if ns == "" {
		ns = "NAMESPACE"
	}
	var match []string
	if spec.Port != 0 {
		match = append(match, fmt.Sprintf("port %d", spec.Port))
	}
	if spec.Path != nil {
		match = append(match, "path "+*spec.Path)
	}
	if spec.Method != nil {
		match = append(match, "method "+*spec.Method)
	}
	var action, shape string
	switch {
	case spec.Abort != nil && *spec.Abort && spec.Delay != nil:
		action = "abort and delay " + *spec.Delay
		shape = fmt.Sprintf("action: {type: http-fault, abort: {status: 503, percent: 100}, fixedDelay: {delay: %s, percent: 100}}", *spec.Delay)
	case spec.Abort != nil && *spec.Abort:
		action = "abort"
		shape = "action: {type: http-abort, status: 503, percent: 100}"
	case spec.Delay != nil:
		action = "delay " + *spec.Delay
		shape = fmt.Sprintf("action: {type: http-delay, delay: %s, percent: 100}", *spec.Delay)
	default:
		c.d.warn(wUnsupportedChaos, nil, "%s: %s replaces or patches HTTP messages; chaosd only aborts and delays requests; not converted", obj.describe(), path)
		return nil
	}
	if schedule == "" {
		schedule = c.o.Schedule
	}
	duration := "1m"
	if spec.Duration != nil && *spec.Duration != "" {
		duration = *spec.Duration
	}
	c.d.warn(wHTTPChaos, nil, "%s: %s (%s on the %s of the selected pods%s) is not converted: Chaos Mesh injects it inside the selected pods, "+
		"chaosd through an Istio VirtualService routing to their service, and the file names no service or VirtualService; "+
		"chaosd's faults match the route's destination, not %s. If a VirtualService routes to these pods, write an experiment like "+
		"{name: %s, schedule: %q, target: {kind: virtualservice, namespaces: [%s], selector: LABELS-OF-THE-VIRTUALSERVICE}, %s, duration: %s} "+
		"(chaosd's abort answers with an HTTP status; Chaos Mesh's closes the connection)",
		obj.describe(), path, action, strings.ToLower(spec.Target), joinPrefixed(", matching ", match),
		"paths, methods or headers", dnsLabel(obj.Metadata.Name), schedule, ns, shape, duration)
	return nil
}

func joinPrefixed(prefix string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	return prefix + strings.Join(items, ", ")
}
