package runner

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

// scriptedGuard answers Preflight with pre, and Poll with okPolls OK
// evaluations followed by bad ones.
type scriptedGuard struct {
	mu      sync.Mutex
	pre     guard.State
	okPolls int
	polls   int
}

func (g *scriptedGuard) Preflight(context.Context) guard.Evaluation {
	return guard.Evaluation{Mode: guard.ModePreflight, State: g.pre}
}

func (g *scriptedGuard) Poll(context.Context) guard.Evaluation {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.polls++
	if g.okPolls < 0 || g.polls <= g.okPolls {
		return guard.Evaluation{Mode: guard.ModePoll, State: guard.StateOK}
	}
	return guard.Evaluation{Mode: guard.ModePoll, State: guard.StateBlocked,
		Alerts: []guard.AlertEvidence{{Source: guard.SourceAlertmanager, Name: "DemoDown", State: "active", Labels: map[string]string{"alertname": "DemoDown"}}}}
}

type fakePicker struct {
	res targets.Result
	err error
}

func (p fakePicker) Pick(context.Context, config.Experiment, config.Policy, *rand.Rand) (targets.Result, error) {
	return p.res, p.err
}

// fakeEngine records injections and reverts; injectErr fails Inject (after
// "changing" the target, as a PDB-blocked drain does).
type fakeEngine struct {
	mu        sync.Mutex
	injected  []string
	reverted  []string
	injectErr error
	revertErr error
	clock     *clocktesting.FakeClock
	// onInject, when set, runs inside Inject once the target is recorded.
	onInject func()
	// left is what every revert leaves in place.
	left []experiments.LeftFault
}

func (e *fakeEngine) FaultsLeft(*experiments.Injection) []experiments.LeftFault {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.left
}

func (e *fakeEngine) Inject(_ context.Context, run experiments.Run, exp config.Experiment, t targets.Target) (*experiments.Injection, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.injected = append(e.injected, t.String())
	if e.onInject != nil {
		e.onInject()
	}
	inj := &experiments.Injection{ID: run.ID + t.Name, Run: run, Action: exp.Action.Type, Target: t, InjectedAt: e.clock.Now(), Reversible: true}
	return inj, e.injectErr
}

func (e *fakeEngine) Revert(_ context.Context, inj *experiments.Injection) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.revertErr != nil {
		return e.revertErr
	}
	e.reverted = append(e.reverted, inj.Target.String())
	return nil
}

func (e *fakeEngine) WaitReplacement(context.Context, *experiments.PodKill, time.Duration) (experiments.Replacement, error) {
	return experiments.Replacement{}, experiments.ErrNoOwner
}

type memJournal struct {
	mu     sync.Mutex
	writes []journal.Record
}

func (j *memJournal) Write(rec journal.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writes = append(j.writes, rec)
	return nil
}

type recordingNotifier struct {
	mu     sync.Mutex
	events []string
}

func (n *recordingNotifier) Dispatch(ev config.Event, _ journal.Record) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, string(ev))
}

func (n *recordingNotifier) DispatchFinished(rec journal.Record) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, "finished:"+string(rec.Verdict))
}

const experimentDoc = `guard: {pollInterval: 1s, cooldown: 5m}
experiments:
  - name: abort
    schedule: "@every 1h"
    target: {kind: virtualservice, namespaces: [go-demo-8]}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 30s
    observe: 10s
`

var vs = targets.Target{Kind: config.TargetVirtualService, Namespace: "go-demo-8", Name: "go-demo-8"}

type fixture struct {
	clock   *clocktesting.FakeClock
	guard   *scriptedGuard
	picker  fakePicker
	engine  *fakeEngine
	journal *memJournal
	notify  *recordingNotifier
	pause   *guard.PauseState
	metrics *Metrics
	cfg     *config.Config
	reach   Reacher
	landing Lander
	tracer  Tracer
	logger  *zap.Logger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(experimentDoc))
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	return &fixture{
		clock:   clk,
		guard:   &scriptedGuard{pre: guard.StateOK, okPolls: -1},
		picker:  fakePicker{res: targets.Result{Targets: []targets.Target{vs}, Considered: 2, Eligible: 1}},
		engine:  &fakeEngine{clock: clk},
		journal: &memJournal{},
		notify:  &recordingNotifier{},
		pause:   guard.NewPauseState(clk),
		metrics: NewMetrics(prometheus.NewRegistry()),
		cfg:     cfg,
	}
}

