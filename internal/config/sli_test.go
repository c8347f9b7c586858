package config

import (
	"slices"
	"testing"
)

const promGuard = "guard: {prometheus: {url: http://prom:9090}}"

func TestSLIValidation(t *testing.T) {
	tests := []problemCase{
		{"unknown template variable", experimentDoc(promGuard,
			`slis: [{name: err, query: 'rate(x{ns="{{.namespce}}"}[1m])', tolerance: {max: 0.1}}]`), []string{
			`experiments[0].slis[0].query: sli "err": template: template: err:1:13: executing "err" at <.namespce>: map has no entry for key "namespce" (variables: host, kind, name, namespace, workload)`,
		}},
		{"bad PromQL", experimentDoc(promGuard,
			`slis: [{name: err, query: 'sum(rate(x[1m])', tolerance: {max: 0.1}}]`), []string{
			`experiments[0].slis[0].query: invalid PromQL: 1:16: parse error: unclosed left parenthesis`,
		}},
		{"range vector", experimentDoc(promGuard,
			`slis: [{name: err, query: 'x[1m]', tolerance: {max: 0.1}}]`), []string{
			`experiments[0].slis[0].query: must be an instant vector or a scalar expression, got matrix`,
		}},
		{"mixed directions and a negative bound", experimentDoc(promGuard,
			`slis: [{name: err, query: x, tolerance: {max: 0.1, maxDecreasePercent: -5}}]`), []string{
			`experiments[0].slis[0].tolerance: mixes directions: use max/maxIncrease/maxIncreasePercent (higher is worse) or min/maxDecrease/maxDecreasePercent (lower is worse), not both`,
			`experiments[0].slis[0].tolerance.maxDecreasePercent: must not be negative, got -5`,
		}},
		{"no tolerance, no name, no query, duplicate", `guard:
  prometheus: {url: http://prom:9090}
  slis: [{name: a, query: x, tolerance: {min: 1}}, {name: a, query: y, tolerance: {max: 1}}, {tolerance: {}}]
experiments:
  - name: e
    schedule: "*/10 * * * *"
    target: {kind: pod, namespaces: [demo]}
    action: {type: pod-kill}
`, []string{
			`guard.slis[1].name: duplicate SLI name "a"`,
			`guard.slis[2].name: is required`,
			`guard.slis[2].query: is required`,
			`guard.slis[2].tolerance: needs one of max, maxIncrease, maxIncreasePercent, min, maxDecrease or maxDecreasePercent`,
		}},
		{"without prometheus", experimentDoc("guard: {alertmanager: {url: http://am:9093}}",
			`slis: [{name: err, query: x, tolerance: {max: 0.1}}]`), []string{
			`experiments[0].slis: needs guard.prometheus: SLIs are sampled from Prometheus`,
		}},
		{"baseline shorter than two steps", experimentDoc("guard: {prometheus: {url: http://prom:9090}, sliStep: 10s, sliBaseline: 15s}"), []string{
			`guard.sliBaseline: must span at least two sliSteps (20s), got 15s`,
		}},
		{"unknown tolerance key", experimentDoc(promGuard,
			`slis: [{name: err, query: x, tolerance: {max: 0.1, maxIncreasePct: 5}}]`), []string{
			`experiments[0].slis[0].tolerance.maxIncreasePct: unknown key`,
		}},
	}
	checkProblems(t, tests)
}

func TestSLIRenderAndMerge(t *testing.T) {
	cfg := mustParse(t, `guard:
  prometheus: {url: http://prom:9090}
  slis:
    - {name: errors, query: 'sum(rate(grpc_client_handled_total{grpc_code!="OK",namespace="{{.namespace}}"}[30s]))', tolerance: {maxIncrease: 0.01}}
    - {name: latency, query: 'histogram_quantile(0.99, rate(x_bucket{host="{{.host}}"}[1m]))', tolerance: {maxIncreasePercent: 50}}
experiments:
  - name: e
    schedule: "*/10 * * * *"
    target: {kind: pod, namespaces: [demo]}
    action: {type: pod-kill}
    slis:
      - {name: latency, query: 'max(up{job="{{.workload}}"})', tolerance: {min: 1}}
      - {name: ready, query: 'kube_ready{pod="{{.name}}"}', tolerance: {maxDecreasePercent: 10}}
`)
	slis := cfg.EffectiveSLIs(cfg.Experiments[0])
	var names []string
	for _, s := range slis {
		names = append(names, s.Name)
	}
	if want := []string{"errors", "latency", "ready"}; !slices.Equal(names, want) {
		t.Fatalf("effective SLIs %v, want %v", names, want)
	}
	if slis[1].Tolerance.HigherIsWorse() {
		t.Errorf("the experiment's latency SLI (min: 1) replaced the guard's, so lower is worse")
	}
	q, err := slis[1].Render(SLIVars{Kind: "pod", Namespace: "demo", Name: "api-1", Workload: "api"})
	if err != nil || q != `max(up{job="api"})` {
		t.Errorf("Render = %q, %v", q, err)
	}
	if cfg.Guard.SLIBaseline != DefaultSLIBaseline || cfg.Guard.SLIStep != DefaultSLIStep {
		t.Errorf("defaults: baseline %s step %s", cfg.Guard.SLIBaseline, cfg.Guard.SLIStep)
	}
}
