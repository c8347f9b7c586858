package experiments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

// Defaults for Options fields left zero.
const (
	DefaultExpiryMargin    = 5 * time.Minute
	DefaultDrainRetryDelay = 5 * time.Second
	DefaultMaxLoadRequests = 1_000_000
	// revertParallelism bounds concurrent reverts in RevertAll and Recover.
	revertParallelism = 8
)

// DefaultRevertBackoff retries a failing revert for about half a minute
// (15 attempts) before Revert reports failure; attempts are never more than
// 2 s apart, so the API server's return is noticed at once. The background
// retrier (DefaultRetryBackoff) takes over after that.
var DefaultRevertBackoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Steps: 15, Cap: 2 * time.Second}

// Options configures an Engine.
type Options struct {
	Kube kubernetes.Interface
	// Istio may be nil when Istio is not installed; HTTP fault actions then
	// fail and recovery skips VirtualServices.
	Istio istioclient.Interface
	// Namespace is chaosd's own: node snapshots are kept there.
	Namespace string
	// Namespaces, when set, is namespaced mode (chaosd --namespaced): the
	// Roles chaosd has cover only these namespaces, so recovery lists
	// VirtualServices in each of them and never reads nodes.
	Namespaces []string
	// Identity names this chaosd process in recorded intents (Intent.By);
	// unique per process, so recovery can tell its own intents apart.
	Identity string
	// Liveness tells whether the process that wrote an intent still runs;
	// recovery leaves a live writer's unexpired faults to it. Nil counts
	// every other writer as gone.
	Liveness WriterLiveness
	Clock    clock.Clock
	Logger   *zap.Logger
	// Registerer receives chaosd_injections_total, chaosd_reverts_total,
	// chaosd_active_injections, chaosd_revert_retries_total and
	// chaosd_reverts_pending; nil registers nothing.
	Registerer prometheus.Registerer
	// Recorder emits Kubernetes Events; nil emits none.
	Recorder EventRecorder
	// ExpiryMargin is added to a fault's duration to get the expiry recorded
	// in its intent, after which recovery reverts it regardless of its run.
	ExpiryMargin time.Duration
	// DrainRetryDelay is the pause after an eviction refused by a PDB.
	DrainRetryDelay time.Duration
	// ConflictBackoff paces Get→Update retries on conflicts (default
	// retry.DefaultRetry); RevertBackoff paces whole-revert retries on
	// transient errors (default DefaultRevertBackoff), on Clock.
	ConflictBackoff wait.Backoff
	RevertBackoff   wait.Backoff
	// RetryBackoff paces the background retries of a revert that failed
	// (default DefaultRetryBackoff), on Clock, until it succeeds.
	RetryBackoff wait.Backoff
	// MaxLoadRequests caps the requests of one http-load burst.
	MaxLoadRequests uint64
}

// Run identifies the run an injection belongs to.
type Run struct {
	ID         string
	Experiment string
	DryRun     bool
	// Duration the fault is held; zero means the experiment's.
	Duration time.Duration
}

// Injection is one fault injected by this Engine. A non-nil Injection
// returned with an error means something changed and is held: revert it.
type Injection struct {
	ID         string            `json:"id"`
	Run        Run               `json:"run"`
	Action     config.ActionType `json:"action"`
	Target     targets.Target    `json:"target"`
	InjectedAt time.Time         `json:"injectedAt"`
	ExpiresAt  time.Time         `json:"expiresAt"`
	DryRun     bool              `json:"dryRun"`
	Reversible bool              `json:"reversible"`
	// Detail is the action's report: *PodKill, *LoadReport, *NodeReport,
	// *RouteReport, *NodeSnapshot, or the Plan of a dry run.
	Detail any `json:"detail,omitempty"`

	record   Record
	mu       sync.Mutex // serializes reverts
	reverted bool
	left     []LeftFault // what the revert left in place (FaultsLeft)
	retrying bool        // a background retrier owns the failed revert
}

// FaultsLeft lists the faults the revert of inj left in place because
// another writer changed them while chaosd held them; nil before the revert.
func (inj *Injection) FaultsLeft() []LeftFault {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	return slices.Clone(inj.left)
}

// FaultsLeft lists the faults the revert of inj left in place (see
// Injection.FaultsLeft).
func (e *Engine) FaultsLeft(inj *Injection) []LeftFault { return inj.FaultsLeft() }

// WriterLiveness tells until when the chaosd process with this identity
// counts as running unless it renews its claim (liveness.Lease in chaosd);
// the zero time means it is gone.
type WriterLiveness interface {
	AliveUntil(ctx context.Context, identity string) (time.Time, error)
}

