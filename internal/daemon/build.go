package daemon

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.uber.org/zap"
	"k8s.io/client-go/tools/events"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/landing"
	"github.com/chaosd/chaosd/internal/liveness"
	"github.com/chaosd/chaosd/internal/reach"
	"github.com/chaosd/chaosd/internal/runner"
	"github.com/chaosd/chaosd/internal/scheduler"
	"github.com/chaosd/chaosd/internal/targets"
)

// daemon is the running process's state.
type daemon struct {
	o   Options
	log *zap.Logger

	cfg      atomic.Pointer[config.Config]
	cfgError atomic.Pointer[string] // last rejected reload, cleared by a good one
	manual   atomic.Pointer[control.ManualPause]
	leading  atomic.Bool

	guard    *guardHolder
	notifier *notifierHolder
	self     *guard.PauseState
	pauser   runner.Pauser // what the runner's self-pauses go through
	nudger   *guard.Nudger
	source   *targets.ClusterSource
	engine   *experiments.Engine
	// alive is this process's liveness Lease; stopRenew, set while it is
	// held, stops its renewals.
	alive     *liveness.Lease
	stopRenew func()
	journal   *journal.Store
	sched     *scheduler.Scheduler
	runner    *runner.Runner
	recorder  events.EventRecorder
	// runEvents writes the Event each finished run leaves on chaosd's
	// ConfigMap, one object per run (see syncRecorder).
	runEvents events.EventRecorder
	metrics   *daemonMetrics
	runStats  *runner.Metrics
	tracer    *tracerHolder
	recent    *recentRuns
	// scores are the resiliency scores; nil in a one-shot run, which
	// serves no metrics or status.
	scores *scoreBoard
	// reported remembers the faults recovery cannot revert here that were
	// already reported, so each is reported once, not at every pass.
	reported reportedOnce
}

// build wires every stage from the first config.
func build(ctx context.Context, o Options, cfg *config.Config, oneShot bool) (*daemon, error) {
	d := &daemon{o: o, log: o.Logger, self: guard.NewPauseState(o.Clock), nudger: guard.NewNudger(), recent: &recentRuns{}}
	d.pauser = persistedPause{d}
	d.cfg.Store(cfg)
	d.metrics = newDaemonMetrics(o.Registry, func() []pauseReason { return d.pauseReasons(o.Clock.Now()) })
	d.metrics.configReloaded(true, o.Clock.Now())

	d.recorder = newEventRecorder(ctx, o, oneShot)
	d.runEvents = &syncRecorder{kube: o.Kube, clock: o.Clock, identity: o.Identity, log: o.Logger}

	g, err := guard.New(cfg.Guard, guard.Options{HTTPClient: o.HTTPClient, Clock: o.Clock, Logger: o.Logger, Registerer: o.Registry})
	if err != nil {
		return nil, fmt.Errorf("build guard: %w", err)
	}
	d.guard = newGuardHolder(g)
	if d.notifier, err = newNotifierHolder(cfg, o); err != nil {
		return nil, err
	}
	d.source = targets.NewClusterSource(targets.ClusterOptions{Kube: o.Kube, Metadata: o.Metadata, Istio: o.Istio, Namespaces: o.WatchNamespaces})
	writer := o.Identity
	if oneShot {
		writer = onceIdentity(o.Identity)
	}
	d.alive, err = liveness.New(liveness.Options{Kube: o.Kube, Namespace: o.Namespace, Identity: writer, Clock: o.Clock,
		Logger: o.Logger.With(zap.String("identity", writer))})
	if err != nil {
		return nil, fmt.Errorf("build liveness lease: %w", err)
	}
	d.engine, err = experiments.NewEngine(experiments.Options{
		Kube: o.Kube, Istio: o.Istio, Namespace: o.Namespace, Namespaces: o.WatchNamespaces, Identity: writer, Liveness: d.alive,
		Clock: o.Clock, Logger: o.Logger, Registerer: o.Registry, Recorder: d.recorder,
	})
	if err != nil {
		return nil, fmt.Errorf("build experiments engine: %w", err)
	}
	// Runs reserve what they pick in the ledger until they end, and the
	// picker counts those reservations against every budget.
	ledger := targets.NewLedger()
	picker := targets.NewPicker(targets.Options{
		Source: d.source, OwnNamespace: o.Namespace, OwnPodName: o.Identity, OwnNodeName: o.NodeName,
		Held: heldBy{d.engine}, Reserved: ledger, Clock: o.Clock, Logger: o.Logger,
	})
	journalDir := o.JournalDir
	if journalDir == "" {
		journalDir = cfg.Journal.Dir
	}
	if journalDir == "" {
		journalDir = "chaosd-journal"
	}
	d.journal, err = journal.Open(journal.Options{Dir: journalDir, MaxRuns: cfg.Journal.MaxRuns, MaxBytes: cfg.Journal.MaxBytes, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if !oneShot {
		d.scores = newScoreBoard(o.Logger)
		o.Registry.MustRegister(scoreCollector{d.scores})
	}
	if d.tracer, err = newTracerHolder(ctx, cfg.Tracing, o); err != nil {
		return nil, err
	}
	d.runStats = runner.NewMetrics(o.Registry)
	d.initExperimentMetrics(cfg)
	d.runner = runner.New(runner.Options{
		Guard: d.guard, Picker: picker, Engine: d.engine, Journal: d.journal,
		Notifier: runObserver{d}, Pause: d.pauser, Metrics: d.runStats, Reservations: ledger,
		Clock: o.Clock, Logger: o.Logger, Nudges: d.nudger, ConfigHash: d.hash, SLIs: d.guard,
		Reach:   reach.Reader{Kube: o.Kube, Istio: o.Istio, Dynamic: o.Dynamic, Namespaces: o.WatchNamespaces},
		Landing: landing.FromGuard{HTTPClient: o.HTTPClient},
		Tracer:  d.tracer,
	})
	d.sched = scheduler.New(cfg, scheduler.Options{
		Clock: o.Clock, Rand: scheduler.NewRand(scheduler.RandomSeed()), Runner: d.runner, Pause: d,
		Logger: o.Logger, Metrics: scheduler.NewMetrics(o.Registry),
	})
	return d, nil
}

func (d *daemon) hash() string { return d.cfg.Load().Hash() }

// initExperimentMetrics exports every experiment's counters at zero, so
// the first run, injection or weakness shows in increase() on dashboards
// and in alerts.
func (d *daemon) initExperimentMetrics(cfg *config.Config) {
	d.runStats.InitExperiments(cfg.Experiments)
	d.engine.InitMetrics(cfg.Experiments)
}

// heldBy tells the picker which targets already carry one of this
// replica's faults; faults of other replicas are marked in the cluster.
type heldBy struct{ engine *experiments.Engine }

func (h heldBy) IsHeld(kind config.TargetKind, namespace, name string) bool {
	for _, inj := range h.engine.Active() {
		t := inj.Target
		if t.Kind == kind && t.Namespace == namespace && (t.Name == name || t.Zone == name || t.URL == name) {
			return true
		}
	}
	return false
}
