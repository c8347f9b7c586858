package importer

import (
	"fmt"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// istioFault maps add_abort_fault, add_delay_fault and set_fault of
// chaosistio.fault.actions, in both the old (percent) and new (percentage)
// spelling, and the Istio-shaped abort/delay blocks.
func (c *ctkConv) istioFault(label string, a *args) *fault {
	name := a.str("virtual_service_name")
	ns := a.str("ns")
	if ns == "" {
		ns = "default"
	}
	a.ignore("version") // chaosd speaks to the VirtualService API itself
	t := draftTarget{kind: string(config.TargetVirtualService), namespaces: []string{ns}}
	e := c.newExperiment(t, draftAction{})
	if name != "" {
		e.target.selector = importedVSLabel + "=" + name
		c.warn(wNamedVS, e, label, "chaosd picks VirtualServices by label selector, not by name; the target selects %s=%s, so label it (kubectl label virtualservice %s -n %s %s=%s) or drop the selector to hit a random VirtualService in %s",
			importedVSLabel, name, name, ns, importedVSLabel, name, ns)
	}
	e.action.route = c.route(e, label, a)
	faultArg := asMap(a.raw("fault"))
	abort := firstMap(asMap(a.raw("abort")), asMap(faultArg["abort"]))
	delay := firstMap(asMap(a.raw("delay")), asMap(faultArg["delay"]))
	pct, hasPct := percentArg(a)
	if s, ok := a.integer("http_status"); ok {
		abort = map[string]any{"httpStatus": s}
	}
	if fd := a.str("fixed_delay"); fd != "" {
		delay = map[string]any{"fixedDelay": fd}
	}
	f := &fault{exp: e, holds: true, vs: ns + "/" + name}
	if abort != nil {
		ab := c.abortSpec(e, label, abort, pct, hasPct)
		e.action.abort = &ab
	}
	if delay != nil {
		dl := c.delaySpec(e, label, delay, pct, hasPct)
		e.action.fixedDelay = &dl
	}
	settle(&e.action)
	if e.action.typ == "" {
		c.warn(wInvalidValue, e, label, "neither an abort nor a delay is given; a 500 abort of every request is assumed")
		e.action = draftAction{typ: string(config.ActionHTTPAbort), status: 500, route: e.action.route}
	}
	return f
}

// settle picks the action type from the blocks present: one of them is
// spelled as http-abort or http-delay, both as http-fault.
func settle(act *draftAction) {
	switch {
	case act.abort != nil && act.fixedDelay != nil:
		act.typ = string(config.ActionHTTPFault)
	case act.abort != nil:
		act.typ, act.status, act.percent, act.abort = string(config.ActionHTTPAbort), act.abort.status, ptr(act.abort.percent), nil
	case act.fixedDelay != nil:
		act.typ, act.delay, act.percent, act.fixedDelay = string(config.ActionHTTPDelay), act.fixedDelay.delay, ptr(act.fixedDelay.percent), nil
	}
}

// mergeHTTP folds an abort into an earlier delay on the same VirtualService,
// or the reverse, as one http-fault. It reports whether it merged.
func (c *ctkConv) mergeHTTP(label string, f *fault) bool {
	for _, prev := range c.faults {
		if prev.vs != f.vs {
			continue
		}
		pa, fa := unsettle(prev.exp.action), unsettle(f.exp.action)
		if (pa.abort != nil && fa.abort != nil) || (pa.fixedDelay != nil && fa.fixedDelay != nil) {
			return false // the same fault twice: keep both, reported as a split
		}
		if pa.abort == nil {
			pa.abort = fa.abort
		}
		if pa.fixedDelay == nil {
			pa.fixedDelay = fa.fixedDelay
		}
		if fa.route != nil && (pa.route == nil || *pa.route != *fa.route) {
			c.warn(wUnsupportedArgument, prev.exp, label, "routes differ from %s; chaosd applies both faults to the routes of %s", prev.where, prev.where)
		}
		settle(&pa)
		prev.exp.action = pa
		c.note(nMergedFault, prev.exp, label, "abort and delay on the same VirtualService are injected together as one http-fault")
		return true
	}
	return false
}

// unsettle is the inverse of settle: the action as abort/fixedDelay blocks.
func unsettle(act draftAction) draftAction {
	pct := 100.0
	if act.percent != nil {
		pct = *act.percent
	}
	switch config.ActionType(act.typ) {
	case config.ActionHTTPAbort:
		return draftAction{abort: &draftAbort{status: act.status, percent: pct}, route: act.route}
	case config.ActionHTTPDelay:
		return draftAction{fixedDelay: &draftDelay{delay: act.delay, percent: pct}, route: act.route}
	}
	act.typ = ""
	return act
}

func (c *ctkConv) route(e *draftExperiment, label string, a *args) *draftRoute {
	routes, _ := a.raw("routes").([]any)
	if len(routes) == 0 {
		return nil
	}
	if len(routes) > 1 {
		c.warn(wUnsupportedArgument, e, label, "%d routes given; chaosd limits a fault to one route, the first", len(routes))
	}
	dest := asMap(asMap(routes[0])["destination"])
	host, _ := dest["host"].(string)
	if host == "" {
		return nil
	}
	subset, _ := dest["subset"].(string)
	return &draftRoute{host: host, subset: subset}
}

// percentArg reads percent (chaosistio before 0.2) or percentage.
func percentArg(a *args) (float64, bool) {
	if a.has("percentage") {
		if m := asMap(a.m["percentage"]); m != nil {
			a.ignore("percentage")
			return toFloat(m["value"])
		}
		return a.number("percentage")
	}
	return a.number("percent")
}

func (c *ctkConv) abortSpec(e *draftExperiment, label string, m map[string]any, pct float64, hasPct bool) draftAbort {
	status, ok := toFloat(m["httpStatus"])
	if !ok || status < 200 || status > 599 {
		c.warn(wInvalidValue, e, label, "HTTP status %v is not 200-599; 500 is used", m["httpStatus"])
		status = 500
	}
	return draftAbort{status: int(status), percent: c.blockPercent(e, label, m, pct, hasPct)}
}

func (c *ctkConv) delaySpec(e *draftExperiment, label string, m map[string]any, pct float64, hasPct bool) draftDelay {
	raw := fmt.Sprint(m["fixedDelay"])
	d, err := parseIstioDuration(raw)
	if err != nil || d <= 0 {
		c.warn(wInvalidValue, e, label, "fixed delay %q is not a positive duration; 1s is used", raw)
		d = secondsToDuration(1)
	}
	return draftDelay{delay: d, percent: c.blockPercent(e, label, m, pct, hasPct)}
}

// blockPercent takes the block's own percentage, else the argument, else
// Istio's default of every request.
func (c *ctkConv) blockPercent(e *draftExperiment, label string, m map[string]any, pct float64, hasPct bool) float64 {
	if p, ok := toFloat(asMap(m["percentage"])["value"]); ok {
		pct, hasPct = p, true
	} else if p, ok := toFloat(m["percent"]); ok {
		pct, hasPct = p, true
	}
	if !hasPct {
		return 100
	}
	if pct < 0 || pct > 100 {
		c.warn(wInvalidValue, e, label, "percentage %g is outside 0-100; 100 is used", pct)
		return 100
	}
	return pct
}

// parseIstioDuration reads Istio's duration strings ("15s", "1.5s", "100ms").
func parseIstioDuration(s string) (time.Duration, error) {
	return time.ParseDuration(strings.TrimSpace(s))
}
