package importer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// defaultHold is how long a fault is held when the experiment never
// paused: Chaos Toolkit holds it only until its rollbacks run, and chaosd
// needs a positive duration for every fault it reverts.
const defaultHold = time.Minute

// ChaosToolkit translates Chaos Toolkit experiments (YAML or JSON) into one
// chaosd config:
//   - each fault in a method becomes an experiment on Options.Schedule;
//     an abort and a delay on the same VirtualService become one http-fault;
//   - pauses after a fault become how long it is held (duration), or, for
//     faults that hold nothing (pod-kill, node-delete), the observe window;
//   - rollbacks that undo a fault are covered by chaosd's automatic revert;
//   - Prometheus probes become guard checks; other probes, providers and
//     rollbacks are reported as warnings.
func (o Options) ChaosToolkit(files ...File) (Result, error) {
	if len(files) == 0 {
		return Result{}, errors.New("import Chaos Toolkit: no experiment files given")
	}
	o = o.withDefaults()
	d := &draft{
		source: "Chaos Toolkit experiments " + fileNames(files),
		amURL:  o.AlertmanagerURL,
		header: []string{
			"Chaos Toolkit runs an experiment once and checks its steady-state hypothesis before and",
			"after. chaosd runs each experiment on its schedule against random targets and judges every",
			"run by the guard: Alertmanager alerts and Prometheus checks before, during and after it.",
		},
	}
	if !o.Live {
		d.dryRun = ptr(true)
		d.note(nDryRun, nil, "the config starts with dryRun: true; check `chaosd plan` and set it to false to inject faults")
	}
	d.note(nDefaultSchedule, nil, "each experiment runs on schedule %q with jitter %s; to run one once (as `chaos run` did), use `chaosd once NAME -f FILE`", o.Schedule, formatDuration(o.Jitter))
	d.note(nAssumedGuard, nil, "guard.alertmanager.url is %s; point it at your Alertmanager", o.AlertmanagerURL)
	for _, f := range files {
		exp, err := decodeExperiment(f)
		if err != nil {
			return Result{}, err
		}
		c := &ctkConv{d: d, o: o, file: f.Name, exp: exp, vars: resolveConfiguration(exp.Configuration, o.LookupEnv)}
		c.convert()
	}
	if len(d.checks) > 0 && d.promURL == "" {
		d.promURL = o.PrometheusURL
		d.note(nAssumedGuard, nil, "guard.prometheus.url is %s (no experiment set prometheus_base_url); point it at your Prometheus", o.PrometheusURL)
	}
	return d.finish()
}

// ctkConv converts one experiment file.
type ctkConv struct {
	d      *draft
	o      Options
	file   string
	exp    ctkExperiment
	vars   variables
	faults []*fault
	seen   map[string]bool // probes already translated, by name
	used   map[string]bool // configuration entries used, for notes
}

// fault is one chaosd experiment in the making.
type fault struct {
	exp   *draftExperiment
	where string        // "method[0]"
	holds bool          // reverted after duration (else it holds nothing)
	held  time.Duration // pauses between its injection and the method's end
	vs    string        // "ns/name" of an Istio fault, to merge abort and delay
	undo  bool          // a rollback of the experiment undoes it
}

func (c *ctkConv) convert() {
	start := len(c.d.findings)
	c.seen, c.used = map[string]bool{}, map[string]bool{}
	c.sections()
	if ss := c.exp.SteadyState; ss != nil {
		for i, p := range ss.Probes {
			c.probe(fmt.Sprintf("steady-state-hypothesis.probes[%d]", i), c.deref(p))
		}
	}
	for i, act := range c.exp.Method {
		where := fmt.Sprintf("method[%d]", i)
		act = c.deref(act)
		before, after := c.pauses(where, act)
		c.hold(where, "before", before)
		if act.Type == "probe" {
			c.probe(where, act)
		} else {
			c.action(where, act)
		}
		c.hold(where, "after", after)
	}
	for i, act := range c.exp.Rollbacks {
		c.rollback(fmt.Sprintf("rollbacks[%d]", i), c.deref(act))
	}
	c.finishFaults()
	c.noteVariables()
	// Findings about the file rather than one fault go next to its first
	// experiment; with none, to the header.
	if len(c.faults) > 0 {
		for i := start; i < len(c.d.findings); i++ {
			if c.d.findings[i].exp == nil {
				c.d.findings[i].exp = c.faults[0].exp
			}
		}
	}
}

func (c *ctkConv) sections() {
	if len(c.exp.Controls) > 0 {
		c.warn(wUnsupportedSection, nil, "controls", "chaosd has no controls; it reports through notifications and its run journal")
	}
	if len(c.exp.Extensions) > 0 {
		c.warn(wUnsupportedSection, nil, "extensions", "ignored")
	}
	if len(c.exp.Secrets) > 0 {
		c.note(nIgnoredFlag, nil, "secrets", "not needed: chaosd acts with its own service account")
	}
}

