package importer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/chaosd/chaosd/internal/config"
)

// chaoskubeFlags are the flags of linki/chaoskube's main.go.
var chaoskubeFlags = map[string]flagKind{
	"labels": flagValue, "annotations": flagValue, "kinds": flagValue,
	"namespaces": flagValue, "namespace-labels": flagValue,
	"included-pod-names": flagValue, "excluded-pod-names": flagValue,
	"excluded-weekdays": flagValue, "excluded-times-of-day": flagValue, "excluded-days-of-year": flagValue,
	"timezone": flagValue, "minimum-age": flagValue, "max-runtime": flagValue, "max-kill": flagValue,
	"master": flagValue, "kubeconfig": flagValue, "interval": flagValue,
	"dynamic-interval": flagBool, "dynamic-interval-factor": flagValue,
	"dry-run": flagBool, "debug": flagBool, "metrics-address": flagValue, "grace-period": flagValue,
	"log-format": flagValue, "log-caller": flagBool, "slack-webhook": flagValue, "webhook": flagValue,
	"client-namespace-scope": flagValue,
}

// Flags that only change how chaoskube runs, not what it breaks.
var chaoskubeOperational = []string{"master", "kubeconfig", "debug", "metrics-address", "log-format", "log-caller"}

// chaoskubeDefaultInterval is chaoskube's --interval default.
const chaoskubeDefaultInterval = 10 * time.Minute

// Chaoskube translates chaoskube's flags into one pod-kill experiment:
//   - --interval becomes the schedule (@every), --max-kill the mode;
//   - --labels, --namespace-labels, --kinds and --namespaces select the
//     pods, with !ns exclusions and --minimum-age in the default policy;
//   - the excluded weekdays, times of day and days of year become windows;
//   - dry-run stays on unless --no-dry-run, as in chaoskube.
func (o Options) Chaoskube(args []string) (Result, error) {
	o = o.withDefaults()
	fl, err := parseFlags(args, chaoskubeFlags)
	if err != nil {
		return Result{}, fmt.Errorf("import chaoskube flags: %w", err)
	}
	d := &draft{
		source:     "chaoskube flags",
		amURL:      o.AlertmanagerURL,
		scheduleOK: true,
		header: []string{
			"chaoskube kills random pods every --interval. chaosd does the same on the schedule below,",
			"and halts, reverts and pauses itself while the guard's alerts fire.",
		},
	}
	d.note(nAssumedGuard, nil, "guard.alertmanager.url is %s; point it at your Alertmanager", o.AlertmanagerURL)
	k := &kubeConv{d: d, fl: fl, now: o.Now()}
	e := &draftExperiment{
		name:   "chaoskube",
		target: draftTarget{kind: string(config.TargetPod)},
		action: draftAction{typ: string(config.ActionPodKill)},
	}
	k.exp = e
	k.schedule()
	k.dryRun()
	k.selectors()
	k.kinds()
	k.namespaces()
	k.quietTimes()
	k.killing()
	k.ignored()
	d.addExperiment(e)
	return d.finish()
}

type kubeConv struct {
	d   *draft
	fl  parsedFlags
	exp *draftExperiment
	now time.Time
}

func (k *kubeConv) flag(name string) (string, bool) {
	v, ok := k.fl.get(name)
	return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
}

func (k *kubeConv) invalid(name, value, consequence string) {
	k.d.warn(wInvalidValue, k.exp, "--%s=%s: %s", name, value, consequence)
}

func (k *kubeConv) schedule() {
	interval := chaoskubeDefaultInterval
	if v, ok := k.flag("interval"); ok {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d <= 0:
			k.invalid("interval", v, "not a positive duration; chaoskube's default 10m is used")
		case d < time.Second || d%time.Second != 0:
			interval = time.Duration(math.Ceil(d.Seconds())) * time.Second
			k.invalid("interval", v, "chaosd schedules whole seconds; "+formatDuration(interval)+" is used")
		default:
			interval = d
		}
	}
	k.exp.schedule = "@every " + formatDuration(interval)
	for _, f := range []string{"dynamic-interval", "dynamic-interval-factor"} {
		if v, ok := k.flag(f); ok && v != "false" {
			k.d.warn(wUnsupportedFlag, k.exp, "--%s: chaosd's interval does not scale with the number of pods; the fixed --interval is used", f)
		}
	}
}

func (k *kubeConv) dryRun() {
	live := false
	if v, ok := k.flag("dry-run"); ok {
		dry, err := strconv.ParseBool(v)
		if err != nil {
			k.invalid("dry-run", v, "not true or false; dry run stays on")
			dry = true
		}
		live = !dry
	}
	k.d.dryRun = ptr(!live)
	if !live {
		k.d.note(nDryRun, nil, "dry run is on, as chaoskube's default; set dryRun: false (chaoskube's --no-dry-run) to kill pods")
	}
}

