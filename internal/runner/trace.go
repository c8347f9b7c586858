package runner

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// Tracer starts a run's root span (a trace.Tracer satisfies it). The
// phases' spans come from the root span's own provider, so a config
// reload that swaps the tracer never splits one run across two.
type Tracer interface {
	Start(ctx context.Context, spanName string, opts ...trace.SpanStartOption) (context.Context, trace.Span)
}

// TracerName is the instrumentation scope of every span of a run.
const TracerName = "github.com/chaosd/chaosd/internal/runner"

// SpanRun names a run's root span. Its children are named after the
// phases: the journal's preflight, pick, inject, hold, halt, revert,
// observe and verdict, and reach, sli.baseline, sli.judge and landing.
const SpanRun = "chaosd.run"

// Span names of phases the journal's timeline has no phase of its own for.
const (
	spanReach       = "reach"
	spanSLIBaseline = "sli.baseline"
	spanSLIJudge    = "sli.judge"
	spanLanding     = "landing"
)

// Attributes of a run's spans.
const (
	AttrExperiment = attribute.Key("chaosd.experiment")
	AttrRunID      = attribute.Key("chaosd.run.id")
	AttrAction     = attribute.Key("chaosd.action")
	AttrTargetKind = attribute.Key("chaosd.target.kind")
	AttrDryRun     = attribute.Key("chaosd.dry_run")
	// AttrTargets lists the chosen targets as kind/namespace/name (a node
	// as node/name, a zone as zone/name, a URL as itself).
	AttrTargets = attribute.Key("chaosd.targets")
	AttrVerdict = attribute.Key("chaosd.verdict")
	AttrReason  = attribute.Key("chaosd.reason")
	// AttrTarget and AttrPhase qualify an error recorded on a span.
	AttrTarget     = attribute.Key("chaosd.target")
	AttrPhase      = attribute.Key("chaosd.phase")
	AttrGuardState = attribute.Key("chaosd.guard.state")
	AttrGuardWhy   = attribute.Key("chaosd.guard.summary")
	AttrHaltReason = attribute.Key("chaosd.halt.reason")
	AttrCutShort   = attribute.Key("chaosd.cut_short")
)

// startTrace opens the run's root span, always a new trace, at the run's
// start on the injected clock. A sampled run's trace id goes into its
// journal record and onto its logger.
func (rn *run) startTrace(ctx context.Context) context.Context {
	tracer := rn.r.o.Tracer
	if tracer == nil {
		tracer = noop.NewTracerProvider().Tracer(TracerName)
	}
	ctx, rn.root = tracer.Start(ctx, SpanRun, trace.WithNewRoot(), trace.WithTimestamp(rn.rec.StartedAt),
		trace.WithAttributes(AttrExperiment.String(rn.exp.Name), AttrRunID.String(rn.rec.RunID),
			AttrAction.String(string(rn.exp.Action.Type)), AttrTargetKind.String(string(rn.exp.Target.Kind)),
			AttrDryRun.Bool(rn.rec.DryRun)))
	rn.span = rn.root
	rn.tracer = rn.root.TracerProvider().Tracer(TracerName)
	if sc := rn.root.SpanContext(); sc.IsSampled() {
		rn.rec.TraceID = sc.TraceID().String()
		rn.log = rn.log.With(zap.String("trace_id", rn.rec.TraceID))
	}
	return ctx
}

// endTrace closes the root span with the verdict; only an error verdict
// (chaosd could not do the run) marks it failed: a weakness is a finding.
func (rn *run) endTrace() {
	rec := &rn.rec
	rn.root.SetAttributes(AttrVerdict.String(string(rec.Verdict)), AttrReason.String(rec.Reason),
		AttrTargets.StringSlice(rec.Targets()))
	if rec.Verdict == guard.Error {
		rn.root.SetStatus(codes.Error, rec.Reason)
	}
	rn.root.End(trace.WithTimestamp(rec.FinishedAt))
}

// begin opens the span of one phase, a child of the run's span (ctx must
// carry that, not another phase's); errors noted until end go onto it.
func (rn *run) begin(ctx context.Context, name string, attrs ...attribute.KeyValue) context.Context {
	ctx, rn.span = rn.tracer.Start(ctx, name, trace.WithTimestamp(rn.r.o.Clock.Now()), trace.WithAttributes(attrs...))
	return ctx
}

// end closes the open phase span, failed when err is set.
func (rn *run) end(err error, attrs ...attribute.KeyValue) {
	rn.span.SetAttributes(attrs...)
	if err != nil {
		rn.span.SetStatus(codes.Error, err.Error())
	}
	rn.span.End(trace.WithTimestamp(rn.r.o.Clock.Now()))
	rn.span = rn.root
}

// recordError puts err on the open span as an exception event.
func (rn *run) recordError(err error, phase journal.Phase, target string) {
	attrs := []attribute.KeyValue{AttrPhase.String(string(phase))}
	if target != "" {
		attrs = append(attrs, AttrTarget.String(target))
	}
	rn.span.RecordError(err, trace.WithTimestamp(rn.r.o.Clock.Now()), trace.WithAttributes(attrs...))
}

// guardSpanAttrs describe an evaluation on the span of the phase that
// made it.
func guardSpanAttrs(ev guard.Evaluation) []attribute.KeyValue {
	return []attribute.KeyValue{AttrGuardState.String(string(ev.State)), AttrGuardWhy.String(ev.Summary())}
}

// guardErr is an evaluation that could not be made, as an error: a guard
// that blocks worked; one that is unknown failed.
func guardErr(ev guard.Evaluation) error {
	if ev.State != guard.StateUnknown {
		return nil
	}
	return errors.New("guard unknown: " + ev.Summary())
}

// traceHalt records the halt as its own span, from the guard's decision
// to the revert it caused (zero length when the halt came after the
// revert, during observe).
func (rn *run) traceHalt(ctx context.Context) {
	h := rn.halt
	end := h.At
	if rn.revertedAt.After(end) {
		end = rn.revertedAt
	}
	_, span := rn.tracer.Start(ctx, string(journal.PhaseHalt), trace.WithTimestamp(h.At),
		trace.WithAttributes(AttrHaltReason.String(string(h.Reason)), AttrReason.String(h.Message)))
	span.SetAttributes(guardSpanAttrs(h.Evaluation)...)
	span.End(trace.WithTimestamp(end))
}
