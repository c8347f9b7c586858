package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/reach"
	"github.com/chaosd/chaosd/internal/targets"
)

// TestWriteExperimentPlan pins what `chaosd plan --cluster` prints for one
// experiment: counts, reasons most frequent first, a few examples, and the
// sample pick or why there is none. The cluster side is covered by the
// e2e test TestTargetsPickInsideBlastRadius.
func TestWriteExperimentPlan(t *testing.T) {
	cfg, err := config.Parse("plan.yaml", []byte(`dryRun: true
experiments:
  - name: kill
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], mode: one}
    action: {type: pod-kill}
`))
	if err != nil {
		t.Fatal(err)
	}
	exp := cfg.Experiments[0]
	pod := func(name string) targets.Target {
		return targets.Target{Kind: config.TargetPod, Namespace: "go-demo-8", Name: name}
	}
	tests := []struct {
		name string
		res  targets.Result
		err  error
		want string
	}{
		{
			name: "pick with exclusions",
			res: targets.Result{
				Considered: 5, Checked: 5, Eligible: 2,
				Rejected: map[targets.Reason]int{targets.ReasonPDB: 1, targets.ReasonNotReady: 2},
				Samples: []targets.Rejection{
					{Target: pod("a"), Reason: targets.ReasonNotReady},
					{Target: pod("b"), Reason: targets.ReasonPDB},
				},
				Targets: []targets.Target{{Kind: config.TargetPod, Namespace: "go-demo-8", Name: "c", Owner: "Deployment/api", Node: "n1"}},
			},
			want: `
kill (pod-kill pod, mode one, policy default, dry run)
  candidates: 5 match the selectors, 2 eligible, 3 excluded
  excluded:   2 not ready
  excluded:   1 pdb allows no disruption
  e.g.        pod/go-demo-8/a: not ready
  e.g.        pod/go-demo-8/b: pdb allows no disruption
  would pick: pod/go-demo-8/c (Deployment/api, on n1)
`,
		},
		{
			name: "nothing eligible",
			res:  targets.Result{Considered: 0},
			want: `
kill (pod-kill pod, mode one, policy default, dry run)
  candidates: 0 match the selectors, 0 eligible, 0 excluded
  would pick: nothing (the run would be skipped)
`,
		},
		{
			name: "error",
			err:  errors.New("list pods: inventory not synced yet"),
			want: `
kill (pod-kill pod, mode one, policy default, dry run)
  error:      list pods: inventory not synced yet
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			writeExperimentPlan(&out, cfg, exp, tt.res, tt.err)
			if got := out.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestWriteReach pins the reach lines of `chaosd plan --cluster`.
func TestWriteReach(t *testing.T) {
	vsTarget := targets.Target{Kind: config.TargetVirtualService, Namespace: "shop", Name: "cart"}
	pod := targets.Target{Kind: config.TargetPod, Namespace: "shop", Name: "debug"}
	abort := config.Experiment{Name: "abort"}
	forced := config.Experiment{Name: "abort", Reach: config.Reach{RunWhenUnreachable: true}}
	tests := []struct {
		name string
		exp  config.Experiment
		t    targets.Target
		a    *reach.Answer
		err  error
		want string
	}{
		{name: "no rule", exp: abort, t: vsTarget, want: ""},
		{name: "reachable", exp: abort, t: vsTarget, a: &reach.Answer{Reachable: true, Reasons: []string{"1 caller(s) with sidecar: shop/a"}, Warnings: []string{"HTTPRoute shop/r is attached to Service shop/cart too"}},
			want: "  reach:      virtualservice/shop/cart: reachable: 1 caller(s) with sidecar: shop/a\n  warning:    HTTPRoute shop/r is attached to Service shop/cart too\n"},
		{name: "unreachable", exp: abort, t: vsTarget, a: &reach.Answer{Reasons: []string{"bound only to gateways ingress"}},
			want: "  reach:      virtualservice/shop/cart: unreachable: bound only to gateways ingress\n  would skip: virtualservice/shop/cart (verdict skipped, reason unreachable)\n"},
		{name: "unreachable, forced", exp: forced, t: vsTarget, a: &reach.Answer{Reasons: []string{"bound only to gateways ingress"}},
			want: "  reach:      virtualservice/shop/cart: unreachable: bound only to gateways ingress\n  would run:  all the same (reach.runWhenUnreachable); landing decides the verdict\n"},
		{name: "permanent kill", exp: abort, t: pod, a: func() *reach.Answer { a := reach.PodKill(""); return &a }(),
			want: "  reach:      pod/shop/debug: reachable (permanent): bare pod: no controller replaces it, the kill is permanent\n"},
		{name: "unreadable", exp: abort, t: vsTarget, err: errors.New("list pods: forbidden"),
			want: "  reach:      virtualservice/shop/cart: unknown: list pods: forbidden\n  would skip: virtualservice/shop/cart (verdict skipped, reason unreachable)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			writeReach(&out, tt.exp, tt.t, tt.a, tt.err)
			if got := out.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
