package experiments

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

var nodesGR = schema.GroupResource{Resource: "nodes"}

func TestEngineEventsMetricsAndLogs(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	ctx := context.Background()
	exp := experiment("cordon-one", config.Action{Type: config.ActionNodeCordon}, time.Minute)
	inj, err := f.engine.Inject(ctx, Run{ID: "r1", Experiment: "cordon-one"}, exp, nodeTarget("n1"))
	if err != nil {
		t.Fatal(err)
	}
	evs := f.drainEvents()
	if len(evs) != 1 || !strings.Contains(evs[0], "Normal "+ReasonInjected) || !strings.Contains(evs[0], "run r1") {
		t.Errorf("events after inject = %q", evs)
	}
	labels := map[string]string{"experiment": "cordon-one", "action": "node-cordon", "result": resultSuccess}
	if got := f.counter(t, "chaosd_injections_total", labels); got != 1 {
		t.Errorf("injections = %v", got)
	}
	if got := f.counter(t, "chaosd_active_injections", nil); got != 1 {
		t.Errorf("active gauge = %v", got)
	}
	logged := f.logs.FilterMessage("injected").All()
	if len(logged) != 1 {
		t.Fatalf("injected log lines = %d", len(logged))
	}
	for _, key := range []string{"experiment", "run", "action", "target", "namespace"} {
		if _, ok := logged[0].ContextMap()[key]; !ok {
			t.Errorf("log line lacks key %q: %v", key, logged[0].ContextMap())
		}
	}

	if err := f.engine.Revert(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.Revert(ctx, inj); err != nil {
		t.Fatalf("second Revert: %v", err)
	}
	evs = f.drainEvents()
	if len(evs) != 1 || !strings.Contains(evs[0], "Normal "+ReasonReverted) {
		t.Errorf("events after revert = %q, want exactly one %s", evs, ReasonReverted)
	}
	labels["result"] = resultSuccess
	if got := f.counter(t, "chaosd_reverts_total", labels); got != 1 {
		t.Errorf("reverts = %v", got)
	}
	if got := f.counter(t, "chaosd_active_injections", nil); got != 0 {
		t.Errorf("active gauge = %v", got)
	}
}

func TestRevertRetriesTransientErrors(t *testing.T) {
	tests := []struct {
		name       string
		failures   int // updates failing with 503 before success
		wantErr    bool
		wantActive int
	}{
		{name: "apiserver briefly unavailable", failures: 2},
		{name: "apiserver down for good", failures: 100, wantErr: true, wantActive: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
			ctx := context.Background()
			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Minute), nodeTarget("n1"))
			if err != nil {
				t.Fatal(err)
			}
			f.drainEvents()
			var calls atomic.Int32
			f.kube.PrependReactor("update", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
				if calls.Add(1) <= int32(tt.failures) {
					return true, nil, apierrors.NewServiceUnavailable("apiserver restarting")
				}
				return false, nil, nil
			})
			stop := driveClock(f.clock, time.Second)
			err = f.engine.Revert(ctx, inj)
			f.engine.Close() // the background retries are another test's
			stop()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Revert = %v, wantErr %v", err, tt.wantErr)
			}
			if got := len(f.engine.Active()); got != tt.wantActive {
				t.Errorf("active = %d, want %d", got, tt.wantActive)
			}
			evs := f.drainEvents()
			if tt.wantErr {
				retried := f.counter(t, "chaosd_revert_retries_total", nil)
				if got := int(calls.Load()) - int(retried); got != 4 { // RevertBackoff.Steps attempts, then give up
					t.Errorf("attempts by Revert = %d, want 4", got)
				}
				if !hasEvent(evs, "Warning "+ReasonRevertFailed) {
					t.Errorf("events = %q, want %s", evs, ReasonRevertFailed)
				}
				if !getNode(t, f, "n1").Spec.Unschedulable || !hasIntentMarks(getNode(t, f, "n1")) {
					t.Error("a failed revert must leave the intent for recovery")
				}
				return
			}
			if getNode(t, f, "n1").Spec.Unschedulable {
				t.Error("node still cordoned")
			}
		})
	}
}

