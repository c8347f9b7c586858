package scheduler

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// blockingRunner records runs and holds each until released or cancelled.
type blockingRunner struct {
	mu       sync.Mutex
	started  []string
	release  chan struct{}
	canceled []string
}

func newBlockingRunner() *blockingRunner { return &blockingRunner{release: make(chan struct{})} }

func (r *blockingRunner) Run(ctx context.Context, _ *config.Config, exp config.Experiment, _ Activation) {
	r.mu.Lock()
	r.started = append(r.started, exp.Name)
	r.mu.Unlock()
	select {
	case <-r.release:
	case <-ctx.Done():
		r.mu.Lock()
		r.canceled = append(r.canceled, exp.Name)
		r.mu.Unlock()
	}
}

func (r *blockingRunner) Started() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.started...)
}

type fixedPause struct{ paused bool }

func (p *fixedPause) Paused(time.Time) (bool, string) { return p.paused, "test pause" }

const twoExperiments = `maxConcurrentRuns: %d
experiments:
  - {name: a, schedule: "@every 1m", target: {kind: pod}, action: {type: pod-kill}}
  - {name: b, schedule: "@every 1m", target: {kind: pod}, action: {type: pod-kill}}
`

func newTestScheduler(t *testing.T, doc string, pause PauseChecker) (*Scheduler, *clocktesting.FakeClock, *blockingRunner, *Metrics) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	runner := newBlockingRunner()
	metrics := NewMetrics(prometheus.NewRegistry())
	s := New(parseConfig(t, doc), Options{Clock: clk, Rand: NewRand(1), Runner: runner, Pause: pause, Metrics: metrics})
	t.Cleanup(func() { close(runner.release); s.Wait() })
	return s, clk, runner, metrics
}

func sprintf(format string, n int) string { return fmt.Sprintf(format, n) }

func TestRunOnceStartsDueActivationsOnly(t *testing.T) {
	s, clk, runner, _ := newTestScheduler(t, sprintf(twoExperiments, 2), nil)
	ctx := context.Background()
	if got := s.RunOnce(ctx); len(got) != 0 {
		t.Fatalf("nothing is due at start, started %v", got)
	}
	clk.Step(time.Minute)
	if got := s.RunOnce(ctx); len(got) != 2 {
		t.Fatalf("both experiments are due after a minute, started %v", got)
	}
	waitFor(t, func() bool { return len(runner.Started()) == 2 })
	pending := s.Pending()
	var names []string
	for _, act := range pending {
		names = append(names, act.Experiment)
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("pending activations for %v, want the next one of a and of b", names)
	}
	for _, act := range pending {
		if !act.Scheduled.Equal(clk.Now().Add(time.Minute)) {
			t.Errorf("next activation of %s = %s, want one minute later", act.Experiment, act.Scheduled)
		}
	}
}

func TestExperimentNeverOverlapsItself(t *testing.T) {
	s, clk, _, m := newTestScheduler(t, sprintf(twoExperiments, 5), nil)
	ctx := context.Background()
	clk.Step(time.Minute)
	s.RunOnce(ctx)
	clk.Step(time.Minute) // both runs are still blocked
	if got := s.RunOnce(ctx); len(got) != 0 {
		t.Fatalf("experiments overlapped themselves: started %v again", got)
	}
	if n := testutil.ToFloat64(m.skipped.WithLabelValues("a", string(SkipAlreadyRunning))); n != 1 {
		t.Fatalf("already-running skips for a = %v, want 1", n)
	}
}

func TestMaxConcurrentRunsHolds(t *testing.T) {
	s, clk, _, m := newTestScheduler(t, sprintf(twoExperiments, 1), nil)
	clk.Step(time.Minute)
	if got := s.RunOnce(context.Background()); len(got) != 1 {
		t.Fatalf("maxConcurrentRuns 1 but started %v", got)
	}
	skips := testutil.ToFloat64(m.skipped.WithLabelValues("a", string(SkipMaxConcurrent))) +
		testutil.ToFloat64(m.skipped.WithLabelValues("b", string(SkipMaxConcurrent)))
	if skips != 1 {
		t.Fatalf("max-concurrent-runs skips = %v, want 1", skips)
	}
}