func (k *kubeConv) selectors() {
	t := &k.exp.target
	t.selector, _ = k.flag("labels")
	t.namespaceSelector, _ = k.flag("namespace-labels")
	if ann, ok := k.flag("annotations"); ok {
		k.annotations(ann)
	}
	for _, f := range []string{"included-pod-names", "excluded-pod-names"} {
		if v, ok := k.flag(f); ok {
			k.disable("--%s=%s: chaosd cannot select pods by name; use labels, or annotate pods to skip with chaosd.io/exclude=true", f, v)
		}
	}
}

// annotations maps an annotation selector. Only the opt-in pattern
// (--annotations=some/enabled=true) has an equivalent, chaosd's optIn.
func (k *kubeConv) annotations(ann string) {
	sel, err := labels.Parse(ann)
	if err != nil {
		k.disable("--annotations=%s: not a selector chaosd understands", ann)
		return
	}
	rs, _ := sel.Requirements()
	if len(rs) == 1 && (rs[0].Operator() == selection.Equals || rs[0].Operator() == selection.DoubleEquals) && rs[0].Values().Has("true") {
		k.exp.target.optIn = true
		if rs[0].Key() != "chaosd.io/enabled" {
			k.d.warn(wOptInAnnotation, k.exp, "--annotations=%s became optIn: true, which reads chaosd.io/enabled=true on the pod, its workload or its namespace; annotate them so instead of %s", ann, rs[0].Key())
		}
		return
	}
	k.disable("--annotations=%s: chaosd cannot select pods by annotation (only opt in with chaosd.io/enabled=true and opt out with chaosd.io/exclude=true)", ann)
}

func (k *kubeConv) disable(format string, args ...any) {
	k.exp.disabled = true
	k.d.warn(wUnsupportedFilter, k.exp, "%s; the experiment is disabled rather than run against more pods", fmt.Sprintf(format, args...))
}

// ownerKindsOf maps a pod owner's kind, as chaoskube's --kinds sees it, to
// chaosd's ownerKinds: a Deployment's pods are owned by a ReplicaSet, and
// no pod is owned by a Deployment directly, so chaoskube's Deployment
// matches no pod.
func ownerKindsOf(kind string) []string {
	switch kind {
	case "ReplicaSet":
		return []string{"Deployment", "ReplicaSet"}
	case "StatefulSet", "DaemonSet":
		return []string{kind}
	}
	return nil
}

var allOwnerKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"}

// kinds maps --kinds as chaoskube v0.39.1 applies it (chaoskube/chaoskube.go,
// filterByKinds): `included := len(reqIncl) == 0`, then for each owner
// reference `selector := labels.Set{ref.Kind: ""}`, included when an
// including requirement matches, and `if !req.Matches(selector) { included =
// false }` for an excluding one. So exclusions alone keep every other owner
// (Jobs, ReplicationControllers, custom controllers) and bare pods: chaosd's
// excludeOwnerKinds, not an allow-list. Any inclusion leaves out bare pods.
func (k *kubeConv) kinds() {
	v, ok := k.flag("kinds")
	if !ok {
		return
	}
	var include, exclude []string
	for _, item := range splitList(v) {
		if kind, neg := strings.CutPrefix(item, "!"); neg {
			exclude = append(exclude, kind)
		} else {
			include = append(include, item)
		}
	}
	if len(include) == 0 {
		k.excludeKinds(exclude)
		return
	}
	var set []string // chaoskube: any include leaves out pods without an owner
	for _, kind := range include {
		mapped := ownerKindsOf(kind)
		if kind == "Deployment" {
			k.d.note(nDriverIgnored, k.exp, "--kinds=Deployment: chaoskube compares the pod's direct owner, a ReplicaSet for a Deployment's pods, so it includes no pod; neither does chaosd (write ReplicaSet to include them)")
		} else if mapped == nil {
			k.d.warn(wUnsupportedFilter, k.exp, "--kinds: chaosd cannot target pods owned by a %s; they are left out", kind)
		}
		for _, m := range mapped {
			if !slices.Contains(set, m) {
				set = append(set, m)
			}
		}
	}
	for _, kind := range exclude {
		mapped := ownerKindsOf(kind) // !Deployment excludes nothing, as in chaoskube
		set = slices.DeleteFunc(set, func(s string) bool { return slices.Contains(mapped, s) })
	}
	if len(set) == 0 {
		k.disable("--kinds=%s: none of these owners is one chaosd can target", v)
		return
	}
	slices.SortFunc(set, func(a, b string) int { return slices.Index(allOwnerKinds, a) - slices.Index(allOwnerKinds, b) })
	k.exp.target.ownerKinds = set
}

