package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/landing"
	"github.com/chaosd/chaosd/internal/reach"
	"github.com/chaosd/chaosd/internal/targets"
)

type fakeReach struct {
	answer *reach.Answer
	err    error
}

func (r fakeReach) Check(context.Context, *config.Config, config.Experiment, targets.Target) (*reach.Answer, error) {
	return r.answer, r.err
}

// fakeLander answers with state and records what it was asked.
type fakeLander struct {
	mu    sync.Mutex
	state guard.LandingState
	vars  []config.LandingVars
	at    []time.Time
}

func (l *fakeLander) VirtualService(_ context.Context, _ config.Guard, _ config.Landing, vars config.LandingVars, at time.Time) (journal.Landing, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.vars, l.at = append(l.vars, vars), append(l.at, at)
	return journal.Landing{State: string(l.state), Summary: "evidence " + string(l.state), Source: journal.SourcePrometheus}, true
}

// TestRunReachAndLanding: an unreachable fault is skipped before anything
// is injected, unless the experiment forces it, and then a fault that did
// not land (or met too little traffic) ends no-effect, never passed.
func TestRunReachAndLanding(t *testing.T) {
	reachable := &reach.Answer{Reachable: true, Reasons: []string{"1 caller(s) with sidecar: shop/a"}}
	unreachable := &reach.Answer{Reasons: []string{"bound only to gateways ingress: in-mesh calls do not see it"}}
	tests := []struct {
		name         string
		reach        fakeReach
		force        bool
		landing      guard.LandingState
		wantVerdict  guard.Verdict
		wantReason   string
		wantInjected int
	}{
		{name: "reachable and landed passes", reach: fakeReach{answer: reachable}, landing: guard.Landed, wantVerdict: guard.Passed, wantInjected: 1},
		{name: "unreachable is skipped", reach: fakeReach{answer: unreachable}, landing: guard.Landed, wantVerdict: guard.Skipped, wantReason: "unreachable: virtualservice/go-demo-8/go-demo-8: unreachable: bound only to gateways"},
		{name: "reach unreadable is skipped", reach: fakeReach{err: errors.New("list pods: forbidden")}, landing: guard.Landed, wantVerdict: guard.Skipped, wantReason: "unreachable: virtualservice/go-demo-8/go-demo-8: list pods: forbidden"},
		{name: "forced to run, not landed", reach: fakeReach{answer: unreachable}, force: true, landing: guard.NotLanded, wantVerdict: guard.NoEffect, wantReason: "evidence not-landed", wantInjected: 1},
		{name: "reachable, too little traffic", reach: fakeReach{answer: reachable}, landing: guard.TooLittleTraffic, wantVerdict: guard.NoEffect, wantReason: "evidence too-little-traffic", wantInjected: 1},
		{name: "reachable, landing unreadable", reach: fakeReach{answer: reachable}, landing: guard.LandingUnknown, wantVerdict: guard.NoEffect, wantInjected: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.reach = tt.reach
			lander := &fakeLander{state: tt.landing}
			f.landing = lander
			f.cfg.Experiments[0].Reach.RunWhenUnreachable = tt.force
			start := f.clock.Now()
			rec := f.run(t, context.Background())
			if rec.Verdict != tt.wantVerdict || !strings.Contains(rec.Reason, tt.wantReason) {
				t.Errorf("verdict %s (%s), want %s containing %q", rec.Verdict, rec.Reason, tt.wantVerdict, tt.wantReason)
			}
			if len(f.engine.injected) != tt.wantInjected {
				t.Errorf("injected %v, want %d injection(s)", f.engine.injected, tt.wantInjected)
			}
			if len(rec.Reach) != 1 {
				t.Fatalf("journal reach %+v, want one entry", rec.Reach)
			}
			if tt.wantInjected == 0 {
				if rec.Landing != nil || len(lander.vars) != 0 {
					t.Errorf("nothing injected, yet landing %+v asked %v", rec.Landing, lander.vars)
				}
				return
			}
			if rec.Landing == nil || rec.Landing.State != string(tt.landing) {
				t.Fatalf("journal landing %+v, want state %s", rec.Landing, tt.landing)
			}
			// The queries cover the hold as the journal recorded it and are
			// evaluated at its revert. The hold is 30s on the fake clock;
			// await steps that clock concurrently, so the revert may land a
			// step later: compare with the journal, not with start+30s.
			if len(rec.Injections) != 1 || rec.Injections[0].RevertedAt == nil {
				t.Fatalf("journal injections %+v, want one reverted", rec.Injections)
			}
			inj := rec.Injections[0]
			if held := inj.RevertedAt.Sub(inj.InjectedAt); held < 30*time.Second || inj.InjectedAt.Before(start) {
				t.Fatalf("journal: injected %s, reverted %s after it; want the 30s hold after the start %s", inj.InjectedAt, held, start)
			}
			want := config.LandingVars{Namespace: "go-demo-8", Name: "go-demo-8", Host: "go-demo-8.go-demo-8.svc.cluster.local",
				Window: landing.Window(inj.InjectedAt, *inj.RevertedAt), Flag: "FI"}
			if len(lander.vars) != 1 || lander.vars[0] != want {
				t.Errorf("landing asked %+v, want %+v", lander.vars, want)
			}
			if len(lander.at) != 1 || !lander.at[0].Equal(*inj.RevertedAt) {
				t.Errorf("landing evaluated at %v, want once, at the revert %s", lander.at, inj.RevertedAt)
			}
		})
	}
}
