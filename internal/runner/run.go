package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/landing"
	"github.com/chaosd/chaosd/internal/sli"
	"github.com/chaosd/chaosd/internal/targets"
)

// run is the state of one run while it executes.
type run struct {
	r   *Runner
	cfg *config.Config
	exp config.Experiment
	rng *rand.Rand
	log *zap.Logger
	rec journal.Record

	injected   []*experiments.Injection
	slis       []sli.Probe // with their baselines; nil without SLIs
	injectedAt time.Time
	halt       *guard.Halt
	injectErr  error
	revertErr  error
	revertedAt time.Time

	// root is the run's span, span the open phase's (root between
	// phases), tracer the root's own provider's.
	root, span trace.Span
	tracer     trace.Tracer
}

// execute walks the phases and leaves the verdict in rn.rec.
func (rn *run) execute(ctx context.Context) {
	pre := rn.r.o.Guard.Preflight(rn.begin(ctx, string(journal.PhasePreflight)))
	rn.note(journal.PhasePreflight, "", "guard "+pre.Summary(), nil)
	rn.end(guardErr(pre), guardSpanAttrs(pre)...)
	if !pre.OK() {
		rn.addEvidence(pre)
		rn.conclude(guard.DeriveVerdict(guard.RunOutcome{Preflight: pre}))
		return
	}
	chosen, release, ok := rn.pick(ctx)
	if !ok {
		return
	}
	// Held through observe and the replacement wait: budgets come back
	// when the run is over, not when its revert call returns.
	defer release()
	if chosen, ok = rn.checkReach(ctx, chosen); !ok {
		return
	}
	if rn.r.o.Journal != nil { // an in-progress record survives a crash mid-fault
		_ = rn.r.o.Journal.Write(rn.rec)
	}
	if rn.r.o.Notifier != nil {
		rn.r.o.Notifier.Dispatch(config.EventStarted, rn.rec)
	}

	// The watcher judges from the first injection to the end of observe; a
	// halt cancels faultCtx, which cuts short injecting, holding and observing.
	faultCtx, endFault := context.WithCancel(ctx)
	defer endFault()
	watchCtx, stopWatch := context.WithCancel(ctx)
	halts := guard.NewWatcher(rn.r.o.Guard, rn.cfg.Guard, guard.WatcherOptions{
		Clock: rn.r.o.Clock, Logger: rn.log, Nudges: rn.r.o.Nudges,
	}).Start(watchCtx)
	haltSeen := make(chan struct{})
	go func() {
		defer close(haltSeen)
		if h, ok := <-halts; ok {
			rn.halt = &h
			endFault()
		}
	}()
	stopWatching := func() { stopWatch(); <-haltSeen }

	rn.sampleBaselines(ctx, chosen[0])
	rn.injectedAt = rn.r.o.Clock.Now()
	rn.inject(rn.begin(faultCtx, string(journal.PhaseInject), AttrTargets.StringSlice(targetNames(chosen))), chosen)
	rn.end(rn.injectErr)
	if rn.injectErr == nil && !rn.rec.DryRun && rn.exp.Duration > 0 {
		rn.begin(ctx, string(journal.PhaseHold))
		rn.sleep(faultCtx, rn.exp.Duration, journal.PhaseHold)
		rn.end(nil, AttrCutShort.Bool(faultCtx.Err() != nil))
	}
	if len(rn.injected) > 0 {
		rn.revert(rn.begin(ctx, string(journal.PhaseRevert)))
		rn.end(rn.revertErr)
	}
	replacement := rn.watchReplacement(ctx)
	observing := replacement != nil || (!rn.rec.DryRun && faultCtx.Err() == nil && rn.exp.Observe > 0)
	if observing {
		rn.begin(ctx, string(journal.PhaseObserve))
	}
	if !rn.rec.DryRun && faultCtx.Err() == nil {
		rn.sleep(faultCtx, rn.exp.Observe, journal.PhaseObserve)
	}
	stopWatching() // from here on rn.halt is safe to read
	rn.recordReplacement(replacement)
	if observing {
		rn.end(nil, AttrCutShort.Bool(faultCtx.Err() != nil))
	}
	if rn.halt != nil {
		rn.traceHalt(ctx)
	}
	if rn.halt != nil && rn.r.o.Metrics != nil && !rn.revertedAt.Before(rn.halt.At) && len(rn.injected) > 0 {
		rn.r.o.Metrics.haltLatency.Observe(rn.revertedAt.Sub(rn.halt.At).Seconds())
	}

	if rn.landingApplies(ctx) {
		rn.rec.Landing = rn.landing(rn.begin(ctx, spanLanding))
		rn.end(nil, landingSpanAttrs(rn.rec.Landing)...)
	}
	outcome := guard.RunOutcome{Preflight: pre, Halt: rn.halt, InjectErr: rn.injectErr, RevertErr: rn.revertErr,
		Landing: landingOutcome(rn.rec.Landing)}
	outcome.SLI = rn.judgeSLIs(ctx)
	vctx := rn.begin(ctx, string(journal.PhaseVerdict))
	if rn.halt != nil {
		rn.noteHalt()
		rn.addEvidence(rn.halt.Evaluation)
	} else if ctx.Err() == nil {
		final := rn.r.o.Guard.Poll(vctx)
		rn.note(journal.PhaseGuard, "", "final guard "+final.Summary(), nil)
		rn.addEvidence(final)
		outcome.Final = &final
		rn.span.SetAttributes(guardSpanAttrs(final)...)
	}
	rn.conclude(guard.DeriveVerdict(outcome))
	if ctx.Err() != nil && rn.halt == nil && rn.rec.Verdict == guard.Aborted {
		rn.rec.Reason = "chaosd stopped the run (shutdown, emergency stop or experiment removed); faults reverted"
	}
	// A fault left in place is not chaosd's any more: every report of the
	// run (status page, report, notifications, chaosd once) must say so.
	if left := rn.rec.FaultsLeft(); len(left) > 0 {
		rn.rec.Reason += "; " + strings.Join(left, "; ")
	}
	rn.end(nil, AttrVerdict.String(string(rn.rec.Verdict)), AttrReason.String(rn.rec.Reason))
}

