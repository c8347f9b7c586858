package runner

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/chaosd/chaosd/internal/guard"
)

// traced makes f's runs export their spans to memory, synchronously, and
// log to an observer.
func traced(f *fixture, sampler sdktrace.Sampler) (*tracetest.InMemoryExporter, *observer.ObservedLogs) {
	exp := tracetest.NewInMemoryExporter()
	f.tracer = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sampler)).Tracer(TracerName)
	core, logs := observer.New(zap.InfoLevel)
	f.logger = zap.New(core)
	return exp, logs
}

// runTree is one run's trace: the root span and its children in the
// order they ended.
type runTree struct {
	root     tracetest.SpanStub
	children []tracetest.SpanStub
}

func (tr runTree) names() []string {
	var out []string
	for _, s := range tr.children {
		out = append(out, s.Name)
	}
	return out
}

func (tr runTree) child(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	i := slices.IndexFunc(tr.children, func(s tracetest.SpanStub) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no %s span among %v", name, tr.names())
	}
	return tr.children[i]
}

// treeOf checks that the spans are one trace under one chaosd.run root,
// every other span its direct child.
func treeOf(t *testing.T, spans tracetest.SpanStubs) runTree {
	t.Helper()
	var tr runTree
	var roots int
	for _, s := range spans {
		if s.Name == SpanRun {
			tr.root = s
			roots++
		}
	}
	if roots != 1 || tr.root.Parent.IsValid() {
		t.Fatalf("%d %s spans (parent %v), want one root", roots, SpanRun, tr.root.Parent)
	}
	for _, s := range spans {
		if s.Name == SpanRun {
			continue
		}
		if s.SpanContext.TraceID() != tr.root.SpanContext.TraceID() || s.Parent.SpanID() != tr.root.SpanContext.SpanID() {
			t.Errorf("span %s is not a child of the run's span", s.Name)
		}
		tr.children = append(tr.children, s)
	}
	return tr
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestRunTraceSpanTree: a run is one trace, a child span per phase it went
// through, the target and the verdict on the root, and the trace id in the
// journal record and on every log line of the run.
func TestRunTraceSpanTree(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(*fixture)
		wantVerdict guard.Verdict
		wantSpans   []string
		wantStatus  codes.Code
	}{
		{
			name:        "passed",
			wantVerdict: guard.Passed,
			wantSpans:   []string{"preflight", "pick", "inject", "hold", "revert", "observe", "verdict"},
		},
		{
			name:        "halted by an alert: a weakness",
			setup:       func(f *fixture) { f.guard.okPolls = 2 },
			wantVerdict: guard.Weakness,
			wantSpans:   []string{"preflight", "pick", "inject", "hold", "revert", "halt", "verdict"},
		},
		{
			name:        "preflight blocked",
			setup:       func(f *fixture) { f.guard.pre = guard.StateBlocked },
			wantVerdict: guard.Skipped,
			wantSpans:   []string{"preflight"},
		},
		{
			name:        "failed revert",
			setup:       func(f *fixture) { f.engine.revertErr = errors.New("conflict storm") },
			wantVerdict: guard.Error,
			wantSpans:   []string{"preflight", "pick", "inject", "hold", "revert", "observe", "verdict"},
			wantStatus:  codes.Error,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			exp, logs := traced(f, sdktrace.AlwaysSample())
			rec := f.run(t, context.Background())
			if rec.Verdict != tt.wantVerdict {
				t.Fatalf("verdict %s (%s), want %s", rec.Verdict, rec.Reason, tt.wantVerdict)
			}
			tr := treeOf(t, exp.GetSpans())
			if got := tr.names(); !slices.Equal(got, tt.wantSpans) {
				t.Errorf("child spans %v, want %v", got, tt.wantSpans)
			}
			root := attrs(tr.root.Attributes)
			if root[AttrExperiment].AsString() != "abort" || root[AttrRunID].AsString() != rec.RunID ||
				root[AttrVerdict].AsString() != string(tt.wantVerdict) || root[AttrAction].AsString() != "http-abort" {
				t.Errorf("root attributes %v, want experiment abort, run %s, action http-abort, verdict %s", root, rec.RunID, tt.wantVerdict)
			}
			if tt.wantVerdict != guard.Skipped && !slices.Equal(root[AttrTargets].AsStringSlice(), []string{"virtualservice/go-demo-8/go-demo-8"}) {
				t.Errorf("root targets %v, want [virtualservice/go-demo-8/go-demo-8]", root[AttrTargets].AsStringSlice())
			}
			if tr.root.Status.Code != tt.wantStatus {
				t.Errorf("root status %v, want %v", tr.root.Status, tt.wantStatus)
			}
			if !tr.root.StartTime.Equal(rec.StartedAt) || !tr.root.EndTime.Equal(rec.FinishedAt) {
				t.Errorf("root span %s..%s, want the run's %s..%s on the injected clock", tr.root.StartTime, tr.root.EndTime, rec.StartedAt, rec.FinishedAt)
			}
			traceID := tr.root.SpanContext.TraceID().String()
			if rec.TraceID != traceID || len(f.journal.writes) == 0 || f.journal.writes[len(f.journal.writes)-1].TraceID != traceID {
				t.Errorf("journal trace id %q, want %q", rec.TraceID, traceID)
			}
			lines := logs.All()
			for _, want := range []string{"run started", "run finished"} {
				if !slices.ContainsFunc(lines, func(e observer.LoggedEntry) bool {
					return e.Message == want && e.ContextMap()["trace_id"] == traceID
				}) {
					t.Errorf("no %q log line with trace_id %s", want, traceID)
				}
			}
		})
	}
}

