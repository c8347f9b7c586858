package importer

import (
	"fmt"
	"strings"

	"github.com/chaosd/chaosd/internal/config"
)

// importedVSLabel is the label an imported experiment selects a named
// VirtualService by: chaosd targets VirtualServices by selector, never by
// name, so the user labels the one the experiment named.
const importedVSLabel = "chaosd.io/virtualservice"

// Chaos Toolkit functions chaosd's automatic revert replaces, and which
// actions each one undoes.
var reverts = map[string][]config.ActionType{
	"chaosk8s.node.actions.uncordon_node":         {config.ActionNodeDrain, config.ActionNodeCordon},
	"chaosistio.fault.actions.remove_abort_fault": {config.ActionHTTPAbort, config.ActionHTTPFault},
	"chaosistio.fault.actions.remove_delay_fault": {config.ActionHTTPDelay, config.ActionHTTPFault},
	"chaosistio.fault.actions.unset_fault":        {config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault},
}

// deprecatedAlias is a driver function that still works by calling another.
type deprecatedAlias struct {
	to, how string
	rename  func(a *args) // the arguments as the replacement receives them
}

// deprecatedAliases are the deprecated functions chaosd converts like their
// replacement, as the driver runs them. chaostoolkit-kubernetes 0.39.0,
// chaosk8s/pod/actions.py, delete_pods(name=None, ns="default",
// label_selector=None): `_log_deprecated("delete_pods", "terminate_pods");
// return terminate_pods(name_pattern=name, label_selector=label_selector, ns=ns)`.
var deprecatedAliases = map[string]deprecatedAlias{
	"chaosk8s.pod.actions.delete_pods": {
		to:  "chaosk8s.pod.actions.terminate_pods",
		how: "its name is terminate_pods' name_pattern",
		rename: func(a *args) {
			if v, ok := a.m["name"]; ok {
				m := make(map[string]any, len(a.m))
				for k, x := range a.m {
					m[k] = x
				}
				delete(m, "name")
				m["name_pattern"] = v
				a.m = m
			}
		},
	},
}

func (c *ctkConv) action(where string, act ctkActivity) {
	p := act.Provider
	label := where
	if act.Name != "" {
		label = fmt.Sprintf("%s %q", where, act.Name)
	}
	if p == nil || p.Type != "python" {
		c.warn(wUnsupportedProvider, nil, label, "%s cannot be mapped: chaosd injects its own faults (pod-kill, http-abort/delay/fault, node-cordon/drain/delete, http-load)%s", p.function(), providerHint(p))
		return
	}
	fn := p.function()
	if _, ok := reverts[fn]; ok {
		c.note(nAutomaticRevert, nil, label, "%s in the method is not needed: chaosd reverts every fault itself", fn)
		return
	}
	substituted, missing := c.substMissing(p.args())
	a := newArgs(asMap(substituted))
	var f *fault
	if alias, ok := deprecatedAliases[fn]; ok {
		c.note(nDeprecatedAlias, nil, label, "%s is a deprecated alias of %s (%s); converted like it", fn, alias.to, alias.how)
		alias.rename(a)
		fn = alias.to
	}
	switch fn {
	case "chaosk8s.pod.actions.terminate_pods":
		f = c.terminatePods(label, a)
	case "chaosk8s.node.actions.drain_nodes":
		f = c.nodes(label, a, config.ActionNodeDrain)
	case "chaosk8s.node.actions.delete_nodes":
		f = c.nodes(label, a, config.ActionNodeDelete)
	case "chaosk8s.node.actions.cordon_node":
		f = c.nodes(label, a, config.ActionNodeCordon)
	case "chaosistio.fault.actions.add_abort_fault", "chaosistio.fault.actions.add_delay_fault", "chaosistio.fault.actions.set_fault":
		f = c.istioFault(label, a)
	default:
		c.warn(wUnsupportedProvider, nil, label, "Python function %s has no chaosd equivalent", fn)
		return
	}
	c.unresolved(f.exp, label, missing)
	for _, e := range a.errs {
		c.warn(wInvalidValue, f.exp, label, "argument %s; the default was used", e)
	}
	if rest := a.unread(); len(rest) > 0 {
		c.warn(wUnsupportedArgument, f.exp, label, "%s: argument(s) %s have no chaosd equivalent and were ignored", fn, strings.Join(rest, ", "))
	}
	f.where = label
	if f.vs == "" || !c.mergeHTTP(label, f) {
		c.faults = append(c.faults, f)
	}
}

