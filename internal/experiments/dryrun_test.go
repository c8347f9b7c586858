package experiments

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

// spy is an Actuator that counts its calls.
type spy struct{ plans, injects, reverts int }

var _ Actuator = (*spy)(nil)

func (s *spy) Plan(context.Context, Spec) (Plan, error) {
	s.plans++
	return Plan{Changes: []Change{{Verb: "update", Object: "thing/x"}}}, nil
}

func (s *spy) Inject(context.Context, Spec) (Record, error) {
	s.injects++
	return Record{Applied: true}, nil
}

func (s *spy) Revert(context.Context, Record) (Outcome, error) {
	s.reverts++
	return Outcome{}, nil
}

func TestDryRunNeverCallsTheWrappedActuator(t *testing.T) {
	inner := &spy{}
	d := dryRun{next: inner}
	rec, err := d.Inject(context.Background(), Spec{Intent: Intent{Run: "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Revert(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if inner.injects != 0 || inner.reverts != 0 {
		t.Errorf("wrapped actuator called: %d injects, %d reverts", inner.injects, inner.reverts)
	}
	if inner.plans != 1 || rec.Applied {
		t.Errorf("plans = %d, applied = %v; want the plan computed and nothing applied", inner.plans, rec.Applied)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	rs := replicaSetRef("web-1")
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }))
	defer srv.Close()
	tests := []struct {
		name   string
		action config.Action
		target targets.Target
		expDry bool // dry run set on the experiment instead of the run
	}{
		{name: "pod-kill delete", action: config.Action{Type: config.ActionPodKill, Method: config.PodKillDelete}, target: podTarget("shop", "web-a")},
		{name: "pod-kill evict", action: config.Action{Type: config.ActionPodKill, Method: config.PodKillEvict}, target: podTarget("shop", "web-a")},
		{name: "http-abort", action: config.Action{Type: config.ActionHTTPAbort, Status: 500}, target: vsTarget("shop", "cart")},
		{name: "http-fault from the experiment's dryRun", action: config.Action{Type: config.ActionHTTPFault, FixedDelay: &config.DelaySpec{Delay: time.Second, Percent: 100}}, target: vsTarget("shop", "cart"), expDry: true},
		{name: "node-cordon", action: config.Action{Type: config.ActionNodeCordon}, target: nodeTarget("n1")},
		{name: "node-drain of a zone", action: drainAction(time.Second), target: targets.Target{Kind: config.TargetZone, Zone: "zone-a", Nodes: []string{"n1"}}},
		{name: "node-delete", action: config.Action{Type: config.ActionNodeDelete, Restore: true}, target: nodeTarget("n1")},
		{name: "http-load", action: config.Action{Type: config.ActionHTTPLoad, Concurrency: 1, Duration: time.Second}, target: targets.Target{Kind: config.TargetURL, URL: srv.URL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false), pod("shop", "web-a", "n1", &rs, true)},
				[]runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
			evictions(f)
			exp := experiment("exp", tt.action, time.Minute)
			r := Run{ID: "r1", Experiment: "exp", DryRun: !tt.expDry}
			if tt.expDry {
				exp.DryRun = ptr(true)
			}
			inj, err := f.engine.Inject(context.Background(), r, exp, tt.target)
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if err := f.engine.Revert(context.Background(), inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if w := append(writeVerbs(f.kube.Actions()), writeVerbs(f.istio.Actions())...); len(w) != 0 {
				t.Errorf("dry run wrote %v", w)
			}
			if served.Load() != 0 {
				t.Errorf("dry run sent %d requests", served.Load())
			}
			if !inj.DryRun || inj.Reversible || len(f.engine.Active()) != 0 {
				t.Errorf("injection = %+v, active = %d", inj, len(f.engine.Active()))
			}
			if p, ok := inj.Detail.(Plan); !ok || len(p.Changes) == 0 {
				t.Errorf("detail = %#v, want the plan", inj.Detail)
			}
			if n := f.logs.FilterMessage("dry run: would change").Len(); n == 0 {
				t.Error("nothing logged about what would change")
			}
			if evs := f.drainEvents(); len(evs) != 0 {
				t.Errorf("dry run emitted events %q", evs)
			}
			if got := f.counter(t, "chaosd_injections_total", map[string]string{"result": resultDryRun}); got != 1 {
				t.Errorf("injections{result=dry_run} = %v", got)
			}
		})
	}
}

// panicky is an Actuator that panics.
type panicky struct{ spy }

func (p *panicky) Inject(context.Context, Spec) (Record, error) { panic("boom") }

func TestActuatorPanicBecomesError(t *testing.T) {
	if _, err := safeInject(context.Background(), &panicky{}, Spec{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v", err)
	}
}
