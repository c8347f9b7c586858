package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/prometheus/prometheus/promql/parser"
)

// SLI is a service level indicator: a PromQL expression sampled over a
// baseline window before the fault and over the fault window, and the
// tolerance within which its change is acceptable.
type SLI struct {
	// Name identifies the indicator in verdicts, journals and reports; unique
	// within an experiment.
	Name string `koanf:"name"`
	// Query is PromQL, evaluated as a range query. It may use the picked
	// target's identity as Go template variables: {{.namespace}},
	// {{.name}}, {{.workload}}, {{.host}} and {{.kind}}.
	Query string `koanf:"query"`
	// Tolerance says how far the SLI may move before the run is judged.
	Tolerance Tolerance `koanf:"tolerance"`
}

// Tolerance bounds an SLI during the fault window. Keys of one direction
// only: max, maxIncrease and maxIncreasePercent mean higher is worse (an
// error ratio, a latency); min, maxDecrease and maxDecreasePercent mean
// lower is worse (availability). Several keys of one direction all apply.
type Tolerance struct {
	// Max is the highest value the SLI may reach.
	Max *float64 `koanf:"max"`
	// MaxIncrease is how far above its baseline the SLI may rise, in its
	// own unit.
	MaxIncrease *float64 `koanf:"maxIncrease"`
	// MaxIncreasePercent is how far above its baseline the SLI may rise,
	// in percent of the baseline.
	MaxIncreasePercent *float64 `koanf:"maxIncreasePercent"`
	// Min is the lowest value the SLI may fall to.
	Min *float64 `koanf:"min"`
	// MaxDecrease is how far below its baseline the SLI may fall, in its
	// own unit.
	MaxDecrease *float64 `koanf:"maxDecrease"`
	// MaxDecreasePercent is how far below its baseline the SLI may fall,
	// in percent of the baseline.
	MaxDecreasePercent *float64 `koanf:"maxDecreasePercent"`
}

// HigherIsWorse reports the tolerance's direction: true for max and
// maxIncrease*, false for min and maxDecrease*.
func (t Tolerance) HigherIsWorse() bool {
	return t.Max != nil || t.MaxIncrease != nil || t.MaxIncreasePercent != nil
}

func (t Tolerance) up() bool { return t.HigherIsWorse() }
func (t Tolerance) down() bool {
	return t.Min != nil || t.MaxDecrease != nil || t.MaxDecreasePercent != nil
}

// SLIVars are the target identities an SLI query may use.
type SLIVars struct {
	// Kind of the target: pod, virtualservice, node, zone or url.
	Kind string
	// Namespace of the target (pods, virtualservices).
	Namespace string
	// Name of the target: the pod, VirtualService, node, zone or URL.
	Name string
	// Workload is the pod's controlling workload's name (pods), else Name.
	Workload string
	// Host is the VirtualService's first host as a cluster-local name
	// (name.namespace.svc.cluster.local, as Istio's destination_service
	// label spells it), for virtualservices; else empty.
	Host string
}

func (v SLIVars) data() map[string]string {
	return map[string]string{"kind": v.Kind, "namespace": v.Namespace, "name": v.Name, "workload": v.Workload, "host": v.Host}
}

// SLIVariables lists the template variables an SLI query may use.
func SLIVariables() []string { return slices.Sorted(maps.Keys(SLIVars{}.data())) }

// Render fills the query's template variables with the target's identity.
func (s SLI) Render(v SLIVars) (string, error) {
	tpl, err := template.New(s.Name).Option("missingkey=error").Parse(s.Query)
	if err != nil {
		return "", fmt.Errorf("sli %q: template: %w", s.Name, err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, v.data()); err != nil {
		return "", fmt.Errorf("sli %q: template: %w", s.Name, err)
	}
	return b.String(), nil
}

// EffectiveSLIs are the SLIs a run of e is judged by: the guard's, with
// the experiment's replacing those of the same name, then the
// experiment's others, in config order.
func (c *Config) EffectiveSLIs(e Experiment) []SLI {
	out := make([]SLI, 0, len(c.Guard.SLIs)+len(e.SLIs))
	for _, s := range c.Guard.SLIs {
		if i := slices.IndexFunc(e.SLIs, func(o SLI) bool { return o.Name == s.Name }); i >= 0 {
			s = e.SLIs[i]
		}
		out = append(out, s)
	}
	for _, s := range e.SLIs {
		if !slices.ContainsFunc(c.Guard.SLIs, func(o SLI) bool { return o.Name == s.Name }) {
			out = append(out, s)
		}
	}
	return out
}

// sampleVars fill every variable when a query is checked, so that the
// PromQL parser sees a query of the shape it will have at run time.
var sampleVars = SLIVars{Kind: "pod", Namespace: "ns", Name: "name", Workload: "workload", Host: "host.ns.svc.cluster.local"}

func validateSLIs(path string, slis []SLI, hasPrometheus bool, errs *Errors) {
	if len(slis) > 0 && !hasPrometheus {
		errs.add(path, "needs guard.prometheus: SLIs are sampled from Prometheus")
	}
	names := map[string]bool{}
	for i, s := range slis {
		p := fmt.Sprintf("%s[%d]", path, i)
		requireUniqueName(p+".name", "SLI", s.Name, names, errs)
		validateSLIQuery(p+".query", s, errs)
		validateTolerance(p+".tolerance", s.Tolerance, errs)
	}
}

func validateSLIQuery(path string, s SLI, errs *Errors) {
	if strings.TrimSpace(s.Query) == "" {
		errs.add(path, "is required")
		return
	}
	q, err := s.Render(sampleVars)
	if err != nil {
		errs.add(path, "%v (variables: %s)", err, strings.Join(SLIVariables(), ", "))
		return
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		errs.add(path, "invalid PromQL: %v", err)
		return
	}
	if t := expr.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
		errs.add(path, "must be an instant vector or a scalar expression, got %s", t)
	}
}

func validateTolerance(path string, t Tolerance, errs *Errors) {
	switch {
	case t.up() && t.down():
		errs.add(path, "mixes directions: use max/maxIncrease/maxIncreasePercent (higher is worse) or min/maxDecrease/maxDecreasePercent (lower is worse), not both")
	case !t.up() && !t.down():
		errs.add(path, "needs one of max, maxIncrease, maxIncreasePercent, min, maxDecrease or maxDecreasePercent")
	}
	for key, v := range map[string]*float64{"maxIncrease": t.MaxIncrease, "maxIncreasePercent": t.MaxIncreasePercent,
		"maxDecrease": t.MaxDecrease, "maxDecreasePercent": t.MaxDecreasePercent} {
		if v != nil && *v < 0 {
			errs.add(path+"."+key, "must not be negative, got %g", *v)
		}
	}
}