// Engine is the one choke point through which faults are injected and
// reverted:
//
//   - Inject: record the intent in the cluster with the change, emit the
//     Event, count, log, and remember the injection as active;
//   - Revert / RevertAll: give back what chaosd changed, retrying transient
//     errors, and forget it; a revert that still fails is retried in the
//     background until it succeeds or Close is called;
//   - Recover: revert injections recorded in the cluster that no live run
//     owns or that have expired. A run owns its intents from before its
//     first write until its revert: intents of this process count as owned
//     while the Engine holds their run (injecting or active), intents of
//     another process while that process is alive.
type Engine struct {
	kube          kubernetes.Interface
	istio         istioclient.Interface
	namespace     string
	watched       []string // namespaced mode's namespaces; nil cluster-wide
	identity      string
	liveness      WriterLiveness
	clock         clock.Clock
	log           *zap.Logger
	recorder      EventRecorder
	metrics       *metrics
	expiryMargin  time.Duration
	revertBackoff wait.Backoff
	retryBackoff  wait.Backoff
	actuators     map[config.ActionType]Actuator

	// stop ends the background retries (Close); retries counts them.
	stop        context.Context
	stopRetries context.CancelFunc
	retries     sync.WaitGroup

	mu     sync.Mutex
	active map[string]*Injection
	// changed is closed and replaced whenever an injection is forgotten.
	changed chan struct{}
	closed  bool
	// injecting counts the Injects in flight per run ID: a run is held
	// from before its actuator's first write.
	injecting map[string]int
}