// run executes one run, stepping the fake clock until it returns.
func (f *fixture) run(t *testing.T, ctx context.Context) journal.Record {
	t.Helper()
	r := New(Options{Guard: f.guard, Picker: f.picker, Engine: f.engine, Journal: f.journal, Notifier: f.notify,
		Pause: f.pause, Metrics: f.metrics, Clock: f.clock, Seeds: func() uint64 { return 42 }, Reach: f.reach, Landing: f.landing,
		Tracer: f.tracer, Logger: f.logger})
	done := make(chan journal.Record, 1)
	go func() { done <- r.RunNow(ctx, f.cfg, f.cfg.Experiments[0]) }()
	return await(t, f.clock, done)
}

func TestRunVerdicts(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(*fixture)
		cancelEarly  bool
		wantVerdict  guard.Verdict
		wantInjected int
		wantReverted int
		wantPaused   bool
		wantEvents   []string
	}{
		{
			name:         "healthy throughout passes",
			wantVerdict:  guard.Passed,
			wantInjected: 1, wantReverted: 1,
			wantEvents: []string{"started", "finished:passed"},
		},
		{
			name:        "preflight blocked skips without injecting",
			setup:       func(f *fixture) { f.guard.pre = guard.StateBlocked },
			wantVerdict: guard.Skipped,
			wantEvents:  []string{"finished:skipped"},
		},
		{
			name: "no eligible target skips",
			setup: func(f *fixture) {
				f.picker.res = targets.Result{Considered: 3, Rejected: map[targets.Reason]int{targets.ReasonPDB: 3}}
			},
			wantVerdict: guard.Skipped,
			wantEvents:  []string{"finished:skipped"},
		},
		{
			name:        "pick error is an error",
			setup:       func(f *fixture) { f.picker.err = errors.New("apiserver down") },
			wantVerdict: guard.Error,
			wantEvents:  []string{"finished:error"},
		},
		{
			name:         "alert during hold halts, reverts and pauses",
			setup:        func(f *fixture) { f.guard.okPolls = 2 },
			wantVerdict:  guard.Weakness,
			wantInjected: 1, wantReverted: 1, wantPaused: true,
			wantEvents: []string{"started", "finished:weakness"},
		},
		{
			name:         "failed injection that changed something is reverted",
			setup:        func(f *fixture) { f.engine.injectErr = experiments.ErrBlockedByPDB },
			wantVerdict:  guard.Error,
			wantInjected: 1, wantReverted: 1,
			wantEvents: []string{"started", "finished:error"},
		},
		{
			name:         "failed revert is an error",
			setup:        func(f *fixture) { f.engine.revertErr = errors.New("conflict storm") },
			wantVerdict:  guard.Error,
			wantInjected: 1,
			wantEvents:   []string{"started", "finished:error"},
		},
		{
			name: "halt whose revert fails is a weakness that pauses",
			setup: func(f *fixture) {
				f.guard.okPolls = 2
				f.engine.revertErr = errors.New("apiserver brownout")
			},
			wantVerdict:  guard.Weakness,
			wantInjected: 1, wantPaused: true,
			wantEvents: []string{"started", "finished:weakness"},
		},
		{
			name:         "shutdown during hold aborts and still reverts",
			cancelEarly:  true,
			wantVerdict:  guard.Aborted,
			wantInjected: 1, wantReverted: 1,
			wantEvents: []string{"started", "finished:aborted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelEarly {
				// Shut down as the fault goes in, so the hold starts already
				// cancelled whatever the fake clock does meanwhile.
				f.engine.onInject = cancel
			}
			rec := f.run(t, ctx)
			if rec.Verdict != tt.wantVerdict {
				t.Fatalf("verdict = %s (%s), want %s", rec.Verdict, rec.Reason, tt.wantVerdict)
			}
			if len(f.engine.injected) != tt.wantInjected || len(f.engine.reverted) != tt.wantReverted {
				t.Fatalf("injected %v, reverted %v; want %d and %d", f.engine.injected, f.engine.reverted, tt.wantInjected, tt.wantReverted)
			}
			if paused, _, _ := f.pause.Paused(f.clock.Now()); paused != tt.wantPaused {
				t.Fatalf("paused = %v, want %v", paused, tt.wantPaused)
			}
			if got := f.notify.events; !equal(got, tt.wantEvents) {
				t.Fatalf("notifications %v, want %v", got, tt.wantEvents)
			}
			last := f.journal.writes[len(f.journal.writes)-1]
			if last.Verdict != tt.wantVerdict || last.Seed != 42 || last.RunID == "" || last.Reason == "" {
				t.Fatalf("journal = %+v, want the final record with seed 42 and a reason", last)
			}
			if n := testutil.ToFloat64(f.metrics.runs.WithLabelValues("abort", "http-abort", string(tt.wantVerdict))); n != 1 {
				t.Fatalf("chaosd_runs_total{verdict=%s} = %v, want 1", tt.wantVerdict, n)
			}
		})
	}
}