// pick chooses targets and reserves them until release; false means the
// run ended here.
func (rn *run) pick(ctx context.Context) ([]targets.Target, func(), bool) {
	res, release, err := rn.pickAndReserve(rn.begin(ctx, string(journal.PhasePick)))
	rn.rec.Selection = selectionOf(res)
	rn.span.SetAttributes(attribute.Int("chaosd.candidates", res.Considered), attribute.Int("chaosd.eligible", res.Eligible),
		AttrTargets.StringSlice(targetNames(res.Targets)))
	if err != nil {
		rn.note(journal.PhasePick, "", "picking targets failed", err)
		rn.end(err)
		rn.conclude(guard.Error, fmt.Sprintf("picking targets failed: %v", err))
		return nil, nil, false
	}
	rn.note(journal.PhasePick, "", fmt.Sprintf("%d of %d candidates eligible, chose %d", res.Eligible, res.Considered, len(res.Targets)), nil)
	rn.end(nil)
	if len(res.Targets) == 0 {
		rn.conclude(guard.Skipped, "no eligible target: "+rejectionSummary(res))
		if rn.r.o.Metrics != nil {
			rn.r.o.Metrics.noTarget.WithLabelValues(rn.exp.Name).Inc()
		}
		release()
		return nil, nil, false
	}
	return res.Targets, release, true
}

// pickAndReserve picks while no other run of this Runner picks, and
// reserves the picked targets before letting the next one pick. The
// injection itself runs outside: a drain or a load burst takes minutes, and
// the reservation already keeps other picks off what this run took. A dry
// run changes nothing, so it reserves nothing.
func (rn *run) pickAndReserve(ctx context.Context) (targets.Result, func(), error) {
	select {
	case rn.r.picking <- struct{}{}:
	case <-ctx.Done():
		return targets.Result{}, nil, fmt.Errorf("wait for another run's pick: %w", ctx.Err())
	}
	defer func() { <-rn.r.picking }()
	res, err := rn.r.o.Picker.Pick(ctx, rn.exp, rn.cfg.PolicyFor(rn.exp), rn.rng)
	if err != nil || rn.rec.DryRun || rn.r.o.Reservations == nil {
		return res, func() {}, err
	}
	return res, rn.r.o.Reservations.Reserve(res.Targets), nil
}

