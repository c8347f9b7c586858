package runner

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

const concurrentDoc = `guard: {pollInterval: 1s, cooldown: 5m}
maxConcurrentRuns: 2
policies:
  default: {minReadyNodes: 2}
experiments:
  - name: cordon
    schedule: "@every 1h"
    target: {kind: node, mode: one}
    action: {type: node-cordon}
    duration: 30s
    observe: 10s
  - name: burst
    schedule: "@every 1h"
    target: {kind: url, url: "http://shop.example/checkout"}
    action: {type: http-load, concurrency: 2, duration: 20s}
    observe: 10s
`

// nodeSource serves three Ready workers, as the API server answers while
// another run's cordon is still in flight. Only node reads are served.
type nodeSource struct{ targets.Source }

func (nodeSource) Nodes(context.Context) ([]targets.Node, error) {
	var out []targets.Node
	for _, name := range []string{"w-1", "w-2", "w-3"} {
		out = append(out, targets.Node{Meta: targets.Meta{Name: name}, Ready: true})
	}
	return out, nil
}

func (nodeSource) NodesRunning(context.Context, string) (sets.Set[string], error) {
	return sets.New[string](), nil
}

// gatedEngine holds the first Inject, after it "changed" the cluster,
// until release is closed: the first run is mid-injection while the second
// picks. A load burst is not reversible, as the real one.
type gatedEngine struct {
	*fakeEngine
	first   sync.Once
	entered chan struct{}
	release chan struct{}
}

func (e *gatedEngine) Inject(ctx context.Context, run experiments.Run, exp config.Experiment, t targets.Target) (*experiments.Injection, error) {
	inj, err := e.fakeEngine.Inject(ctx, run, exp, t)
	inj.Reversible = exp.Action.Type != config.ActionHTTPLoad
	gated := false
	e.first.Do(func() { gated = true })
	if gated {
		close(e.entered)
		<-e.release
	}
	return inj, err
}

// await waits for a run started in the background, stepping the fake clock
// whenever something waits on it.
func await(t *testing.T, clk *clocktesting.FakeClock, done <-chan journal.Record) journal.Record {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case rec := <-done:
			return rec
		case <-deadline:
			t.Fatal("run did not finish")
		case <-time.After(time.Millisecond):
			if clk.HasWaiters() {
				clk.Step(500 * time.Millisecond)
			}
		}
	}
}

// TestConcurrentRunsReserveTheirBlastRadius: two runs at once
// (maxConcurrentRuns: 2), the second picking while the first is still
// injecting. The second must see the first's targets as taken.
func TestConcurrentRunsReserveTheirBlastRadius(t *testing.T) {
	tests := []struct {
		name       string
		experiment string
		wantReason targets.Reason
	}{
		{name: "two node cordons under minReadyNodes 2 of 3 nodes", experiment: "cordon", wantReason: targets.ReasonMinReadyNodes},
		{name: "two load bursts on one URL", experiment: "burst", wantReason: targets.ReasonHeld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cfg, err := config.Parse("test.yaml", []byte(concurrentDoc))
			if err != nil {
				t.Fatal(err)
			}
			exp, _ := cfg.Experiment(tt.experiment)
			ledger := targets.NewLedger()
			engine := &gatedEngine{fakeEngine: f.engine, entered: make(chan struct{}), release: make(chan struct{})}
			var seed atomic.Uint64
			r := New(Options{
				Guard: f.guard, Engine: engine, Clock: f.clock, Reservations: ledger,
				Picker: targets.NewPicker(targets.Options{Source: nodeSource{}, Reserved: ledger, Clock: f.clock}),
				Seeds:  func() uint64 { return seed.Add(1) },
			})
			start := func() <-chan journal.Record {
				done := make(chan journal.Record, 1)
				go func() { done <- r.RunNow(context.Background(), cfg, exp) }()
				return done
			}

			first := start()
			select {
			case <-engine.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("first run never injected")
			}
			second := await(t, f.clock, start())
			close(engine.release)
			firstRec := await(t, f.clock, first)

			if firstRec.Verdict != guard.Passed {
				t.Errorf("first run: %s (%s), want passed", firstRec.Verdict, firstRec.Reason)
			}
			if second.Verdict != guard.Skipped || !strings.Contains(second.Reason, string(tt.wantReason)) {
				t.Errorf("second run: %s (%s), want skipped for %q; injected %v", second.Verdict, second.Reason, tt.wantReason, f.engine.injected)
			}
			if len(f.engine.injected) != 1 {
				t.Errorf("injected %v, want only the first run's target", f.engine.injected)
			}
			if held := ledger.Reserved(); len(held) != 0 {
				t.Errorf("still reserved after both runs: %v", held)
			}
		})
	}
}