// TestRunTraceHalt: the hold is cut short, and the halt span runs from the
// guard's decision to the revert, with the reason and the blocking alert.
func TestRunTraceHalt(t *testing.T) {
	f := newFixture(t)
	f.guard.okPolls = 2
	exp, _ := traced(f, sdktrace.AlwaysSample())
	rec := f.run(t, context.Background())
	tr := treeOf(t, exp.GetSpans())
	hold, halt, revert := tr.child(t, "hold"), tr.child(t, "halt"), tr.child(t, "revert")
	if !attrs(hold.Attributes)[AttrCutShort].AsBool() || hold.EndTime.Sub(hold.StartTime) >= f.cfg.Experiments[0].Duration {
		t.Errorf("hold %s long, cut short %v; want it cut short before %s", hold.EndTime.Sub(hold.StartTime),
			attrs(hold.Attributes)[AttrCutShort], f.cfg.Experiments[0].Duration)
	}
	a := attrs(halt.Attributes)
	if a[AttrHaltReason].AsString() != string(guard.HaltWeakness) || a[AttrGuardState].AsString() != string(guard.StateBlocked) {
		t.Errorf("halt attributes %v, want reason weakness and guard blocked", a)
	}
	if halt.StartTime.After(revert.StartTime) || halt.EndTime.Before(revert.StartTime) || halt.EndTime.After(revert.EndTime) {
		t.Errorf("halt %s..%s, revert %s..%s: the halt must start first and end with the revert", halt.StartTime, halt.EndTime, revert.StartTime, revert.EndTime)
	}
	if tr.root.Status.Code != codes.Unset || rec.Verdict != guard.Weakness {
		t.Errorf("root status %v for verdict %s: a weakness is a finding, not a failure of the run", tr.root.Status, rec.Verdict)
	}
}

// TestRunTraceRecordsErrors: an error is recorded on the span of the phase
// that met it, as an exception event naming the target, and fails that
// span; the run's span fails with an error verdict.
func TestRunTraceRecordsErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*fixture)
		span  string
		err   string
	}{
		{name: "revert", setup: func(f *fixture) { f.engine.revertErr = errors.New("conflict storm") }, span: "revert", err: "conflict storm"},
		{name: "inject", setup: func(f *fixture) { f.engine.injectErr = errors.New("admission webhook denied") }, span: "inject", err: "admission webhook denied"},
		{name: "pick", setup: func(f *fixture) { f.picker.err = errors.New("apiserver down") }, span: "pick", err: "apiserver down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(f)
			exp, _ := traced(f, sdktrace.AlwaysSample())
			rec := f.run(t, context.Background())
			tr := treeOf(t, exp.GetSpans())
			s := tr.child(t, tt.span)
			if s.Status.Code != codes.Error || s.Status.Description != tt.err {
				t.Errorf("%s span status %+v, want Error %q", tt.span, s.Status, tt.err)
			}
			i := slices.IndexFunc(s.Events, func(e sdktrace.Event) bool { return e.Name == "exception" })
			if i < 0 {
				t.Fatalf("%s span events %+v, want an exception", tt.span, s.Events)
			}
			ev := attrs(s.Events[i].Attributes)
			if ev["exception.message"].AsString() != tt.err || ev[AttrPhase].AsString() != tt.span {
				t.Errorf("exception attributes %v, want message %q in phase %s", ev, tt.err, tt.span)
			}
			if tt.span != "pick" && ev[AttrTarget].AsString() != vs.String() {
				t.Errorf("exception target %q, want %s", ev[AttrTarget].AsString(), vs)
			}
			if tr.root.Status.Code != codes.Error || rec.Verdict != guard.Error {
				t.Errorf("root status %+v with verdict %s, want Error", tr.root.Status, rec.Verdict)
			}
		})
	}
}

// TestRunTraceHoldUsesInjectedClock: span times come from the runner's
// clock, as the journal's do, so the hold lasts the experiment's duration.
func TestRunTraceHoldUsesInjectedClock(t *testing.T) {
	f := newFixture(t)
	exp, _ := traced(f, sdktrace.AlwaysSample())
	f.run(t, context.Background())
	hold := treeOf(t, exp.GetSpans()).child(t, "hold")
	if d := hold.EndTime.Sub(hold.StartTime); d < 30*time.Second || d > time.Minute {
		t.Errorf("hold span lasted %s, want the experiment's 30s on the fake clock", d)
	}
}

// TestRunNotTracedHasNoTraceID: without a tracer, or with a run the sampler
// leaves out, nothing points at a trace that does not exist.
func TestRunNotTracedHasNoTraceID(t *testing.T) {
	tests := []struct {
		name  string
		trace func(f *fixture) *tracetest.InMemoryExporter
	}{
		{name: "no tracer", trace: func(f *fixture) *tracetest.InMemoryExporter {
			core, _ := observer.New(zap.InfoLevel)
			f.logger = zap.New(core)
			return nil
		}},
		{name: "not sampled", trace: func(f *fixture) *tracetest.InMemoryExporter {
			exp, _ := traced(f, sdktrace.NeverSample())
			return exp
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			exp := tt.trace(f)
			rec := f.run(t, context.Background())
			if rec.Verdict != guard.Passed || rec.TraceID != "" {
				t.Errorf("verdict %s, trace id %q; want passed and no trace id", rec.Verdict, rec.TraceID)
			}
			if exp != nil && len(exp.GetSpans()) != 0 {
				t.Errorf("%d spans exported for an unsampled run", len(exp.GetSpans()))
			}
			if last := f.journal.writes[len(f.journal.writes)-1]; last.TraceID != "" {
				t.Errorf("journal trace id %q, want none", last.TraceID)
			}
		})
	}
}
