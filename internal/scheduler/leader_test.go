package scheduler

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"k8s.io/client-go/tools/leaderelection"
)

// These tests drive the ordering runAsLeader adds around client-go's
// elector with a fake elector, in no real time. Election itself (one leader
// at a time, takeover after a SIGKILL, a stolen Lease) runs against a real
// API server in test/e2e TestSchedulerLeaderElection.

// hangGuard bounds every wait here; each ends on a signal long before it.
const hangGuard = 30 * time.Second

// fakeElector plays client-go's LeaderElector.Run with ReleaseOnCancel: it
// acquires once grant is closed, runs OnStartedLeading in its own goroutine
// with a context that ends with ctx or on lose, and releases the lease (closes
// released) when ctx ends. A renew is one tick of client-go's renew loop: it
// answers whether the lease is still held.
type fakeElector struct {
	grant    chan struct{}
	lose     chan struct{}
	renew    chan chan bool
	released chan struct{}
}

func newFakeElector() *fakeElector {
	return &fakeElector{grant: make(chan struct{}), lose: make(chan struct{}), renew: make(chan chan bool), released: make(chan struct{})}
}

func (f *fakeElector) run(ctx context.Context, cb leaderelection.LeaderCallbacks) error {
	defer cb.OnStoppedLeading()
	select {
	case <-f.grant:
	case <-ctx.Done():
		return nil
	}
	leaderCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go cb.OnStartedLeading(leaderCtx)
	for {
		select {
		case held := <-f.renew:
			if ctx.Err() == nil {
				held <- true
				continue
			}
			close(f.released)
			held <- false
			return nil
		case <-ctx.Done():
			close(f.released)
			return nil
		case <-f.lose:
			return nil
		}
	}
}

func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(hangGuard):
		t.Fatalf("hang guard: no %s within %s", what, hangGuard)
		var zero T
		return zero
	}
}

func TestRunAsLeaderReleasesOnlyAfterLeadReturned(t *testing.T) {
	f := newFakeElector()
	close(f.grant)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leading, reverting, finishRevert := make(chan struct{}), make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- runAsLeader(ctx, zaptest.NewLogger(t), "a", f.run, func(leadCtx context.Context) {
			close(leading)
			<-leadCtx.Done()
			close(reverting)
			<-finishRevert
		})
	}()
	receive(t, leading, "start of leading")

	cancel() // shutdown: lead's context ends first
	receive(t, reverting, "end of lead's context")
	held := make(chan bool)
	select {
	case f.renew <- held:
		if !receive(t, held, "renew answer") {
			t.Fatal("lease released while lead was still reverting")
		}
	case <-f.released:
		t.Fatal("lease released while lead was still reverting")
	case <-time.After(hangGuard):
		t.Fatal("hang guard: the elector neither renewed nor released")
	}

	close(finishRevert)
	if err := receive(t, done, "return of runAsLeader"); err != nil {
		t.Fatalf("runAsLeader returned %v on shutdown, want nil", err)
	}
	receive(t, f.released, "release after lead returned")
}

func TestRunAsLeaderLostLeadership(t *testing.T) {
	f := newFakeElector()
	close(f.grant)
	leading, leadReturned := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- runAsLeader(context.Background(), zaptest.NewLogger(t), "a", f.run, func(leadCtx context.Context) {
			close(leading)
			<-leadCtx.Done()
			close(leadReturned)
		})
	}()
	receive(t, leading, "start of leading")
	close(f.lose)
	receive(t, leadReturned, "end of lead after the lease was lost")
	if err := receive(t, done, "return of runAsLeader"); !errors.Is(err, ErrLostLeadership) {
		t.Fatalf("runAsLeader returned %v, want ErrLostLeadership", err)
	}
}

func TestRunAsLeaderReturnsOnCancelBeforeLeading(t *testing.T) {
	f := newFakeElector() // never grants: another replica holds the lease
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	called := make(chan struct{}, 1)
	go func() {
		done <- runAsLeader(ctx, zaptest.NewLogger(t), "standby", f.run, func(context.Context) { called <- struct{}{} })
	}()
	cancel()
	if err := receive(t, done, "return of runAsLeader"); err != nil {
		t.Fatalf("standby returned %v, want nil", err)
	}
	select {
	case <-called:
		t.Fatal("standby led while another replica held the lease")
	default:
	}
}

func TestRunAsLeaderNeedsIdentity(t *testing.T) {
	if err := RunAsLeader(context.Background(), LeaderOptions{Namespace: "chaosd", LeaseName: "chaosd"}, func(context.Context) {}); err == nil {
		t.Fatal("want an error without an identity")
	}
}