// providerHint points requests and load generators at http-load.
func providerHint(p *ctkProvider) string {
	switch {
	case p != nil && p.Type == "http":
		return "; requests sent as an action are chaosd's http-load action (target kind url)"
	case p != nil && p.Type == "process" && strings.Contains(fmt.Sprint(p.Arguments), "http"):
		return "; a load generator run as a process is chaosd's http-load action (target kind url)"
	}
	return ""
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// terminatePods maps chaosk8s.pod.actions.terminate_pods.
func (c *ctkConv) terminatePods(label string, a *args) *fault {
	ns := a.str("ns")
	if ns == "" {
		ns = "default" // terminate_pods' own default
	}
	t := draftTarget{kind: string(config.TargetPod), namespaces: []string{ns}, selector: a.str("label_selector")}
	act := draftAction{typ: string(config.ActionPodKill)}
	e := c.newExperiment(t, act)
	all, random := a.boolean("all"), a.boolean("rand")
	mode := a.str("mode")
	qty, hasQty := a.integer("qty")
	switch {
	case all:
		e.target.mode = "all"
	case mode == "percentage":
		if !hasQty || qty < 1 || qty > 100 {
			c.warn(wInvalidValue, e, label, "qty %d is not a percentage of 1-100; one pod is killed", qty)
			break
		}
		e.target.mode = fmt.Sprintf("percent:%d", qty)
	case mode == "" || mode == "fixed":
		if hasQty && qty > 1 {
			e.target.mode = fmt.Sprintf("count:%d", qty)
		} else if hasQty && qty < 1 {
			c.warn(wInvalidValue, e, label, "qty %d kills nothing; one pod is killed", qty)
		}
	default:
		c.warn(wInvalidValue, e, label, "mode %q is neither fixed nor percentage; one pod is killed", mode)
	}
	a.ignore("order")
	if !random && !all {
		c.warn(wNotRandom, e, label, "without rand: true terminate_pods picks pods in a fixed order (%s); chaosd always picks at random", orDefault(a.m["order"], "alphabetic"))
	}
	if gp, ok := a.integer("grace_period"); ok && gp >= 0 {
		e.action.gracePeriod = ptr(secondsToDuration(float64(gp)))
	}
	if np := a.str("name_pattern"); np != "" {
		c.disable(e, label, "name_pattern %q: chaosd cannot select pods by name; label them and use label_selector", np)
	}
	return &fault{exp: e}
}

// nodes maps drain_nodes, delete_nodes and cordon_node of chaosk8s.node.actions.
func (c *ctkConv) nodes(label string, a *args, typ config.ActionType) *fault {
	t := draftTarget{kind: string(config.TargetNode), selector: a.str("label_selector")}
	e := c.newExperiment(t, draftAction{typ: string(typ)})
	c.podFilter(label, a, e)
	if name := a.str("name"); name != "" {
		e.target.selector = joinSelector(e.target.selector, "kubernetes.io/hostname="+name)
		c.note(nNamedNode, e, label, "node %q is selected by its kubernetes.io/hostname label", name)
	}
	count, hasCount := a.integer("count")
	all := a.boolean("all")
	random := a.boolean("rand")
	switch {
	case all:
		e.target.mode = "all"
	case hasCount && count > 1:
		e.target.mode = fmt.Sprintf("count:%d", count)
	case hasCount && count == 1, random:
		// one, chaosd's default; chaosk8s samples these at random too
	case typ == config.ActionNodeDelete:
		c.warn(wNotRandom, e, label, "without count or rand delete_nodes deletes the first matching node; chaosd picks one at random")
	default:
		// chaosk8s drains or cordons every matching node when no count is given.
		e.target.mode = "all"
	}
	f := &fault{exp: e, holds: typ != config.ActionNodeDelete}
	switch typ {
	case config.ActionNodeDrain:
		e.action.deleteEmptyDirData = a.boolean("delete_pods_with_local_storage")
		if d, ok := a.seconds("timeout"); ok && d > 0 {
			e.action.timeout = d
		}
	case config.ActionNodeDelete:
		if a.has("grace_period") {
			c.warn(wUnsupportedArgument, e, label, "grace_period: chaosd deletes the Node object, which has no grace period; ignored")
			a.ignore("grace_period")
		}
	}
	return f
}

// podFilter maps the node actions' pod filter as the driver applies it.
// chaostoolkit-kubernetes 0.39.0, chaosk8s/node/actions.py, _select_nodes:
// `if pod_label_selector and pod_namespace: pods = v1.list_namespaced_pod(
// pod_namespace, label_selector=pod_label_selector)` keeps the nodes running
// one of those pods; with only one of the two given, nothing is filtered.
func (c *ctkConv) podFilter(label string, a *args, e *draftExperiment) {
	ns, sel := a.str("pod_namespace"), a.str("pod_label_selector")
	switch {
	case ns != "" && sel != "":
		// chaosd's podNamespace keeps nodes running any pod of the
		// namespace, more than those running a pod with these labels.
		e.target.podNamespace = ns
		c.disable(e, label, "pod_label_selector %q: chaosd keeps nodes running any pod of %s (podNamespace), not only pods with these labels", sel, ns)
	case ns != "":
		c.note(nDriverIgnored, e, label, "pod_namespace %q without pod_label_selector filters nothing in the driver; every matching node stays a candidate", ns)
	case sel != "":
		c.note(nDriverIgnored, e, label, "pod_label_selector %q without pod_namespace filters nothing in the driver; every matching node stays a candidate", sel)
	}
}

func (c *ctkConv) rollback(where string, act ctkActivity) {
	fn := act.Provider.function()
	label := where
	if act.Name != "" {
		label = fmt.Sprintf("%s %q", where, act.Name)
	}
	undoes, ok := reverts[fn]
	if act.Provider == nil || act.Provider.Type != "python" || !ok {
		c.warn(wUnsupportedRollback, nil, label, "%s is not run by chaosd; chaosd only reverts the faults it injected", fn)
		return
	}
	var covered []string
	for _, f := range c.faults {
		if containsType(undoes, f.exp.action.typ) {
			f.undo = true
			covered = append(covered, f.exp.action.typ)
		}
	}
	if len(covered) == 0 {
		c.note(nAutomaticRevert, nil, label, "%s undoes nothing this experiment injects; not needed", fn)
		return
	}
	c.note(nAutomaticRevert, nil, label, "%s is covered by chaosd's automatic revert of %s", fn, strings.Join(covered, ", "))
}

// disable turns an experiment off because a filter that narrows its
// targets cannot be expressed: running it anyway would widen the blast
// radius.
func (c *ctkConv) disable(e *draftExperiment, label, format string, args ...any) {
	e.disabled = true
	c.warn(wUnsupportedFilter, e, label, "%s; the experiment is disabled rather than run against more targets", fmt.Sprintf(format, args...))
}

func containsType(ts []config.ActionType, t string) bool {
	for _, x := range ts {
		if string(x) == t {
			return true
		}
	}
	return false
}

func firstMap(ms ...map[string]any) map[string]any {
	for _, m := range ms {
		if m != nil {
			return m
		}
	}
	return nil
}

func joinSelector(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

func orDefault(v any, def string) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return def
}