// returningRunner records runs and returns at once.
type returningRunner struct {
	mu      sync.Mutex
	started []string
}

func (r *returningRunner) Run(_ context.Context, _ *config.Config, exp config.Experiment, _ Activation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, exp.Name)
}

// Two experiments on one schedule under maxConcurrentRuns 1 tie at every
// activation; the one refused last time must win the next tie. (Ties broken
// by map order let one experiment win about 7 ties in 8, which starved the
// other through a whole e2e test.)
func TestMaxConcurrentRunsTakesTurnsOnTies(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
			runner := &returningRunner{}
			s := New(parseConfig(t, sprintf(twoExperiments, 1)), Options{Clock: clk, Rand: NewRand(seed), Runner: runner})
			const rounds = 12
			for range rounds {
				clk.Step(time.Minute)
				if got := s.RunOnce(context.Background()); len(got) != 1 {
					t.Fatalf("maxConcurrentRuns 1 but started %v", got)
				}
				s.Wait() // the run returned and freed its slot
			}
			started := runner.started
			for i := 1; i < len(started); i++ {
				if started[i] == started[i-1] {
					t.Fatalf("%s won two ties in a row (runs %d and %d) while the other waited: %v", started[i], i, i+1, started)
				}
			}
		})
	}
}

func TestPausedSkipsAndCounts(t *testing.T) {
	pause := &fixedPause{paused: true}
	s, clk, runner, m := newTestScheduler(t, sprintf(twoExperiments, 2), pause)
	clk.Step(time.Minute)
	if got := s.RunOnce(context.Background()); len(got) != 0 {
		t.Fatalf("paused but started %v", got)
	}
	if n := testutil.ToFloat64(m.skipped.WithLabelValues("a", string(SkipPaused))); n != 1 {
		t.Fatalf("paused skips = %v, want 1", n)
	}
	if len(runner.Started()) != 0 {
		t.Fatal("runner called while paused")
	}
	// Skipped activations are not queued: after resuming, only the next one runs.
	pause.paused = false
	clk.Step(30 * time.Second)
	if got := s.RunOnce(context.Background()); len(got) != 0 {
		t.Fatalf("a missed activation was queued: started %v", got)
	}
}

func TestSetConfigCancelsRemovedExperimentAndKeepsOthers(t *testing.T) {
	s, clk, runner, _ := newTestScheduler(t, sprintf(twoExperiments, 2), nil)
	clk.Step(time.Minute)
	s.RunOnce(context.Background())
	waitFor(t, func() bool { return len(runner.Started()) == 2 })
	before := s.Pending()

	s.SetConfig(parseConfig(t, `experiments:
  - {name: a, schedule: "@every 1m", target: {kind: pod}, action: {type: pod-kill}}
`))
	waitFor(t, func() bool {
		runner.mu.Lock()
		defer runner.mu.Unlock()
		return len(runner.canceled) == 1 && runner.canceled[0] == "b"
	})
	after := s.Pending()
	if len(after) != 1 || after[0].Experiment != "a" || !after[0].At.Equal(before[0].At) {
		t.Fatalf("pending after reload = %+v, want a's unchanged activation %+v", after, before[0])
	}
}

func TestRunLoopFiresOnFakeClockAndStopsOnCancel(t *testing.T) {
	s, clk, runner, _ := newTestScheduler(t, sprintf(twoExperiments, 2), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor(t, clk.HasWaiters)
	clk.Step(time.Minute)
	waitFor(t, func() bool { return len(runner.Started()) == 2 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	runner.mu.Lock()
	defer runner.mu.Unlock()
	if len(runner.canceled) != 2 {
		t.Fatalf("runs not cancelled on shutdown: %v", runner.canceled)
	}
}

// waitFor polls cond: runs execute on goroutines even under a fake clock.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
