package importer

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// App is one workload that opted in to kube-monkey: its metadata labels
// carry kube-monkey/enabled, mtbf, kill-mode and kill-value.
type App struct {
	Namespace string
	Name      string
	// Labels are the workload's metadata.labels.
	Labels map[string]string
	// PodSelector is the workload's spec.selector as a label selector
	// ("app=foo"); empty selects pods by kube-monkey/identifier.
	PodSelector string
}

// kube-monkey's labels and settings with their defaults (asobti/kube-monkey
// config/param and docs/configuration.md).
const (
	kmEnabled    = "kube-monkey/enabled"
	kmIdentifier = "kube-monkey/identifier"
	kmMTBF       = "kube-monkey/mtbf"
	kmKillMode   = "kube-monkey/kill-mode"
	kmKillValue  = "kube-monkey/kill-value"
	kmKillAll    = "kube-monkey/kill-all" // before kill-mode existed

	kmDefaultTimezone  = "America/Los_Angeles"
	kmDefaultStartHour = 10
	kmDefaultEndHour   = 16
	kmDefaultRunHour   = 8
	kmDefaultGrace     = 5 * time.Second
)

// kube-monkey's environment variables, read by this translation.
var kubeMonkeyEnv = []string{
	"KUBEMONKEY_DRY_RUN", "KUBEMONKEY_TIME_ZONE", "KUBEMONKEY_RUN_HOUR", "KUBEMONKEY_START_HOUR",
	"KUBEMONKEY_END_HOUR", "KUBEMONKEY_GRACEPERIOD_SEC", "KUBEMONKEY_WHITELISTED_NAMESPACES",
	"KUBEMONKEY_BLACKLISTED_NAMESPACES",
}

// KubeMonkey translates kube-monkey's settings (environment variables, as
// in its Deployment) and the labels of the apps that opted in:
//   - start and end hour on weekdays become windows, in its time zone;
//   - each enabled app becomes a pod-kill experiment on its pods, with
//     kill-mode as the mode (fixed → count:N, fixed-percent → percent:N,
//     random-max-percent → maxPercent:N, kill-all → all);
//   - the mean time between failures becomes a schedule, approximated:
//     kube-monkey rolls dice each weekday, chaosd keeps a calendar.
//
// Without apps, one experiment kills one pod labelled
// kube-monkey/enabled=enabled each weekday.
func (o Options) KubeMonkey(env map[string]string, apps ...App) (Result, error) {
	o = o.withDefaults()
	d := &draft{
		source:     "kube-monkey settings",
		amURL:      o.AlertmanagerURL,
		scheduleOK: true,
		header: []string{
			"kube-monkey plans each weekday's pod kills at its run hour. chaosd schedules each app's",
			"experiment below inside the same hours, and halts, reverts and pauses itself while the",
			"guard's alerts fire.",
		},
	}
	d.note(nAssumedGuard, nil, "guard.alertmanager.url is %s; point it at your Alertmanager", o.AlertmanagerURL)
	m := &monkeyConv{d: d, env: env}
	if err := m.settings(); err != nil {
		return Result{}, err
	}
	if len(apps) == 0 {
		m.catchAll()
	}
	for _, app := range apps {
		m.app(app)
	}
	if len(apps) > 0 && len(d.exps) == 0 {
		d.warn(wNothingToRun, nil, "none of the %d apps given is an enabled, valid kube-monkey app; no experiment was created", len(apps))
	}
	return d.finish()
}

type monkeyConv struct {
	d           *draft
	env         map[string]string
	start, end  int
	grace       time.Duration
	whitelist   []string // nil: every namespace
	blacklist   []string
	hasPatterns bool
}

