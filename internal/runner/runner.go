// Package runner performs one run of one experiment, end to end. It is the
// one place where the pipeline's stages meet:
//
//   - preflight: the guard must say OK (no blocking alert, every check holds);
//   - pick: targets chosen at random inside the blast radius, from a seeded
//     source whose seed is logged and journaled; one run picks at a time,
//     and reserves what it picked until it ends, so that concurrent runs
//     count it against their budgets before the fault shows in the cluster;
//   - reach: a target whose fault can affect nothing is dropped, and a run
//     left with none is skipped as unreachable;
//   - SLI baselines: each SLI, rendered for the first picked target, is
//     sampled over guard.sliBaseline before anything is injected;
//   - inject, hold for duration, revert, observe: while the fault is held and
//     observed, a guard watcher polls; a halt reverts at once;
//   - SLIs sampled over the hold and observe windows and compared with
//     their baselines (package sli);
//   - landing: evidence that the fault took effect (Prometheus, the
//     replacement, the evictions); without it the run is no-effect;
//   - verdict from the guard's evidence, then journal, metrics, notifications,
//     and self-pause after a weakness.
//
// Each run is one OpenTelemetry trace (Options.Tracer): a root span with a
// child span per phase, errors recorded on the phase that met them; its
// trace id is in the journal record and on the run's log lines.
//
// Reverts run on a context detached from the run's, so shutdown or removal
// of the experiment still reverts. It never decides when to run (that is
// the scheduler's job) and never talks to the cluster except through the
// experiments engine and the targets picker.
package runner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/scheduler"
	"github.com/chaosd/chaosd/internal/sli"
	"github.com/chaosd/chaosd/internal/targets"
)

// Guard evaluates the cluster's monitoring.
type Guard interface {
	Preflight(ctx context.Context) guard.Evaluation
	Poll(ctx context.Context) guard.Evaluation
}

// Picker chooses targets inside the blast radius.
type Picker interface {
	Pick(ctx context.Context, exp config.Experiment, policy config.Policy, rng *rand.Rand) (targets.Result, error)
}

// Engine injects and reverts faults.
type Engine interface {
	Inject(ctx context.Context, run experiments.Run, exp config.Experiment, t targets.Target) (*experiments.Injection, error)
	Revert(ctx context.Context, inj *experiments.Injection) error
	// FaultsLeft lists what the revert of inj left in place because
	// another writer changed it while held.
	FaultsLeft(inj *experiments.Injection) []experiments.LeftFault
	WaitReplacement(ctx context.Context, kill *experiments.PodKill, interval time.Duration) (experiments.Replacement, error)
}

// Journal keeps run records.
type Journal interface {
	Write(rec journal.Record) error
}

// Notifier tells people about runs; it must never block.
type Notifier interface {
	Dispatch(ev config.Event, rec journal.Record)
	DispatchFinished(rec journal.Record)
}

// Pauser is chaosd's self-pause state.
type Pauser interface {
	PauseAfterWeakness(c config.Cooldown, reason string)
	PauseManual(reason string)
}

// Reserver holds a run's picked targets until release, so concurrent picks
// count them against the blast radius (a *targets.Ledger, which the Picker
// reads too).
type Reserver interface {
	Reserve(ts []targets.Target) (release func())
}

// Options wires a Runner. Guard, Picker, Engine and Clock are required.
type Options struct {
	Guard  Guard
	Picker Picker
	Engine Engine
	// Journal, Notifier, Pause and Metrics may be nil.
	Journal  Journal
	Notifier Notifier
	Pause    Pauser
	Metrics  *Metrics
	// Reservations, shared with the Picker, holds each run's targets from
	// its pick until it ends; nil reserves nothing.
	Reservations Reserver
	Clock        clock.WithTicker
	Logger       *zap.Logger
	// Nudges lets Alertmanager webhook pushes wake the halt watcher early.
	Nudges guard.NudgeSource
	// SLIs samples the experiments' SLIs (the guard's Prometheus); nil
	// leaves every SLI without data.
	SLIs sli.RangeQuerier
	// ConfigHash names the config snapshot in journals.
	ConfigHash func() string
	// Seeds returns a fresh seed per run; default crypto/rand.
	Seeds func() uint64
	// RevertTimeout bounds reverting one run's faults (default 2m).
	RevertTimeout time.Duration
	// ReplacementTimeout bounds waiting for a killed pod's replacement
	// beyond the observe window (default 2m).
	ReplacementTimeout time.Duration
	// Reach checks, before injecting, that each target's fault can affect
	// anything; nil checks nothing.
	Reach Reacher
	// Landing proves http-* faults landed, from Prometheus; nil checks
	// nothing (pod kills and drains are proven from chaosd's own records).
	Landing Lander
	// Tracer makes each run one OpenTelemetry trace; nil traces nothing.
	Tracer Tracer
}

