package notify

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func testRecord(v journal.Verdict) journal.Record {
	val := 0.42
	return journal.Record{
		SchemaVersion: 1, RunID: "run-42", Experiment: "checkout-abort",
		Action: config.ActionHTTPAbort, TargetKind: config.TargetVirtualService,
		StartedAt: t0, FinishedAt: t0.Add(90 * time.Second),
		Verdict: v, Reason: "alert CheckoutErrorRate fired during the hold",
		Evidence: []journal.Evidence{
			{Source: journal.SourceAlertmanager, Name: "CheckoutErrorRate", Labels: map[string]string{"severity": "critical"}, At: t0.Add(40 * time.Second)},
			{Source: journal.SourcePrometheus, Name: "error-ratio", Value: &val, Bound: "<= 0.05", At: t0.Add(41 * time.Second)},
		},
		Selection: journal.Selection{Considered: 2, Eligible: 1, Chosen: []targets.Target{
			{Kind: config.TargetVirtualService, Namespace: "shop", Name: "checkout"},
		}},
	}
}

// recorder is a Notifier that records messages and fails as told.
type recorder struct {
	name string
	mu   sync.Mutex
	msgs []Message
	// fail returns the error for the n-th call (0-based); nil means succeed.
	fail func(n int) error
	// block makes Notify wait for ctx.
	block bool
	calls int
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Notify(ctx context.Context, m Message) error {
	r.mu.Lock()
	n := r.calls
	r.calls++
	r.mu.Unlock()
	if r.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if r.fail != nil {
		if err := r.fail(n); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	return nil
}

func (r *recorder) got() ([]Message, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...), r.calls
}

type env struct {
	d     *Dispatcher
	reg   *prometheus.Registry
	clock *clocktesting.FakeClock
	logs  *observer.ObservedLogs
}

func newEnv(t *testing.T, opts DispatcherOptions) *env {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	e := &env{reg: prometheus.NewPedanticRegistry(), clock: clocktesting.NewFakeClock(t0), logs: logs}
	opts.Logger, opts.Registerer, opts.Clock = zap.New(core), e.reg, e.clock
	d, err := NewDispatcher(opts)
	if err != nil {
		t.Fatalf("NewDispatcher: %v", err)
	}
	e.d = d
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Close(ctx)
	})
	return e
}

// drain closes the dispatcher, stepping the fake clock through every
// backoff wait so retries happen without real sleeping.
func (e *env) drain(t *testing.T) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- e.d.Close(ctx)
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
			return
		case <-time.After(time.Millisecond):
			if e.clock.HasWaiters() {
				e.clock.Step(time.Minute) // longer than any backoff
			}
		}
	}
}

// counter sums the counter series of name whose labels include labels;
// 0 when there is none.
func (e *env) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

var errRetryable = &sendError{msg: "503 from receiver"}

var errPermanent = &sendError{msg: "404 no_service", permanent: true}

// within fails the test instead of hanging if f blocks.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s blocked for more than %s", what, d)
	}
}

// waitFor polls cond (real time) for what the test needs before going on.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