func (m *monkeyConv) settings() error {
	get := func(key string) (string, bool) {
		v, ok := m.env[key]
		return strings.TrimSpace(v), ok
	}
	hour := func(key string, def int) (int, error) {
		v, ok := get(key)
		if !ok || v == "" {
			return def, nil
		}
		h, err := strconv.Atoi(v)
		if err != nil || h < 0 || h > 23 {
			return 0, fmt.Errorf("import kube-monkey settings: %s=%q is not an hour of 0-23", key, v)
		}
		return h, nil
	}
	var err error
	if m.start, err = hour("KUBEMONKEY_START_HOUR", kmDefaultStartHour); err != nil {
		return err
	}
	if m.end, err = hour("KUBEMONKEY_END_HOUR", kmDefaultEndHour); err != nil {
		return err
	}
	run, err := hour("KUBEMONKEY_RUN_HOUR", kmDefaultRunHour)
	if err != nil {
		return err
	}
	if m.start >= m.end {
		return fmt.Errorf("import kube-monkey settings: start hour %d must be before end hour %d", m.start, m.end)
	}
	m.d.note(nIgnoredFlag, nil, "KUBEMONKEY_RUN_HOUR=%d: chaosd has no planning hour; `chaosd plan` shows the coming activations at any time", run)
	m.d.windows = draftWindows{weekdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, hours: fmt.Sprintf("%s-%s", clock(m.start*60), clock(m.end*60))}

	m.d.timezone = kmDefaultTimezone
	if tz, ok := get("KUBEMONKEY_TIME_ZONE"); ok && tz != "" {
		m.d.timezone = tz
	}
	dry := true
	if v, ok := get("KUBEMONKEY_DRY_RUN"); ok && v != "" {
		if dry, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("import kube-monkey settings: KUBEMONKEY_DRY_RUN=%q is not true or false", v)
		}
	}
	m.d.dryRun = ptr(dry)
	if dry {
		m.d.note(nDryRun, nil, "dry run is on, as kube-monkey's default; set dryRun: false to kill pods")
	}
	m.grace = kmDefaultGrace
	if v, ok := get("KUBEMONKEY_GRACEPERIOD_SEC"); ok && v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 0 {
			return fmt.Errorf("import kube-monkey settings: KUBEMONKEY_GRACEPERIOD_SEC=%q is not a number of seconds", v)
		}
		m.grace = time.Duration(s) * time.Second
	}
	m.namespaces(get)
	m.unknownSettings()
	return nil
}

func (m *monkeyConv) namespaces(get func(string) (string, bool)) {
	if v, ok := get("KUBEMONKEY_WHITELISTED_NAMESPACES"); ok {
		for _, ns := range splitList(strings.NewReplacer(`"`, "", "[", "", "]", "").Replace(v)) {
			if ns == "*" {
				m.whitelist = nil // every namespace
				break
			}
			m.whitelist = append(m.whitelist, ns)
		}
	}
	m.blacklist = []string{"kube-system"}
	if v, ok := get("KUBEMONKEY_BLACKLISTED_NAMESPACES"); ok {
		m.blacklist = splitList(strings.NewReplacer(`"`, "", "[", "", "]", "").Replace(v))
	}
	for _, ns := range append(slices.Clone(m.whitelist), m.blacklist...) {
		m.hasPatterns = m.hasPatterns || isPattern(ns)
	}
	var excl []string
	for _, ns := range m.blacklist {
		if !isPattern(ns) && !slices.Contains(config.AlwaysExcludedNamespaces, ns) {
			excl = append(excl, ns)
		}
	}
	if len(excl) > 0 {
		m.d.policy = &draftPolicy{exclude: excl}
	}
	if !slices.Contains(m.blacklist, "kube-system") {
		m.d.note(nBuiltInExclusion, nil, "chaosd never targets kube-system or its own namespace unless a policy allows them, blacklisted or not")
	}
}

// kube-monkey's settings that are not KUBEMONKEY_*, as viper reads them
// from config.toml's other sections or the environment (kube-monkey v0.5.3,
// internal/pkg/config/param/param.go: `ClusterAPIServerHost = "kubernetes.host"`,
// `DebugEnabled = "debug.enabled"`, ..., `NotificationsEnabled =
// "notifications.enabled"`, `NotificationsProxy = "notifications.proxy"`,
// `NotificationsReportSchedule = "notifications.reportSchedule"`,
// `NotificationsAttacks = "notifications.attacks"`, a table of endpoint,
// message and headers; config.go: `viper.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))`).
var (
	kmDebugEnv = []string{"DEBUG_ENABLED", "DEBUG_FORCE_SHOULD_KILL", "DEBUG_SCHEDULE_IMMEDIATE_KILL", "DEBUG_SCHEDULE_DELAY"}
	kmHostEnv  = "KUBERNETES_HOST"
	kmNotifEnv = "NOTIFICATIONS_"
)