// Runner runs experiments; it is safe for concurrent use.
type Runner struct {
	o Options
	// picking admits one pick-and-reserve at a time: two picks reading the
	// same budget before either reserves would each take all of it.
	picking chan struct{}
}

// New returns a Runner.
func New(o Options) *Runner {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Seeds == nil {
		o.Seeds = scheduler.RandomSeed
	}
	if o.ConfigHash == nil {
		o.ConfigHash = func() string { return "" }
	}
	if o.RevertTimeout == 0 {
		o.RevertTimeout = 2 * time.Minute
	}
	if o.ReplacementTimeout == 0 {
		o.ReplacementTimeout = 2 * time.Minute
	}
	return &Runner{o: o, picking: make(chan struct{}, 1)}
}

// Run satisfies scheduler.Runner.
func (r *Runner) Run(ctx context.Context, cfg *config.Config, exp config.Experiment, _ scheduler.Activation) {
	r.RunNow(ctx, cfg, exp)
}

// RunNow performs one run and returns its journal record. Cancelling ctx
// aborts the run; its faults are still reverted before RunNow returns.
func (r *Runner) RunNow(ctx context.Context, cfg *config.Config, exp config.Experiment) journal.Record {
	seed := r.o.Seeds()
	start := r.o.Clock.Now()
	rn := &run{
		r:   r,
		cfg: cfg,
		exp: exp,
		rng: scheduler.NewRand(seed),
		rec: journal.Record{
			SchemaVersion: journal.SchemaVersion,
			RunID:         runID(start, exp.Name, seed),
			Experiment:    exp.Name,
			Action:        exp.Action.Type,
			TargetKind:    exp.Target.Kind,
			ConfigHash:    r.o.ConfigHash(),
			Seed:          seed,
			DryRun:        exp.IsDryRun(cfg.DryRun),
			StartedAt:     start,
			Evidence:      []journal.Evidence{},
			Timeline:      []journal.TimelineEntry{},
			Injections:    []journal.Injection{},
		},
	}
	rn.log = r.o.Logger.With(zap.String("experiment", exp.Name), zap.String("run", rn.rec.RunID))
	ctx = rn.startTrace(ctx)
	rn.log.Info("run started", zap.Uint64("seed", seed), zap.Bool("dryRun", rn.rec.DryRun))
	rn.execute(ctx)
	r.finish(rn)
	return rn.rec
}

// finish records the verdict everywhere it is seen.
func (r *Runner) finish(rn *run) {
	rec := &rn.rec
	rec.FinishedAt = r.o.Clock.Now()
	rec.DurationSeconds = rec.FinishedAt.Sub(rec.StartedAt).Seconds()
	rec.AddTimeline(rec.FinishedAt, journal.PhaseVerdict, "", fmt.Sprintf("%s: %s", rec.Verdict, rec.Reason), nil)
	rn.endTrace()
	rn.log.Info("run finished", zap.String("verdict", string(rec.Verdict)), zap.String("reason", rec.Reason),
		zap.Float64("durationSeconds", rec.DurationSeconds))
	if r.o.Journal != nil {
		if err := r.o.Journal.Write(*rec); err != nil {
			rn.log.Warn("write journal failed", zap.Error(err))
		}
	}
	if r.o.Metrics != nil {
		r.o.Metrics.observeRun(*rec)
	}
	if rec.Verdict == guard.Weakness && r.o.Pause != nil {
		r.o.Pause.PauseAfterWeakness(rn.cfg.Guard.Cooldown, fmt.Sprintf("weakness found by %s (run %s)", rec.Experiment, rec.RunID))
	}
	if rec.Verdict == guard.AlertGap && rn.cfg.Guard.PauseOnAlertGap && r.o.Pause != nil {
		r.o.Pause.PauseAfterWeakness(rn.cfg.Guard.Cooldown, fmt.Sprintf("alert gap found by %s (run %s)", rec.Experiment, rec.RunID))
	}
	if rn.halt != nil && rn.halt.Pause && r.o.Pause != nil {
		r.o.Pause.PauseManual("guard unknown for too long during run " + rec.RunID + " (onUnknown: pause)")
	}
	if r.o.Notifier != nil {
		r.o.Notifier.DispatchFinished(*rec)
	}
}

func runID(at time.Time, experiment string, seed uint64) string {
	return fmt.Sprintf("%s-%s-%04x", at.UTC().Format("20060102t150405z"), experiment, seed&0xffff)
}
