package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
)

// Options are the Guard's collaborators. Every field may be left zero.
type Options struct {
	// HTTPClient talks to Alertmanager and Prometheus. Its own Timeout may
	// be zero: every call is bounded by config.Guard.Timeout anyway.
	HTTPClient *http.Client
	Clock      clock.PassiveClock
	Logger     *zap.Logger
	// Registerer receives the chaosd_guard_* metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Guard evaluates chaosd's monitoring. For each evaluation it:
//   - asks Alertmanager for alerts that are active, not silenced and not
//     inhibited, and keeps those matching every block matcher and not every
//     ignore matcher (ChaosWeaknessFound and ChaosAlertGapFound never block);
//   - in preflight with blockPending, asks Prometheus for pending alerts,
//     filtered by the same matchers;
//   - runs every Prometheus check (min/max/empty), recording its value;
//   - runs all those calls concurrently, each bounded by config.Guard.Timeout;
//   - answers Blocked if anything is wrong, else Unknown if anything could
//     not be evaluated, else OK.
//
// A Guard is safe for concurrent use.
type Guard struct {
	cfg     config.Guard
	clock   clock.PassiveClock
	log     *zap.Logger
	metrics *metrics
	am      *alertmanagerSource // nil when not configured
	prom    *prometheusSource   // nil when not configured
}

var _ Poller = (*Guard)(nil)

// New builds a Guard from a validated config snapshot.
func New(cfg config.Guard, opts Options) (*Guard, error) {
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("guard timeout must be positive, got %s", cfg.Timeout)
	}
	g := &Guard{cfg: cfg, clock: opts.Clock, log: opts.Logger}
	if g.clock == nil {
		g.clock = clock.RealClock{}
	}
	if g.log == nil {
		g.log = zap.NewNop()
	}
	var block, ignore []string
	if am := cfg.Alertmanager; am != nil {
		block, ignore = am.Block, am.Ignore
	}
	filter, err := newAlertFilter(block, ignore)
	if err != nil {
		return nil, fmt.Errorf("guard alertmanager matchers: %w", err)
	}
	if am := cfg.Alertmanager; am != nil {
		c, err := NewAlertmanagerClient(am.URL, opts.HTTPClient)
		if err != nil {
			return nil, err
		}
		g.am = &alertmanagerSource{api: c.Alert, filter: filter, timeout: cfg.Timeout}
	}
	if p := cfg.Prometheus; p != nil {
		api, err := newPrometheusAPI(p.URL, opts.HTTPClient)
		if err != nil {
			return nil, err
		}
		g.prom = &prometheusSource{api: api, checks: p.Checks, filter: filter, timeout: cfg.Timeout}
	}
	if g.metrics, err = newMetrics(opts.Registerer); err != nil {
		return nil, fmt.Errorf("register guard metrics: %w", err)
	}
	if g.am == nil && g.prom == nil {
		g.log.Warn("guard has neither alertmanager nor prometheus configured; every run will look healthy")
	}
	return g, nil
}

// ErrNoPrometheus is returned by QueryRange when the guard has no Prometheus.
var ErrNoPrometheus = errors.New("guard.prometheus is not configured")

// QueryRange evaluates query from start to end, one sample per step, on
// the guard's Prometheus, bounded by config.Guard.Timeout. SLIs are
// sampled through it.
func (g *Guard) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	if g.prom == nil {
		return nil, ErrNoPrometheus
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	v, _, _, err := g.prom.api.QueryRange(ctx, query, promv1.Range{Start: start, End: end, Step: step}, promv1.WithTimeout(g.cfg.Timeout))
	if err != nil {
		return nil, fmt.Errorf("range query: %w", describeTimeout(ctx, err, g.cfg.Timeout))
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("range query returned %s, want a matrix", v.Type())
	}
	return m, nil
}

// Config returns the configuration the Guard was built from.
func (g *Guard) Config() config.Guard { return g.cfg }

// Preflight decides whether a run may start: only OK lets it.
func (g *Guard) Preflight(ctx context.Context) Evaluation { return g.Evaluate(ctx, ModePreflight) }

// Poll decides whether a running run must halt, and judges it afterwards.
func (g *Guard) Poll(ctx context.Context) Evaluation { return g.Evaluate(ctx, ModePoll) }

// Evaluate asks every configured source once, concurrently.
func (g *Guard) Evaluate(ctx context.Context, mode Mode) Evaluation {
	start := g.clock.Now()
	var (
		wg                sync.WaitGroup
		amAlerts, pending []AlertEvidence
		amErr, pendingErr error
		checks            []CheckResult
		checkErrs         []error
		askPending        = (mode == ModePreflight || mode == ModeStatus) && g.prom != nil && g.cfg.Prometheus.BlockPending
	)
	if g.am != nil {
		wg.Go(func() { amAlerts, amErr = g.am.evaluate(ctx) })
	}
	if askPending {
		wg.Go(func() { pending, pendingErr = g.prom.pending(ctx) })
	}
	if g.prom != nil {
		checks = make([]CheckResult, len(g.prom.checks))
		checkErrs = make([]error, len(g.prom.checks))
		for i, c := range g.prom.checks {
			wg.Go(func() { checks[i], checkErrs[i] = g.prom.check(ctx, c) })
		}
	}
	wg.Wait()
	// When the caller gave up (a run ending, chaosd stopping), the failures
	// are ours, not the monitoring's: the answer is still Unknown, but it
	// must not show up in the metrics as a broken source.
	count := ctx.Err() == nil

	ev := Evaluation{Mode: mode, At: start, Sources: map[string]State{}}
	if g.am != nil {
		g.addAlerts(&ev, SourceAlertmanager, amAlerts, amErr, count)
	}
	if askPending {
		g.addAlerts(&ev, SourcePending, pending, pendingErr, count)
	}
	if len(checks) > 0 {
		g.addChecks(&ev, checks, checkErrs, count)
	}
	for _, st := range ev.Sources {
		ev.State = worse(ev.State, st)
	}
	ev.State = worse(ev.State, StateOK) // no sources at all: OK
	ev.Duration = g.clock.Since(start)
	if count {
		g.metrics.observe(ev)
	}
	g.log.Debug("guard evaluated", zap.String("mode", string(mode)), zap.String("state", string(ev.State)),
		zap.Duration("duration", ev.Duration), zap.String("summary", ev.Summary()))
	return ev
}

func (g *Guard) addAlerts(ev *Evaluation, source string, alerts []AlertEvidence, err error, count bool) {
	switch {
	case err != nil:
		ev.Sources[source] = StateUnknown
		ev.Problems = append(ev.Problems, Problem{Source: source, Message: err.Error()})
		if count {
			g.metrics.errors.WithLabelValues(source).Inc()
		}
	case len(alerts) > 0:
		ev.Sources[source] = StateBlocked
		ev.Alerts = append(ev.Alerts, alerts...)
	default:
		ev.Sources[source] = StateOK
	}
}

func (g *Guard) addChecks(ev *Evaluation, checks []CheckResult, errs []error, count bool) {
	st := StateOK
	for i, c := range checks {
		st = worse(st, c.State)
		if c.State == StateUnknown {
			ev.Problems = append(ev.Problems, Problem{Source: SourceChecks, Check: c.Name, Message: c.Reason})
		}
		if errs[i] != nil && count {
			g.metrics.errors.WithLabelValues(SourceChecks).Inc()
		}
	}
	ev.Sources[SourceChecks] = st
	ev.Checks = checks
}