// inject injects into every chosen target, stopping at the first error.
func (rn *run) inject(ctx context.Context, chosen []targets.Target) {
	run := experiments.Run{ID: rn.rec.RunID, Experiment: rn.exp.Name, DryRun: rn.rec.DryRun, Duration: rn.exp.Duration}
	for _, t := range chosen {
		if ctx.Err() != nil {
			return
		}
		inj, err := rn.r.o.Engine.Inject(ctx, run, rn.exp, t)
		if inj != nil { // held even when err != nil: it must be reverted
			rn.injected = append(rn.injected, inj)
			rn.rec.Injections = append(rn.rec.Injections, injectionOf(inj))
			if lr, ok := inj.Detail.(*experiments.LoadReport); ok {
				rn.rec.Load = loadStatsOf(lr)
			}
		}
		rn.note(journal.PhaseInject, t.String(), string(rn.exp.Action.Type), err)
		if err != nil {
			if ctx.Err() != nil {
				return // cut short by a halt or a shutdown, not a failure of its own
			}
			rn.injectErr = err
			return
		}
	}
}

// revert reverts every injection on a context that survives ctx, so a
// shutdown still gives back what the run changed.
func (rn *run) revert(ctx context.Context) {
	if len(rn.injected) == 0 {
		return
	}
	revertCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rn.r.o.RevertTimeout)
	defer cancel()
	var errs []error
	for i, inj := range rn.injected {
		if !inj.Reversible {
			continue
		}
		err := rn.r.o.Engine.Revert(revertCtx, inj)
		now := rn.r.o.Clock.Now()
		if err != nil {
			errs = append(errs, err)
			rn.rec.Injections[i].RevertError = err.Error()
		} else {
			rn.rec.Injections[i].RevertedAt = &now
		}
		rn.note(journal.PhaseRevert, inj.Target.String(), "reverted", err)
		for _, l := range rn.r.o.Engine.FaultsLeft(inj) {
			rn.rec.Injections[i].FaultsLeft = append(rn.rec.Injections[i].FaultsLeft, l.String())
			rn.note(journal.PhaseRevert, inj.Target.String(), l.String(), nil)
		}
	}
	rn.revertErr = errors.Join(errs...)
	rn.revertedAt = rn.r.o.Clock.Now()
}

// sleep waits d on the injected clock unless ctx ends first.
func (rn *run) sleep(ctx context.Context, d time.Duration, phase journal.Phase) {
	if d <= 0 {
		return
	}
	rn.note(phase, "", "for "+d.String(), nil)
	t := rn.r.o.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
	case <-ctx.Done():
	}
}

func (rn *run) note(phase journal.Phase, target, msg string, err error) {
	rn.rec.AddTimeline(rn.r.o.Clock.Now(), phase, target, msg, err)
	if err != nil {
		rn.log.Warn(msg, zap.String("phase", string(phase)), zap.String("target", target), zap.Error(err))
		rn.recordError(err, phase, target)
	}
}

// noteHalt records the halt when the guard decided it, before the reverts
// it caused, so the timeline reads in the order things happened.
func (rn *run) noteHalt() {
	h := rn.halt
	tl := rn.rec.Timeline
	i := slices.IndexFunc(tl, func(e journal.TimelineEntry) bool {
		return e.At.After(h.At) || (e.At.Equal(h.At) && e.Phase == journal.PhaseRevert)
	})
	if i < 0 {
		i = len(tl)
	}
	rn.rec.Timeline = slices.Insert(tl, i, journal.TimelineEntry{At: h.At, Phase: journal.PhaseHalt, Message: h.Message})
}

func (rn *run) conclude(v guard.Verdict, reason string) {
	rn.rec.Verdict, rn.rec.Reason = v, reason
}

func (rn *run) addEvidence(ev guard.Evaluation) {
	rn.rec.Evidence = append(rn.rec.Evidence, evidenceOf(ev)...)
}