func TestRevertAllAndActive(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false), node("n2", false)}, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
	ctx := context.Background()
	cordon := experiment("cordon", config.Action{Type: config.ActionNodeCordon}, time.Minute)
	for i, tgt := range []targets.Target{nodeTarget("n1"), nodeTarget("n2"), vsTarget("shop", "cart")} {
		exp := cordon
		if tgt.Kind == config.TargetVirtualService {
			exp = experiment("abort", config.Action{Type: config.ActionHTTPAbort, Status: 500}, time.Minute)
		}
		if _, err := f.engine.Inject(ctx, run("r"+string(rune('1'+i))), exp, tgt); err != nil {
			t.Fatal(err)
		}
		f.clock.Step(time.Second)
	}
	active := f.engine.Active()
	if len(active) != 3 || active[0].Target.Name != "n1" || active[2].Target.Name != "cart" {
		t.Fatalf("active = %v, want three, oldest first", active)
	}
	if err := f.engine.RevertAll(ctx); err != nil {
		t.Fatalf("RevertAll: %v", err)
	}
	if len(f.engine.Active()) != 0 {
		t.Error("injections left after RevertAll")
	}
	for _, n := range []string{"n1", "n2"} {
		if getNode(t, f, n).Spec.Unschedulable {
			t.Errorf("node %s still cordoned", n)
		}
	}
	if vs := getVS(t, f, "shop", "cart"); vs.Spec.Http[0].Fault != nil || hasIntentMarks(vs) {
		t.Error("virtualservice not reverted")
	}
}

func TestEngineRejects(t *testing.T) {
	t.Run("missing options", func(t *testing.T) {
		if _, err := NewEngine(Options{}); err == nil {
			t.Error("NewEngine without a client succeeded")
		}
	})
	t.Run("http fault without istio", func(t *testing.T) {
		e, err := NewEngine(Options{Kube: k8sfake.NewClientset(), Namespace: chaosdNS, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Inject(context.Background(), run("r1"), experiment("exp", config.Action{Type: config.ActionHTTPAbort, Status: 500}, time.Minute), vsTarget("shop", "cart"))
		if err == nil || !strings.Contains(err.Error(), "Istio") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown action", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		_, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", config.Action{Type: "melt"}, time.Minute), nodeTarget("n1"))
		if err == nil {
			t.Error("unknown action accepted")
		}
	})
	t.Run("missing target", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		_, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Minute), nodeTarget("ghost"))
		if !apierrors.IsNotFound(err) || errors.Is(err, ErrAlreadyInjected) {
			t.Errorf("err = %v, want NotFound", err)
		}
	})
}

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "unavailable", err: apierrors.NewServiceUnavailable("x"), want: true},
		{name: "throttled", err: apierrors.NewTooManyRequestsError("x"), want: true},
		{name: "wrapped timeout", err: errors.Join(errors.New("revert"), apierrors.NewTimeoutError("x", 1)), want: true},
		{name: "forbidden", err: apierrors.NewForbidden(nodesGR, "n1", errors.New("rbac")), want: false},
		{name: "our context ended", err: context.DeadlineExceeded, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestInitMetricsExportsZeroCounters: success and failed injections and
// reverts exist at 0 before the first one, so increase() (dashboard
// annotations, ChaosdRevertFailed) sees the first.
func TestInitMetricsExportsZeroCounters(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.engine.InitMetrics([]config.Experiment{experiment("abort", config.Action{Type: config.ActionHTTPAbort}, time.Minute)})
	for name, c := range map[string]*prometheus.CounterVec{
		"chaosd_injections_total": f.engine.metrics.injections, "chaosd_reverts_total": f.engine.metrics.reverts,
		"chaosd_revert_retries_total": f.engine.metrics.retries,
	} {
		if n := testutil.CollectAndCount(c, name); n != 2 {
			t.Errorf("%d %s series, want success and failed", n, name)
		}
		for _, result := range []string{resultSuccess, resultFailed} {
			if got := testutil.ToFloat64(c.WithLabelValues("abort", "http-abort", result)); got != 0 {
				t.Errorf("%s{result=%s} = %v, want 0", name, result, got)
			}
		}
	}
}

// TestFailedRevertIsRetriedUntilItSucceeds: the API server is unavailable
// for 30 s exactly while a halted run reverts, longer than the caller's
// bounded revert; the fault is gone within 5 s of the API server's return.
func TestFailedRevertIsRetriedUntilItSucceeds(t *testing.T) {
	const outage = 30 * time.Second
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	f.engine.revertBackoff = DefaultRevertBackoff
	ctx := context.Background()
	inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Hour), nodeTarget("n1"))
	if err != nil {
		t.Fatal(err)
	}
	back := f.clock.Now().Add(outage)
	reverted := make(chan time.Time, 1)
	f.kube.PrependReactor("update", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		now := f.clock.Now()
		if now.Before(back) {
			return true, nil, apierrors.NewServiceUnavailable("apiserver down")
		}
		select {
		case reverted <- now:
		default:
		}
		return false, nil, nil
	})
	stop := driveClock(f.clock, 100*time.Millisecond)
	defer stop()
	if err := f.engine.Revert(ctx, inj); err == nil {
		t.Fatal("Revert succeeded during the outage; the test needs it to give up")
	}
	select {
	case at := <-reverted:
		late := at.Sub(back)
		t.Logf("fault gone %v after the API server came back", late)
		if late > 5*time.Second {
			t.Errorf("fault gone %v after the API server came back, want within 5s", late)
		}
	case <-time.After(10 * time.Second): // real time: a guard, not a pace
		t.Fatalf("fault still held at %v, %v after the API server came back: the failed revert was never retried",
			f.clock.Now().Format(time.TimeOnly), f.clock.Now().Sub(back))
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.engine.WaitReverted(wctx); err != nil {
		t.Fatal(err)
	}
	if n := getNode(t, f, "n1"); n.Spec.Unschedulable || hasIntentMarks(n) {
		t.Error("node still cordoned")
	}
	if got := f.counter(t, "chaosd_revert_retries_total", map[string]string{"result": resultSuccess}); got != 1 {
		t.Errorf("successful retries = %v, want 1", got)
	}
	if got := f.counter(t, "chaosd_reverts_total", map[string]string{"result": resultSuccess}); got != 1 {
		t.Errorf("successful reverts = %v, want 1", got)
	}
	if got := f.counter(t, "chaosd_reverts_pending", nil); got != 0 {
		t.Errorf("pending reverts = %v, want 0", got)
	}
	retried := f.logs.FilterMessage("revert retry failed").All()
	if len(retried) == 0 {
		t.Fatal("no retry logged")
	}
	for _, key := range []string{"experiment", "run", "action", "target", "namespace", "attempt"} {
		if _, ok := retried[0].ContextMap()[key]; !ok {
			t.Errorf("retry log line lacks key %q: %v", key, retried[0].ContextMap())
		}
	}
}