func TestHaltRevertsBeforeDurationEnds(t *testing.T) {
	f := newFixture(t)
	f.guard.okPolls = 1 // the second poll (after one tick) sees the alert
	rec := f.run(t, context.Background())
	if rec.Verdict != guard.Weakness {
		t.Fatalf("verdict = %s, want weakness", rec.Verdict)
	}
	inj := rec.Injections[0]
	if inj.RevertedAt == nil {
		t.Fatal("fault not reverted")
	}
	if held := inj.RevertedAt.Sub(inj.InjectedAt); held >= 30*time.Second {
		t.Fatalf("fault held %s after the alert; the halt must cut the 30s hold short", held)
	}
	if len(rec.Evidence) == 0 || rec.Evidence[0].Name != "DemoDown" {
		t.Fatalf("evidence = %+v, want the DemoDown alert", rec.Evidence)
	}
	if testutil.CollectAndCount(f.metrics.haltLatency) != 1 {
		t.Fatal("halt latency not observed")
	}
	var phases []string
	for _, e := range rec.Timeline {
		phases = append(phases, string(e.Phase))
	}
	halt, revert := slices.Index(phases, string(journal.PhaseHalt)), slices.Index(phases, string(journal.PhaseRevert))
	if halt < 0 || revert < 0 || halt > revert {
		t.Errorf("timeline %v: the halt must come before the revert it caused", phases)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestInitExperimentsExportsZeroCounters: every verdict of every experiment
// is exported at 0 before its first run, so increase() counts that run.
func TestInitExperimentsExportsZeroCounters(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	m.InitExperiments([]config.Experiment{
		{Name: "abort", Action: config.Action{Type: config.ActionHTTPAbort}},
		{Name: "kill", Action: config.Action{Type: config.ActionPodKill}},
	})
	if n := testutil.CollectAndCount(m.runs, "chaosd_runs_total"); n != 2*len(guard.Verdicts()) {
		t.Errorf("%d chaosd_runs_total series, want 2 experiments x %d verdicts", n, len(guard.Verdicts()))
	}
	if got := testutil.ToFloat64(m.runs.WithLabelValues("abort", "http-abort", "weakness")); got != 0 {
		t.Errorf("weakness runs before any run = %v", got)
	}
	if n := testutil.CollectAndCount(m.noTarget, "chaosd_runs_no_target_total"); n != 2 {
		t.Errorf("%d chaosd_runs_no_target_total series, want 2", n)
	}
}

// A fault the revert left in place (another writer changed it while held)
// is in the journal's injection, on the timeline, and in the reason every
// report shows, whatever the verdict.
func TestRunReportsFaultsLeft(t *testing.T) {
	f := newFixture(t)
	left := experiments.LeftFault{Object: "virtualservice/go-demo-8/go-demo-8", Route: `"api"`, Parts: []string{"abort"}, ChangedBy: "kubectl-edit"}
	f.engine.left = []experiments.LeftFault{left}
	rec := f.run(t, context.Background())
	want := `fault left in place on route "api" of virtualservice/go-demo-8/go-demo-8 (abort): changed by kubectl-edit`
	if rec.Verdict != guard.Passed {
		t.Errorf("verdict %s, want passed: the run itself went well", rec.Verdict)
	}
	if got := rec.FaultsLeft(); len(got) != 1 || got[0] != want {
		t.Errorf("FaultsLeft = %q, want [%q]", got, want)
	}
	if !strings.HasSuffix(rec.Reason, "; "+want) {
		t.Errorf("reason %q does not end with the fault left", rec.Reason)
	}
	if !slices.ContainsFunc(rec.Timeline, func(e journal.TimelineEntry) bool { return e.Phase == journal.PhaseRevert && e.Message == want }) {
		t.Errorf("no revert timeline entry %q: %+v", want, rec.Timeline)
	}
}
