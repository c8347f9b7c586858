package scheduler

import (
	"context"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
)

// Runner performs one run of one experiment: guard preflight, pick, inject,
// hold, revert, observe, verdict. Cancelling ctx must make it revert and
// return. The scheduler only decides when.
type Runner interface {
	Run(ctx context.Context, cfg *config.Config, exp config.Experiment, act Activation)
}

// PauseChecker reports whether new runs must not start, and why.
type PauseChecker interface {
	Paused(now time.Time) (paused bool, reason string)
}

// Options wires a Scheduler. Clock, Rand and Runner are required.
type Options struct {
	Clock  clock.WithTicker
	Rand   *rand.Rand
	Runner Runner
	Pause  PauseChecker
	Logger *zap.Logger
	// Metrics may be nil.
	Metrics *Metrics
	// MaxWait bounds how long the loop sleeps, so pause changes and clock
	// jumps are noticed even with no activation due.
	MaxWait time.Duration
}

// Scheduler fires experiments at their jittered activations:
//   - each experiment has one pending Activation; when its time comes the
//     activation is skipped (outside windows, paused, already running,
//     maxConcurrentRuns reached) or handed to the Runner in a goroutine;
//   - the next activation is then drawn after max(scheduled, now), so
//     activations missed while chaosd was down or busy are counted, never queued;
//   - activations due in the same pass compete for the free slots in order:
//     the experiment refused a slot (maxConcurrentRuns) longest ago first,
//     ties in a random order, so two experiments on one schedule take turns
//     instead of the same one winning every tie;
//   - SetConfig swaps in a reloaded config: unchanged experiments keep their
//     pending activation, removed ones have their running run cancelled (which
//     reverts its fault).
type Scheduler struct {
	o     Options
	slots *Slots
	wake  chan struct{}

	mu      sync.Mutex
	cfg     *config.Config
	pending map[string]Activation
	running map[string]context.CancelFunc
	// refusedSince is when each experiment was first refused a slot by
	// maxConcurrentRuns since its last run started: its place in the queue
	// for the next free slot.
	refusedSince map[string]time.Time
	runs         sync.WaitGroup
}

// New returns a Scheduler for cfg; call Run to start it.
func New(cfg *config.Config, o Options) *Scheduler {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.MaxWait == 0 {
		o.MaxWait = 30 * time.Second
	}
	s := &Scheduler{
		o:       o,
		slots:   NewSlots(cfg.MaxConcurrentRuns),
		wake:    make(chan struct{}, 1),
		cfg:     cfg,
		pending: map[string]Activation{},
		running: map[string]context.CancelFunc{},

		refusedSince: map[string]time.Time{},
	}
	s.schedule(cfg, nil, o.Clock.Now())
	return s
}

// SetConfig replaces the config. Safe to call while Run is running.
func (s *Scheduler) SetConfig(cfg *config.Config) {
	s.mu.Lock()
	old := s.cfg
	s.cfg = cfg
	s.slots.SetLimit(cfg.MaxConcurrentRuns)
	s.schedule(cfg, old, s.o.Clock.Now())
	for name, cancel := range s.running {
		if exp, ok := cfg.Experiment(name); !ok || exp.Disabled {
			s.o.Logger.Info("experiment removed from config, cancelling its run", zap.String("experiment", name))
			cancel()
		}
	}
	s.mu.Unlock()
	s.nudge()
}

// schedule (re)computes pending activations; old is the previous config or
// nil. Callers hold s.mu, except New.
func (s *Scheduler) schedule(cfg, old *config.Config, now time.Time) {
	next := map[string]Activation{}
	for _, exp := range cfg.Experiments {
		if exp.Disabled {
			continue
		}
		if act, ok := s.pending[exp.Name]; ok && old != nil && sameTiming(cfg, old, exp) {
			next[exp.Name] = act
			continue
		}
		if act, ok := s.draw(cfg, exp, now); ok {
			next[exp.Name] = act
		}
	}
	s.pending = next
	for name := range s.refusedSince {
		if _, ok := next[name]; !ok {
			delete(s.refusedSince, name)
		}
	}
	if s.o.Metrics != nil {
		s.o.Metrics.setPending(next)
	}
}

// sameTiming reports whether exp is scheduled as it was in old.
func sameTiming(cfg, old *config.Config, exp config.Experiment) bool {
	prev, ok := old.Experiment(exp.Name)
	return ok && !prev.Disabled && prev.Schedule == exp.Schedule && prev.Jitter == exp.Jitter &&
		cfg.Location().String() == old.Location().String()
}

func (s *Scheduler) draw(cfg *config.Config, exp config.Experiment, after time.Time) (Activation, bool) {
	act, err := NextActivation(cfg, exp, after, s.o.Rand)
	if err != nil {
		s.o.Logger.Warn("experiment has no next activation", zap.String("experiment", exp.Name), zap.Error(err))
		return Activation{}, false
	}
	return act, true
}

