package importer

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
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
	tc, why := promTolerance(act.Tolerance, query)
	if why != "" {
		c.warn(wUnsupportedTol, nil, label, "tolerance %v: %s; no guard check was added: state the bound in the query (e.g. `... > 0.05` with empty: true) and add the check by hand", act.Tolerance, why)
		return
	}
	query, minV, maxV, empty := tc.expr, tc.min, tc.max, tc.empty
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

// tolCheck is a tolerance as a guard check.
type tolCheck struct {
	expr     string
	min, max *float64
	empty    bool
}

// promTolerance reads the tolerances that bound a query's value: a range
// [min, max], or a jsonpath one (see promJSONPath). why says what has no
// equivalent; the probe then becomes a warning, never a looser check.
func promTolerance(t any, query string) (tolCheck, string) {
	m := asMap(t)
	switch m["type"] {
	case "range":
		r, _ := m["range"].([]any)
		if len(r) != 2 {
			return tolCheck{}, "a range needs [min, max]"
		}
		lo, ok1 := toFloat(r[0])
		hi, ok2 := toFloat(r[1])
		if !ok1 || !ok2 || lo > hi {
			return tolCheck{}, "the range is not two numbers, lowest first"
		}
		return tolCheck{expr: query, min: &lo, max: &hi}, ""
	case "jsonpath":
		return promJSONPath(m, query)
	}
	return tolCheck{}, "only range and jsonpath tolerances bound a query's value"
}

// seriesFilter is a jsonpath filter on the sample value of each series,
// the one form that has a PromQL equivalent: $.data.result.*[?(@.value[1] != "0")].
// In jsonpath2, the library chaostoolkit-lib uses, a filter tests the node
// it follows and equality is "=" (chaostoolkit-lib tests/test_tolerance.py:
// `"$.foo.*[?(@.baz=2)]", "count": 1`), so the series are enumerated first.
var seriesFilter = regexp.MustCompile(`^\$\.data\.result(?:\.\*|\[\*\])\[\?\(@\.value\[1\](=|!=)(.+)\)\]$`)

// promOp is PromQL's spelling of a jsonpath2 comparison.
var promOp = map[string]string{"=": "==", "!=": "!="}

// promJSONPath maps a jsonpath tolerance on the probe's result, which is
// Prometheus' JSON as is (chaostoolkit-prometheus 0.6.0, probes.py, query:
// `return r.json()`), as chaostoolkit-lib 1.45.0 judges it (hypothesis.py,
// within_tolerance): `values = [m.current_value for m in px.match(value)];
// result = len(values) > 0; if count_value is not None: result =
// len(values) == count_value`, and with expect `result = values == [expect]`.
// A filter on the sample value becomes the PromQL comparison that keeps the
// same series; the number of matches becomes an empty-or-not check on it.
func promJSONPath(m map[string]any, query string) (tolCheck, string) {
	if target, ok := m["target"]; ok {
		return tolCheck{}, fmt.Sprintf("target %v picks a part of the result chaosd does not see", target)
	}
	path := strings.Join(strings.Fields(fmt.Sprint(m["path"])), "")
	count, hasCount := toFloat(m["count"])
	_, hasExpect := m["expect"]
	series := ""
	switch {
	case strings.Contains(path, "[?("):
		f := seriesFilter.FindStringSubmatch(path)
		if f == nil {
			return tolCheck{}, fmt.Sprintf("the filter in %s has no PromQL equivalent chaosd can write (only $.data.result.*[?(@.value[1] = or != a quoted number)] maps)", path)
		}
		op, lit := f[1], f[2]
		num, quoted := strings.Trim(lit, `'"`), len(lit) > 1 && (lit[0] == '\'' || lit[0] == '"') && lit[len(lit)-1] == lit[0]
		if !quoted {
			return tolCheck{}, fmt.Sprintf("%s compares the sample value, a string in Prometheus' JSON, with the number %s: they are never equal, so the filter keeps every or no series; quote the number", path, lit)
		}
		// Prometheus writes sample values with strconv's 'f', -1 format;
		// the source compares strings, so another spelling never matches.
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || strconv.FormatFloat(v, 'f', -1, 64) != num {
			return tolCheck{}, fmt.Sprintf("%s compares with %s, which is not how Prometheus writes a sample value", path, lit)
		}
		series = fmt.Sprintf("(%s) %s %s", query, promOp[op], num)
	case path == "$.data.result[*]" || path == "$.data.result.*":
		series = query
	}
	if series == "" { // a path into one value: the number it must equal, or no result
		if hasCount && count == 0 {
			return tolCheck{expr: query, empty: true}, ""
		}
		if v, ok := toFloat(m["expect"]); ok {
			return tolCheck{expr: query, min: &v, max: ptr(v)}, ""
		}
		return tolCheck{}, fmt.Sprintf("path %s is not one chaosd can judge", path)
	}
	switch {
	case hasExpect:
		return tolCheck{}, fmt.Sprintf("expect compares whole series found by %s", path)
	case hasCount && count == 0:
		return tolCheck{expr: series, empty: true}, ""
	case hasCount && count > 0 && count == math.Trunc(count):
		return tolCheck{expr: fmt.Sprintf("(count(%s) or vector(0)) != %s", series, strconv.FormatFloat(count, 'f', -1, 64)), empty: true}, ""
	case hasCount:
		return tolCheck{}, fmt.Sprintf("count %v is not a number of series", m["count"])
	}
	return tolCheck{expr: "absent(" + series + ")", empty: true}, "" // at least one series
}

func ptrEq(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