func TestRevertAllIncludesRevertsPendingRetry(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	ctx := context.Background()
	inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Hour), nodeTarget("n1"))
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	f.kube.PrependReactor("update", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		if down.Load() {
			return true, nil, apierrors.NewServiceUnavailable("apiserver down")
		}
		return false, nil, nil
	})
	stop := driveClock(f.clock, time.Second)
	err = f.engine.Revert(ctx, inj)
	stop() // the retrier now waits on the clock, which nobody steps
	if err == nil {
		t.Fatal("Revert succeeded during the outage")
	}
	if got := f.counter(t, "chaosd_reverts_pending", nil); got != 1 {
		t.Errorf("pending reverts = %v, want 1", got)
	}
	down.Store(false)
	if err := f.engine.RevertAll(ctx); err != nil {
		t.Fatalf("RevertAll: %v", err)
	}
	if len(f.engine.Active()) != 0 || getNode(t, f, "n1").Spec.Unschedulable {
		t.Error("RevertAll left the fault pending retry")
	}
	f.engine.Close() // the retrier finds it reverted and ends
	if got := f.counter(t, "chaosd_reverts_pending", nil); got != 0 {
		t.Errorf("pending reverts = %v after Close, want 0", got)
	}
}

func TestWaitRevertedNamesWhatIsHeld(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	ctx := context.Background()
	if _, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Hour), nodeTarget("n1")); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	err := f.engine.WaitReverted(wctx)
	if err == nil || !strings.Contains(err.Error(), "node-cordon of run r1 on node/n1") || !errors.Is(err, context.Canceled) {
		t.Errorf("WaitReverted = %v, want it to name the held cordon", err)
	}
}