// Pending returns the pending activations, soonest first.
func (s *Scheduler) Pending() []Activation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Activation, 0, len(s.pending))
	for _, a := range s.pending {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Experiment < out[j].Experiment
	})
	return out
}

// RunOnce handles every activation due at the clock's now and returns the
// names of the experiments it started. Runs continue in the background.
func (s *Scheduler) RunOnce(ctx context.Context) []string {
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var started []string
	for _, name := range s.dueInTurn(now) {
		act := s.pending[name]
		exp, _ := s.cfg.Experiment(name)
		if s.fire(ctx, exp, act, now) {
			started = append(started, name)
		}
		if next, ok := s.draw(s.cfg, exp, latest(act.Scheduled, now)); ok {
			s.pending[name] = next
		} else {
			delete(s.pending, name)
		}
	}
	if s.o.Metrics != nil {
		s.o.Metrics.setPending(s.pending)
	}
	sort.Strings(started)
	return started
}

// dueInTurn returns the experiments whose activation is due at now, in the
// order they may take a slot: refused a slot longest ago first, the rest in
// a random order (the seeded source's, not the map's, which for a few
// entries favours one of them). Holds s.mu.
func (s *Scheduler) dueInTurn(now time.Time) []string {
	var due []string
	for name, act := range s.pending {
		if !act.At.After(now) {
			due = append(due, name)
		}
	}
	sort.Strings(due)
	s.o.Rand.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	sort.SliceStable(due, func(i, j int) bool {
		ti, iRefused := s.refusedSince[due[i]]
		tj, jRefused := s.refusedSince[due[j]]
		if iRefused != jRefused {
			return iRefused
		}
		return iRefused && ti.Before(tj)
	})
	return due
}

// fire starts a run for act or records why it was skipped. Holds s.mu.
func (s *Scheduler) fire(ctx context.Context, exp config.Experiment, act Activation, now time.Time) bool {
	log := s.o.Logger.With(zap.String("experiment", exp.Name), zap.Time("scheduled", act.Scheduled))
	skip := func(reason SkipReason, detail string) bool {
		log.Info("activation skipped", zap.String("reason", string(reason)), zap.String("detail", detail))
		if s.o.Metrics != nil {
			s.o.Metrics.skipped.WithLabelValues(exp.Name, string(reason)).Inc()
		}
		return false
	}
	if !act.Allowed {
		return skip(SkipWindow, act.SkipReason)
	}
	if s.o.Pause != nil {
		if paused, why := s.o.Pause.Paused(now); paused {
			return skip(SkipPaused, why)
		}
	}
	release, why, ok := s.slots.TryAcquire(exp.Name)
	if !ok {
		reason := skipReasonFor(why)
		if _, queued := s.refusedSince[exp.Name]; reason == SkipMaxConcurrent && !queued {
			s.refusedSince[exp.Name] = now
		}
		return skip(reason, why)
	}
	delete(s.refusedSince, exp.Name)
	runCtx, cancel := context.WithCancel(ctx)
	s.running[exp.Name] = cancel
	cfg := s.cfg
	s.runs.Add(1)
	if s.o.Metrics != nil {
		s.o.Metrics.activations.WithLabelValues(exp.Name).Inc()
	}
	log.Info("activation started run")
	go func() {
		defer s.runs.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, exp.Name)
			s.mu.Unlock()
			cancel()
			release()
			s.nudge()
		}()
		s.o.Runner.Run(runCtx, cfg, exp, act)
	}()
	return true
}

// Run fires activations until ctx ends, then cancels running runs and waits
// for them to finish reverting.
func (s *Scheduler) Run(ctx context.Context) {
	defer s.Wait()
	for {
		s.RunOnce(ctx)
		timer := s.o.Clock.NewTimer(s.untilNext())
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		case <-s.wake:
			timer.Stop()
		}
	}
}

// untilNext is how long to sleep before the next due activation.
func (s *Scheduler) untilNext() time.Duration {
	wait := s.o.MaxWait
	now := s.o.Clock.Now()
	for _, act := range s.Pending() {
		wait = min(wait, max(0, act.At.Sub(now)))
	}
	return wait
}

// CancelAll cancels every running run (each reverts its faults), for an
// emergency stop. It does not wait; Wait does.
func (s *Scheduler) CancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.running {
		cancel()
	}
}

// Running returns the experiments with a run in progress.
func (s *Scheduler) Running() []string { return s.slots.Running() }

// Wait blocks until every started run has returned.
func (s *Scheduler) Wait() { s.runs.Wait() }

func (s *Scheduler) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