// excludeKinds maps exclusion-only --kinds to excludeOwnerKinds. chaoskube
// compares the kind of the pod's direct owner: !ReplicaSet leaves out a
// Deployment's pods too (chaosd names them Deployment), and !Deployment
// leaves out nothing, as no pod is owned by a Deployment.
func (k *kubeConv) excludeKinds(exclude []string) {
	var out []string
	for _, kind := range exclude {
		mapped := []string{kind}
		switch kind {
		case "ReplicaSet":
			mapped = []string{"Deployment", "ReplicaSet"}
		case "Deployment":
			k.d.note(nDriverIgnored, k.exp, "--kinds=!Deployment: chaoskube compares the pod's direct owner, a ReplicaSet for a Deployment's pods, so it excludes nothing; neither does chaosd (write !ReplicaSet to leave them out)")
			mapped = nil
		}
		for _, m := range mapped {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	k.exp.target.excludeOwnerKinds = out
}

func (k *kubeConv) namespaces() {
	var include, exclude []string
	if v, ok := k.flag("namespaces"); ok {
		for _, item := range splitList(v) {
			if ns, neg := strings.CutPrefix(item, "!"); neg {
				exclude = append(exclude, ns)
			} else {
				include = append(include, item)
			}
		}
	}
	if scope, ok := k.flag("client-namespace-scope"); ok {
		if len(include) > 0 && !slices.Contains(include, scope) {
			k.disable("--client-namespace-scope=%s lies outside --namespaces", scope)
			return
		}
		include = []string{scope}
	}
	include = slices.DeleteFunc(include, func(ns string) bool { return slices.Contains(exclude, ns) })
	k.exp.target.namespaces = include
	var excl, allow []string
	for _, ns := range exclude {
		if !slices.Contains(config.AlwaysExcludedNamespaces, ns) {
			excl = append(excl, ns)
		}
	}
	for _, ns := range include {
		if slices.Contains(config.AlwaysExcludedNamespaces, ns) {
			allow = append(allow, ns)
			k.d.note(nBuiltInExclusion, k.exp, "namespace %s is listed in --namespaces, so the default policy allows it (chaosd excludes it otherwise)", ns)
		}
	}
	if len(include) == 0 && !slices.Contains(exclude, "kube-system") {
		k.d.note(nBuiltInExclusion, k.exp, "chaosd never targets kube-system or its own namespace unless a policy allows them; chaoskube targeted every namespace")
	}
	k.policy().exclude, k.policy().allow = excl, allow
}

func (k *kubeConv) policy() *draftPolicy {
	if k.d.policy == nil {
		k.d.policy = &draftPolicy{}
	}
	return k.d.policy
}

func (k *kubeConv) killing() {
	if v, ok := k.flag("max-kill"); ok {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			k.invalid("max-kill", v, "not a positive whole number; one pod is killed")
		case n > 1:
			k.exp.target.mode = fmt.Sprintf("count:%d", n)
		}
	}
	if v, ok := k.flag("grace-period"); ok {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			k.invalid("grace-period", v, "not a duration; the pod's own grace period is used")
		case d >= 0:
			k.exp.action.gracePeriod = &d
		}
	}
	if v, ok := k.flag("minimum-age"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			k.invalid("minimum-age", v, "not a duration; no minimum age")
		} else if d > 0 {
			k.policy().minPodAge = d
		}
	}
}

func (k *kubeConv) ignored() {
	if v, ok := k.flag("max-runtime"); ok && !strings.HasPrefix(v, "-") {
		k.d.warn(wUnsupportedFlag, k.exp, "--max-runtime=%s: chaosd runs until stopped; run single experiments with `chaosd once`", v)
	}
	if _, ok := k.flag("slack-webhook"); ok {
		k.d.warn(wUnsupportedFlag, k.exp, "--slack-webhook: the URL is a secret; put it in a file or environment variable and set notifications.slack.webhookURLFile or webhookURLEnv")
	}
	if v, ok := k.flag("webhook"); ok {
		k.d.warn(wUnsupportedFlag, k.exp, "--webhook=%s: chaosd calls no webhook before a kill; notifications.webhook reports runs instead", v)
	}
	for _, f := range chaoskubeOperational {
		if _, ok := k.flag(f); ok {
			k.d.note(nIgnoredFlag, nil, "--%s only changes how chaoskube runs; chaosd has its own flags and in-cluster credentials", f)
		}
	}
	for _, u := range k.fl.unknown {
		k.d.warn(wUnsupportedFlag, nil, "%s is not a chaoskube flag; ignored", u)
	}
}

// splitList splits a comma- or space-separated list, dropping empties.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}