// KubeMonkeyEnvPrefixes are the environment variables kube-monkey reads,
// by prefix, for callers that collect them from os.Environ.
var KubeMonkeyEnvPrefixes = []string{"KUBEMONKEY_", "DEBUG_", kmNotifEnv, kmHostEnv}

// unknownSettings names every setting the translation does not map, so
// that nothing in the input is dropped without a word.
func (m *monkeyConv) unknownSettings() {
	var keys, notif []string
	for k := range m.env {
		switch {
		case slices.Contains(kubeMonkeyEnv, k), slices.Contains(kmDebugEnv, k):
		case k == kmHostEnv:
			m.d.note(nIgnoredFlag, nil, "%s only changes how kube-monkey reaches the API server; chaosd uses its in-cluster credentials", k)
		case strings.HasPrefix(k, kmNotifEnv):
			notif = append(notif, k)
		default:
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		m.d.warn(wUnsupportedFlag, nil, "%s is not a kube-monkey setting chaosd can translate; ignored", k)
	}
	m.notifications(notif)
	for _, k := range kmDebugEnv {
		if v, ok := m.env[k]; ok && v != "" && v != "false" {
			m.d.warn(wUnsupportedFlag, nil, "%s=%s: kube-monkey's debug mode has no equivalent; run one experiment now with `chaosd once NAME -f FILE`", k, v)
		}
	}
}

// notifications names kube-monkey's attack notifications: it posts its own
// message template per kill, chaosd's notifications.webhook posts a report
// per run, so nothing is converted. Values are not repeated: endpoints and
// headers often carry secrets.
func (m *monkeyConv) notifications(keys []string) {
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	if on, _ := strconv.ParseBool(strings.TrimSpace(m.env["NOTIFICATIONS_ENABLED"])); !on {
		m.d.note(nIgnoredFlag, nil, "%s: kube-monkey's notifications are off; chaosd's are off too", strings.Join(keys, ", "))
		return
	}
	m.d.warn(wUnsupportedSection, nil, "%s: kube-monkey posts its own message to an endpoint after each attack; chaosd's notifications.webhook (or slack) posts a report after each run instead, so set it up by hand (keep the URL in webhookURLFile or webhookURLEnv)", strings.Join(keys, ", "))
}

// allowed reports whether kube-monkey would touch a namespace: it must
// match the whitelist (when there is one) and not the blacklist, both
// lists of shell patterns.
func (m *monkeyConv) allowed(ns string) bool {
	match := func(list []string) bool {
		return slices.ContainsFunc(list, func(p string) bool { ok, _ := path.Match(p, ns); return ok })
	}
	if len(m.whitelist) > 0 && !match(m.whitelist) {
		return false
	}
	return !match(m.blacklist)
}

func (m *monkeyConv) newExperiment(name string) *draftExperiment {
	return &draftExperiment{
		name:   dnsLabel(name),
		target: draftTarget{kind: string(config.TargetPod)},
		action: draftAction{typ: string(config.ActionPodKill), gracePeriod: ptr(m.grace)},
	}
}

// catchAll is the experiment when no app labels are known: one pod of any
// opted-in app each weekday.
func (m *monkeyConv) catchAll() {
	e := m.newExperiment("kube-monkey")
	e.target.selector = kmEnabled + "=enabled"
	e.schedule, e.jitter, _ = m.daily(1)
	if len(m.whitelist) > 0 {
		if m.hasPatterns {
			e.disabled = true
			m.d.warn(wUnsupportedFilter, e, "the namespace lists hold patterns, which chaosd's namespaces cannot; the experiment is disabled until you list namespaces (or pass the apps)")
		}
		e.target.namespaces = slices.DeleteFunc(slices.Clone(m.whitelist), isPattern)
	}
	m.d.warn(wNoApps, e, "no app labels were given: one pod labelled %s=enabled is killed each weekday; pass the apps' manifests to translate their mtbf and kill-mode", kmEnabled)
	m.d.addExperiment(e)
}

func (m *monkeyConv) app(app App) {
	ref := strings.Trim(app.Namespace+"/"+app.Name, "/")
	l := app.Labels
	if l[kmEnabled] != "enabled" {
		m.d.note(nSkippedApp, nil, "%s: %s is not \"enabled\"; kube-monkey leaves it alone", ref, kmEnabled)
		return
	}
	if app.Namespace != "" && !m.allowed(app.Namespace) {
		m.d.note(nSkippedApp, nil, "%s: namespace %s is not whitelisted or is blacklisted", ref, app.Namespace)
		return
	}
	id := l[kmIdentifier]
	if id == "" {
		id = app.Name
	}
	if id == "" {
		m.d.warn(wInvalidValue, nil, "%s: no %s and no name; skipped", ref, kmIdentifier)
		return
	}
	e := m.newExperiment("kube-monkey-" + id)
	e.comment = []string{fmt.Sprintf("kube-monkey app %s (%s=%s)", ref, kmMTBF, l[kmMTBF])}
	if app.Namespace != "" {
		e.target.namespaces = []string{app.Namespace}
	} else if len(m.whitelist) > 0 && !m.hasPatterns {
		e.target.namespaces = m.whitelist
	}
	e.target.selector = app.PodSelector
	if e.target.selector == "" {
		e.target.selector = kmIdentifier + "=" + id
		m.d.note(nIdentifierSelector, e, "%s: pods are selected by %s=%s, so the pod template must carry that label (kube-monkey before 0.4 required it too)", ref, kmIdentifier, id)
	}
	mode, ok := m.killMode(ref, l)
	if !ok {
		return
	}
	e.target.mode = mode
	schedule, jitter, err := m.fromMTBF(l[kmMTBF])
	if err != nil {
		m.d.warn(wInvalidValue, nil, "%s: %s=%q %v; skipped", ref, kmMTBF, l[kmMTBF], err)
		return
	}
	e.schedule, e.jitter = schedule, jitter
	m.d.warn(wApproxSchedule, e, "%s: %s=%s is a mean time between kills that kube-monkey rolls dice for each weekday; chaosd fires on schedule %q, with up to %s of jitter", ref, kmMTBF, l[kmMTBF], schedule, formatDuration(jitter))
	m.d.addExperiment(e)
}

func (m *monkeyConv) killMode(ref string, l map[string]string) (string, bool) {
	mode := l[kmKillMode]
	if mode == "" && l[kmKillAll] == "kill-all" {
		mode = "kill-all"
	}
	value := l[kmKillValue]
	n, err := strconv.Atoi(value)
	needsValue := func(lo, hi int) bool {
		if err != nil || n < lo || n > hi {
			m.d.warn(wInvalidValue, nil, "%s: %s=%s needs %s between %d and %d, got %q; skipped", ref, kmKillMode, mode, kmKillValue, lo, hi, value)
			return false
		}
		return true
	}
	switch mode {
	case "":
		return "", true
	case "kill-all":
		return "all", true
	case "fixed":
		if !needsValue(1, 1<<30) {
			return "", false
		}
		if n == 1 {
			return "", true
		}
		return fmt.Sprintf("count:%d", n), true
	case "fixed-percent":
		if !needsValue(1, 100) {
			return "", false
		}
		return fmt.Sprintf("percent:%d", n), true
	case "random-max-percent":
		if !needsValue(1, 100) {
			return "", false
		}
		return fmt.Sprintf("maxPercent:%d", n), true
	}
	m.d.warn(wInvalidValue, nil, "%s: %s=%q is not kill-all, fixed, fixed-percent or random-max-percent; skipped", ref, kmKillMode, mode)
	return "", false
}

// isPattern reports whether a kube-monkey namespace entry is a shell pattern.
func isPattern(ns string) bool { return strings.ContainsAny(ns, "*?[") }