// rejectionSummary says why nothing was eligible, most common reason first.
func rejectionSummary(res targets.Result) string {
	if len(res.Rejected) == 0 {
		return fmt.Sprintf("%d candidates matched the selectors", res.Considered)
	}
	parts := make([]string, 0, len(res.Rejected))
	for _, kc := range sortedReasons(res.Rejected) {
		parts = append(parts, fmt.Sprintf("%s (%d)", kc.reason, kc.count))
	}
	return strings.Join(parts, ", ")
}

// sliSampler samples on the runner's querier at the guard's step.
func (rn *run) sliSampler() sli.Sampler {
	return sli.Sampler{Querier: rn.r.o.SLIs, Step: rn.cfg.Guard.SLIStep, Rule: sli.DefaultRule}
}

// sampleBaselines samples every SLI of the experiment, rendered for t,
// before anything is injected: the baseline must not see the fault. A dry
// run injects nothing, so it has nothing to compare.
func (rn *run) sampleBaselines(ctx context.Context, t targets.Target) {
	defs := rn.cfg.EffectiveSLIs(rn.exp)
	if len(defs) == 0 || rn.rec.DryRun {
		return
	}
	if rn.r.o.SLIs == nil {
		for _, d := range defs {
			rn.slis = append(rn.slis, sli.Probe{SLI: d, Err: errors.New("no Prometheus to sample SLIs from")})
		}
		return
	}
	sctx := rn.begin(ctx, spanSLIBaseline)
	defer rn.end(nil)
	rn.slis = rn.sliSampler().Baselines(sctx, defs, sliVars(t), rn.r.o.Clock.Now(), rn.cfg.Guard.SLIBaseline)
	for _, p := range rn.slis {
		rn.note(journal.PhaseSLI, t.String(), fmt.Sprintf("baseline of %s: %d samples", p.SLI.Name, len(p.Baseline)), p.Err)
	}
}

// judgeSLIs compares the fault windows with the baselines and journals
// both series; nil when there is nothing to judge (no SLIs, nothing
// injected, chaosd stopping).
func (rn *run) judgeSLIs(ctx context.Context) *guard.SLIOutcome {
	if len(rn.slis) == 0 || len(rn.injected) == 0 || ctx.Err() != nil {
		return nil
	}
	end := rn.r.o.Clock.Now()
	if rn.r.o.SLIs == nil {
		results := make([]sli.Result, 0, len(rn.slis))
		for _, p := range rn.slis {
			results = append(results, sli.Result{Name: p.SLI.Name, State: guard.SLINoData, Reason: p.Err.Error(), HigherIsWorse: p.SLI.Tolerance.HigherIsWorse()})
		}
		rn.rec.SLIs = sliResultsOf(results)
		return sli.Outcome(results)
	}
	sctx := rn.begin(ctx, spanSLIJudge)
	results := rn.sliSampler().Judge(sctx, rn.slis, rn.injectedAt, rn.revertedAt, end)
	for _, r := range results {
		rn.note(journal.PhaseSLI, "", fmt.Sprintf("%s %s: %s", r.Name, r.State, r.Reason), nil)
		rn.span.SetAttributes(attribute.String("chaosd.sli."+r.Name, string(r.State)))
	}
	rn.end(nil)
	rn.rec.SLIs = sliResultsOf(results)
	return sli.Outcome(results)
}

// sliVars is the target's identity as SLI queries see it.
func sliVars(t targets.Target) config.SLIVars {
	v := config.SLIVars{Kind: string(t.Kind), Namespace: t.Namespace, Name: t.Name, Workload: t.Name}
	if t.Host != "" {
		// As Istio's destination_service spells it, like the landing queries.
		v.Host = landing.HostOf(t.Host, t.Namespace)
	}
	if _, name, ok := strings.Cut(t.Owner, "/"); ok {
		v.Workload = name
	}
	switch t.Kind {
	case config.TargetZone:
		v.Name, v.Workload = t.Zone, t.Zone
	case config.TargetURL:
		v.Name, v.Workload = t.URL, t.URL
	}
	return v
}

// targetNames are targets as chaosd prints them: kind/namespace/name.
func targetNames(ts []targets.Target) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.String())
	}
	return out
}
