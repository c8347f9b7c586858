package importer

import (
	"fmt"
	"strings"
)

// promQueryProbe is chaostoolkit-prometheus' instant query probe.
const promQueryProbe = "chaosprometheus.probes.query"

// probe turns a Prometheus query probe into a guard check; chaosd cannot
// run any other probe and says so.
func (c *ctkConv) probe(where string, act ctkActivity) {
	if act.Name != "" {
		if c.seen[act.Name] {
			return // the same probe again by ref: one check or one warning
		}
		c.seen[act.Name] = true
	}
	label := where
	if act.Name != "" {
		label = fmt.Sprintf("%s %q", where, act.Name)
	}
	p := act.Provider
	if p.function() != promQueryProbe {
		c.warn(wUnsupportedProbe, nil, label, "%s cannot be a guard check: %s", p.function(), probeHint(p))
		return
	}
	a := newArgs(asMap(c.subst(where, p.args())))
	query := strings.TrimSpace(a.str("query"))
	a.ignore("timeout") // the guard has its own timeout
	if query == "" || strings.Contains(query, "${") {
		c.warn(wUnsupportedProbe, nil, label, "no usable query; no guard check was added")
		return
	}
	if a.has("when") {
		c.warn(wUnsupportedArgument, nil, label, "when %q: guard checks always query the current time", a.str("when"))
	}
	minV, maxV, empty, ok := promTolerance(act.Tolerance)
	if !ok {
		c.warn(wUnsupportedTol, nil, label, "tolerance %v cannot be expressed as min/max or empty; state the bound in the query (e.g. `... > 0.05` with empty: true) and add the check by hand", act.Tolerance)
		return
	}
	if base, ok := c.vars.values["prometheus_base_url"].(string); ok && base != "" && c.d.promURL == "" {
		c.d.promURL = strings.TrimRight(base, "/")
	}
	name := act.Name
	if name == "" {
		name = nameFromFile(c.file) + " " + where
	}
	for _, prev := range c.d.checks {
		if prev.expr == query && ptrEq(prev.min, minV) && ptrEq(prev.max, maxV) && prev.empty == empty {
			return // the same check from another experiment
		}
	}
	taken := map[string]bool{}
	for _, prev := range c.d.checks {
		taken[prev.name] = true
	}
	c.d.checks = append(c.d.checks, draftCheck{
		name: uniqueName(name, taken), expr: query, min: minV, max: maxV, empty: empty,
		from: fmt.Sprintf("from %s %s", c.file, label),
	})
}

func probeHint(p *ctkProvider) string {
	switch {
	case p == nil:
		return "it has no provider"
	case p.Type == "http":
		return "chaosd has no HTTP probe; alert on the endpoint's error rate instead (docs/experiments.md has an Istio rule) and the guard judges by that alert"
	case p.Type == "python" && strings.HasPrefix(p.Module, "chaosk8s"):
		return "express it as a Prometheus check on kube-state-metrics (e.g. kube_deployment_status_replicas_unavailable) or an alert"
	case p.Type == "python" && p.Module == "chaosprometheus.probes":
		return "only the instant query probe maps to a guard check"
	}
	return "chaosd judges runs only by Prometheus checks and Alertmanager alerts"
}

// promTolerance reads the tolerances that bound a query's value: a range
// [min, max], a jsonpath tolerance expecting one value, or one expecting
// no result at all (count: 0).
func promTolerance(t any) (minV, maxV *float64, empty, ok bool) {
	m := asMap(t)
	switch m["type"] {
	case "range":
		r, _ := m["range"].([]any)
		if len(r) != 2 {
			return nil, nil, false, false
		}
		lo, ok1 := toFloat(r[0])
		hi, ok2 := toFloat(r[1])
		if !ok1 || !ok2 || lo > hi {
			return nil, nil, false, false
		}
		return &lo, &hi, false, true
	case "jsonpath":
		if n, ok := toFloat(m["count"]); ok && n == 0 {
			return nil, nil, true, true
		}
		if v, ok := toFloat(m["expect"]); ok {
			return &v, ptr(v), false, true
		}
	}
	return nil, nil, false, false
}

func ptrEq(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