// NewEngine builds an Engine.
func NewEngine(o Options) (*Engine, error) {
	if o.Kube == nil {
		return nil, errors.New("experiments: Kube client is required")
	}
	if o.Namespace == "" {
		return nil, errors.New("experiments: chaosd's Namespace is required")
	}
	if o.Identity == "" {
		o.Identity = "chaosd"
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.ExpiryMargin <= 0 {
		o.ExpiryMargin = DefaultExpiryMargin
	}
	if o.DrainRetryDelay <= 0 {
		o.DrainRetryDelay = DefaultDrainRetryDelay
	}
	if o.ConflictBackoff == (wait.Backoff{}) {
		o.ConflictBackoff = retry.DefaultRetry
	}
	if o.RevertBackoff == (wait.Backoff{}) {
		o.RevertBackoff = DefaultRevertBackoff
	}
	if o.RetryBackoff == (wait.Backoff{}) {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxLoadRequests == 0 {
		o.MaxLoadRequests = DefaultMaxLoadRequests
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register experiment metrics: %w", err)
	}
	nodes := &nodeWriter{kube: o.Kube, backoff: o.ConflictBackoff}
	acts := map[config.ActionType]Actuator{
		config.ActionPodKill:    &podKill{kube: o.Kube, clock: o.Clock},
		config.ActionNodeCordon: &nodeCordon{nodes: nodes},
		config.ActionNodeDrain:  &nodeDrain{nodes: nodes, retryDelay: o.DrainRetryDelay},
		config.ActionNodeDelete: &nodeDelete{kube: o.Kube, namespace: o.Namespace},
		config.ActionHTTPLoad:   &httpLoad{maxRequests: o.MaxLoadRequests},
	}
	if o.Istio != nil {
		vs := &httpFault{istio: o.Istio, backoff: o.ConflictBackoff}
		acts[config.ActionHTTPAbort], acts[config.ActionHTTPDelay], acts[config.ActionHTTPFault] = vs, vs, vs
	}
	stop, stopRetries := context.WithCancel(context.Background())
	return &Engine{
		kube: o.Kube, istio: o.Istio, namespace: o.Namespace, watched: slices.Clone(o.Namespaces), identity: o.Identity,
		liveness: o.Liveness, clock: o.Clock, log: o.Logger, recorder: o.Recorder, metrics: m,
		expiryMargin: o.ExpiryMargin, revertBackoff: o.RevertBackoff, retryBackoff: o.RetryBackoff,
		actuators: acts, stop: stop, stopRetries: stopRetries,
		active: map[string]*Injection{}, changed: make(chan struct{}), injecting: map[string]int{},
	}, nil
}

// Inject applies exp's action to t for run. A dry run (run.DryRun, or the
// experiment's own dryRun: true) only logs what would change.
//
// On error the returned Injection is nil when nothing changed; when it is
// not nil, the fault is (partly) in place, e.g. a drain blocked by a
// PodDisruptionBudget (ErrBlockedByPDB) leaves its nodes cordoned, and the
// caller must Revert it.
func (e *Engine) Inject(ctx context.Context, run Run, exp config.Experiment, t targets.Target) (*Injection, error) {
	a := exp.Action
	if run.Experiment == "" {
		run.Experiment = exp.Name
	}
	log := e.log.With(zap.String("experiment", exp.Name), zap.String("run", run.ID), zap.String("action", string(a.Type)),
		zap.String("target", t.String()), zap.String("namespace", t.Namespace))
	act, err := e.actuator(a.Type)
	if err != nil {
		return nil, err
	}
	dry := run.DryRun || exp.IsDryRun(false)
	if dry {
		act = dryRun{next: act} // the one place dry runs are wired
	}
	now := e.clock.Now()
	in := Intent{Run: run.ID, Experiment: exp.Name, Action: a.Type, By: e.identity, InjectedAt: now,
		ExpiresAt: now.Add(holdFor(run, exp) + e.expiryMargin)}
	e.beginInject(run.ID)
	rec, err := safeInject(ctx, act, Spec{Intent: in, Action: a, Target: t, Log: log})
	count := func(result string) { e.metrics.injections.WithLabelValues(exp.Name, string(a.Type), result).Inc() }
	if err != nil && (dry || !rec.Applied) {
		e.endInject(run.ID, nil)
		count(injectResult(err, false))
		return nil, err
	}
	inj := &Injection{ID: run.ID + "/" + t.String(), Run: run, Action: a.Type, Target: t, InjectedAt: now,
		ExpiresAt: in.ExpiresAt, DryRun: dry, Reversible: rec.Reversible && !dry, Detail: rec.Detail, record: rec}
	if dry {
		e.endInject(run.ID, nil)
		count(resultDryRun)
		return inj, nil
	}
	var held *Injection // nothing to give back (pod-kill, http-load): nothing to hold
	if inj.Reversible {
		held = inj
	}
	e.endInject(run.ID, held)
	note := fmt.Sprintf("%s by run %s of experiment %s", a.Type, run.ID, exp.Name)
	if inj.Reversible {
		note += fmt.Sprintf(", reverted by %s at the latest", inj.ExpiresAt.UTC().Format(time.RFC3339))
	}
	e.emit(rec.Refs, corev1.EventTypeNormal, ReasonInjected, "Inject", note)
	count(injectResult(err, true))
	log.Info("injected", zap.Time("expiresAt", inj.ExpiresAt), zap.Bool("reversible", inj.Reversible), zap.Bool("partial", err != nil))
	return inj, err
}

func injectResult(err error, applied bool) string {
	switch {
	case err == nil:
		return resultSuccess
	case errors.Is(err, ErrBlockedByPDB):
		return resultBlocked
	case applied:
		return resultPartial
	}
	return resultFailed
}

// holdFor is how long a fault may legitimately stay: its duration, plus the
// drain's own timeout for drains.
func holdFor(run Run, exp config.Experiment) time.Duration {
	d := run.Duration
	if d == 0 {
		d = exp.Duration
	}
	if exp.Action.Type == config.ActionNodeDrain {
		t := exp.Action.Timeout
		if t <= 0 {
			t = config.DefaultDrainTimeout
		}
		d += t
	}
	return d
}

func (e *Engine) actuator(t config.ActionType) (Actuator, error) {
	act, ok := e.actuators[t]
	if !ok {
		if t == config.ActionHTTPAbort || t == config.ActionHTTPDelay || t == config.ActionHTTPFault {
			return nil, fmt.Errorf("action %s needs an Istio client, none configured", t)
		}
		return nil, fmt.Errorf("unknown action %q", t)
	}
	return act, nil
}

// beginInject holds runID before its actuator writes anything.
func (e *Engine) beginInject(runID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.injecting[runID]++
}

// endInject ends an Inject of runID; a held injection becomes active in the
// same step, so Recover never sees the run unheld in between.
func (e *Engine) endInject(runID string, held *Injection) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.injecting[runID]--; e.injecting[runID] <= 0 {
		delete(e.injecting, runID)
	}
	if held != nil {
		if _, dup := e.active[held.ID]; !dup {
			e.metrics.active.Inc()
		}
		e.active[held.ID] = held
	}
}

// holds reports whether this Engine still holds runID: an Inject of it is
// in flight, or one of its injections is active (not yet reverted).
func (e *Engine) holds(runID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.injecting[runID] > 0 {
		return true
	}
	for _, inj := range e.active {
		if inj.Run.ID == runID {
			return true
		}
	}
	return false
}

// Active lists the injections not yet reverted, oldest first.
func (e *Engine) Active() []*Injection {
	e.mu.Lock()
	out := make([]*Injection, 0, len(e.active))
	for _, inj := range e.active {
		out = append(out, inj)
	}
	e.mu.Unlock()
	slices.SortFunc(out, func(a, b *Injection) int {
		if c := a.InjectedAt.Compare(b.InjectedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