// deref resolves `ref:` to the activity of that name declared earlier; a
// tolerance on the ref itself wins, as in Chaos Toolkit.
func (c *ctkConv) deref(act ctkActivity) ctkActivity {
	if act.Ref == "" {
		return act
	}
	var all []ctkActivity
	if c.exp.SteadyState != nil {
		all = append(all, c.exp.SteadyState.Probes...)
	}
	all = append(all, c.exp.Method...)
	for _, a := range all {
		if a.Name == act.Ref && a.Ref == "" {
			if act.Tolerance != nil {
				a.Tolerance = act.Tolerance
			}
			return a
		}
	}
	return act
}

func (c *ctkConv) pauses(where string, act ctkActivity) (before, after time.Duration) {
	if act.Pauses == nil {
		return 0, 0
	}
	read := func(field string, v any) time.Duration {
		if v == nil {
			return 0
		}
		v = c.subst(where+".pauses", v)
		s, ok := toFloat(v)
		if !ok || s < 0 {
			c.warn(wInvalidValue, nil, where, "pauses.%s %v is not a number of seconds; ignored", field, v)
			return 0
		}
		return secondsToDuration(s)
	}
	return read("before", act.Pauses.Before), read("after", act.Pauses.After)
}

// hold adds a pause to every fault injected so far: Chaos Toolkit keeps
// them in place until the method ends.
func (c *ctkConv) hold(where, which string, d time.Duration) {
	if d == 0 {
		return
	}
	if len(c.faults) == 0 {
		c.note(nIgnoredFlag, nil, where, "pauses.%s %s comes before any fault; chaosd starts a fault when its schedule fires", which, formatDuration(d))
		return
	}
	for _, f := range c.faults {
		f.held += d
	}
}

// subst resolves ${name} references and reports the ones that resolve to
// nothing; what used them is left out.
func (c *ctkConv) subst(where string, v any) any {
	out, missing := c.substMissing(v)
	c.unresolved(nil, where, missing)
	return out
}

func (c *ctkConv) substMissing(v any) (any, []string) {
	out, missing := c.vars.substitute(v)
	for _, name := range varRef.FindAllStringSubmatch(fmt.Sprint(v), -1) {
		c.used[name[1]] = true
	}
	return out, missing
}

func (c *ctkConv) unresolved(e *draftExperiment, where string, missing []string) {
	for _, m := range missing {
		c.warn(wUnresolvedVariable, e, where, "${%s} is neither in the configuration section nor in the environment; what uses it is left out (and its experiment disabled) until it is set and imported again", m)
	}
}

func (c *ctkConv) noteVariables() {
	var names []string
	for n := range c.used {
		if c.vars.from[n] != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		c.note(nResolvedVariable, nil, "configuration."+n, "resolved to %q from %s when importing; chaosd reads no environment at run time, so re-import when it changes", fmt.Sprint(c.vars.values[n]), c.vars.from[n])
	}
}

func (c *ctkConv) finishFaults() {
	if len(c.faults) == 0 {
		c.warn(wNothingToRun, nil, "method", "no fault chaosd can inject; no experiment was created")
		return
	}
	if len(c.faults) > 1 {
		var kinds []string
		for _, f := range c.faults {
			kinds = append(kinds, f.exp.action.typ)
		}
		c.warn(wSplitExperiment, nil, "method", "has %d faults (%s); chaosd runs one fault per experiment, so they became %d experiments that run independently", len(c.faults), strings.Join(kinds, ", "), len(c.faults))
	}
	for i, f := range c.faults {
		e := f.exp
		if len(c.faults) > 1 {
			e.name = fmt.Sprintf("%s-%d", e.name, i+1)
		}
		switch {
		case !f.holds:
			e.observe = f.held
		case f.held > 0:
			e.duration = f.held
		default:
			e.duration = defaultHold
			c.note(nDefaultDuration, e, f.where, "%s is held for %s: the experiment never pauses, and chaosd needs a duration before it reverts", e.action.typ, formatDuration(defaultHold))
		}
		if f.holds && !f.undo {
			c.note(nAutomaticRevert, e, f.where, "no rollback undoes %s, but chaosd reverts it after duration anyway", e.action.typ)
		}
		if strings.Contains(e.target.selector, "${") {
			e.target.selector = ""
			e.disabled = true
		}
		if strings.Contains(e.target.podNamespace, "${") || slices.ContainsFunc(e.target.namespaces, func(s string) bool { return strings.Contains(s, "${") }) {
			e.target.podNamespace, e.target.namespaces = "", nil
			e.disabled = true
		}
		c.d.addExperiment(e)
	}
}

// newExperiment starts an experiment named after the file.
func (c *ctkConv) newExperiment(t draftTarget, a draftAction) *draftExperiment {
	name := nameFromFile(c.file)
	if name == "" {
		name = dnsLabel(c.exp.Title)
	}
	var comment []string
	if c.exp.Title != "" {
		comment = []string{c.exp.Title}
	}
	return &draftExperiment{name: name, comment: comment, schedule: c.o.Schedule, jitter: c.o.Jitter, target: t, action: a}
}

func (c *ctkConv) warn(k kind, e *draftExperiment, where, format string, args ...any) {
	c.d.warn(k, e, "%s %s: %s", c.file, where, fmt.Sprintf(format, args...))
}

func (c *ctkConv) note(k kind, e *draftExperiment, where, format string, args ...any) {
	c.d.note(k, e, "%s %s: %s", c.file, where, fmt.Sprintf(format, args...))
}
