package guard

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
)

// Poller is what a Watcher evaluates; *Guard is one.
type Poller interface {
	Poll(ctx context.Context) Evaluation
}

// NudgeSource hands out channels that fire when monitoring pushed news, such
// as an Alertmanager webhook; *Nudger is one.
type NudgeSource interface {
	Subscribe() (nudges <-chan struct{}, unsubscribe func())
}

// HaltReason says why a run must halt.
type HaltReason string

const (
	// HaltWeakness: the guard is Blocked; the Evaluation is the evidence.
	HaltWeakness HaltReason = "weakness"
	// HaltUnknown: the guard stayed Unknown for UnknownAfter and OnUnknown
	// is revert or pause.
	HaltUnknown HaltReason = "unknown"
)

// Halt tells the runner to stop a run now. Every halt means: stop injecting
// and revert everything. With Pause set (onUnknown: pause) the runner must
// then also pause chaosd until someone resumes it (PauseState.PauseManual),
// because chaos without working monitoring is blind.
type Halt struct {
	Reason HaltReason `json:"reason"`
	Pause  bool       `json:"pause,omitempty"`
	At     time.Time  `json:"at"`
	// UnknownSince is when the guard became unknown (HaltUnknown only).
	UnknownSince time.Time `json:"unknownSince,omitzero"`
	// Evaluation is the one that triggered the halt.
	Evaluation Evaluation `json:"evaluation"`
	Message    string     `json:"message"`
}

// WatcherOptions are a Watcher's collaborators. Every field may be zero.
type WatcherOptions struct {
	Clock  clock.WithTicker
	Logger *zap.Logger
	// Nudges, when set, makes a push re-evaluate at once instead of at the
	// next tick. Each Run subscribes for its own duration.
	Nudges NudgeSource
	// OnEvaluation receives every evaluation of a Run, e.g. for the run
	// journal. It runs on the watcher's goroutine and should be quick.
	OnEvaluation func(Evaluation)
}

// Watcher watches the guard while a fault is active:
//   - evaluate at once, then every PollInterval, and at once on a nudge;
//   - Blocked → halt for a weakness, immediately;
//   - Unknown without interruption for UnknownAfter (measured from the
//     first unknown evaluation's start) → act per OnUnknown: revert halts,
//     pause halts and asks for a pause, ignore keeps going and only logs;
//   - OK ends an unknown streak.
//
// A Watcher holds no per-run state, so one can serve concurrent runs.
type Watcher struct {
	poller       Poller
	interval     time.Duration
	unknownAfter time.Duration
	onUnknown    config.UnknownPolicy
	clock        clock.WithTicker
	log          *zap.Logger
	nudges       NudgeSource
	onEvaluation func(Evaluation)
}

// NewWatcher builds a Watcher from the guard config's PollInterval,
// UnknownAfter and OnUnknown.
func NewWatcher(p Poller, cfg config.Guard, opts WatcherOptions) *Watcher {
	w := &Watcher{
		poller: p, interval: cfg.PollInterval, unknownAfter: cfg.UnknownAfter, onUnknown: cfg.OnUnknown,
		clock: opts.Clock, log: opts.Logger, nudges: opts.Nudges, onEvaluation: opts.OnEvaluation,
	}
	if w.interval <= 0 {
		w.interval = config.DefaultPollInterval
	}
	if w.unknownAfter <= 0 {
		w.unknownAfter = 3 * w.interval
	}
	if w.clock == nil {
		w.clock = clock.RealClock{}
	}
	if w.log == nil {
		w.log = zap.NewNop()
	}
	return w
}

// Start runs Run on its own goroutine. The channel receives the Halt, if
// any, and is closed when Run returns; cancel ctx to stop watching.
func (w *Watcher) Start(ctx context.Context) <-chan Halt {
	out := make(chan Halt, 1)
	go func() {
		defer close(out)
		if h, ok := w.Run(ctx); ok {
			out <- h
		}
	}()
	return out
}

// Run watches until the run must halt (the Halt, true) or ctx is done
// (false).
func (w *Watcher) Run(ctx context.Context) (Halt, bool) {
	var nudges <-chan struct{}
	if w.nudges != nil {
		ch, unsubscribe := w.nudges.Subscribe()
		defer unsubscribe()
		nudges = ch
	}
	ticker := w.clock.NewTicker(w.interval)
	defer ticker.Stop()
	var streak unknownStreak
	for {
		if h, halt := w.step(ctx, &streak); halt {
			return h, true
		}
		select {
		case <-ctx.Done():
			return Halt{}, false
		case <-ticker.C():
		case <-nudges:
		}
	}
}

// unknownStreak tracks an uninterrupted run of Unknown evaluations.
type unknownStreak struct {
	since    time.Time
	active   bool
	reported bool // the ignore policy has logged this streak
}

// step evaluates once and decides.
func (w *Watcher) step(ctx context.Context, s *unknownStreak) (Halt, bool) {
	now := w.clock.Now()
	ev := w.poller.Poll(ctx)
	if ctx.Err() != nil {
		return Halt{}, false // a poll cut short by our own cancellation proves nothing
	}
	if w.onEvaluation != nil {
		w.onEvaluation(ev)
	}
	switch ev.State {
	case StateBlocked:
		w.log.Warn("guard blocked, halting run", zap.String("reason", ev.Summary()))
		return Halt{Reason: HaltWeakness, At: now, Evaluation: ev, Message: ev.Summary()}, true
	case StateOK:
		if s.active {
			w.log.Info("guard known again", zap.Duration("unknownFor", now.Sub(s.since)))
		}
		*s = unknownStreak{}
		return Halt{}, false
	}
	if !s.active {
		*s = unknownStreak{since: now, active: true}
		w.log.Warn("guard unknown", zap.String("reason", ev.Summary()))
	}
	unknownFor := now.Sub(s.since)
	if unknownFor < w.unknownAfter {
		return Halt{}, false
	}
	msg := fmt.Sprintf("guard unknown for %s (unknownAfter %s): %s", unknownFor, w.unknownAfter, ev.Summary())
	switch w.onUnknown {
	case config.UnknownIgnore:
		if !s.reported {
			w.log.Warn("guard unknown too long, continuing as onUnknown is ignore", zap.String("reason", msg))
			s.reported = true
		}
		return Halt{}, false
	case config.UnknownPause:
		w.log.Warn("guard unknown too long, halting run and pausing", zap.String("reason", msg))
		return Halt{Reason: HaltUnknown, Pause: true, At: now, UnknownSince: s.since, Evaluation: ev, Message: msg}, true
	default: // revert, and anything unexpected: fail closed
		w.log.Warn("guard unknown too long, halting run", zap.String("reason", msg))
		return Halt{Reason: HaltUnknown, At: now, UnknownSince: s.since, Evaluation: ev, Message: msg}, true
	}
}
