package traffic

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestLoadValidate(t *testing.T) {
	ok := Load{Rate: 100, Requests: 1000, Duration: time.Minute, Timeout: time.Second, InFlight: 10}
	tests := []struct {
		name string
		edit func(*Load)
		want []string
	}{
		{name: "valid", edit: func(*Load) {}},
		{name: "unbounded everything", edit: func(l *Load) { *l = Load{} }, want: []string{"rate 0", "requests 0", "duration 0s", "timeout 0s", "inFlight 0"}},
		{name: "rate above the cap", edit: func(l *Load) { l.Rate = MaxRate + 1 }, want: []string{"rate 2001"}},
		{name: "too many requests", edit: func(l *Load) { l.Requests = MaxRequests + 1 }, want: []string{"requests 1000001"}},
		{name: "too long", edit: func(l *Load) { l.Duration = MaxDuration + time.Second }, want: []string{"duration 30m1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ok
			tt.edit(&l)
			err := l.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}

// fakeCaller answers at once, stamping calls with the fake clock.
type fakeCaller struct {
	clock *clocktesting.FakeClock
	calls atomic.Int32
}

func (f *fakeCaller) Call(context.Context, time.Duration) Outcome {
	n := f.calls.Add(1)
	code := codes.OK
	if n%2 == 0 {
		code = codes.Unavailable
	}
	return Outcome{Start: f.clock.Now(), Code: code}
}

// runStepped runs load on a fake clock, stepping it by one interval after
// each recorded outcome (the positive signal that the load is waiting for
// its next tick), and returns what was recorded.
func runStepped(t *testing.T, load Load) Outcomes {
	t.Helper()
	fc := clocktesting.NewFakeClock(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	caller := &fakeCaller{clock: fc}
	rec := NewRecorder()
	done := make(chan error, 1)
	changed := rec.Changed()
	go func() { done <- load.Run(context.Background(), fc, caller, rec) }()
	interval := time.Duration(float64(time.Second) / load.Rate)
	for steps := 0; ; steps++ {
		if steps > 10*load.Requests+100 {
			t.Fatalf("load still running after %d ticks", steps)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return rec.Outcomes()
		case <-changed:
			changed = rec.Changed()
			fc.Step(interval)
		}
	}
}

func TestLoadRunStopsAtItsBounds(t *testing.T) {
	t.Run("request count", func(t *testing.T) {
		got := runStepped(t, Load{Rate: 10, Requests: 5, Duration: 10 * time.Minute, Timeout: time.Second, InFlight: 1})
		if len(got) != 5 {
			t.Fatalf("recorded %d outcomes, want 5", len(got))
		}
		if c := got.Codes(); c[codes.OK] != 3 || c[codes.Unavailable] != 2 {
			t.Errorf("codes %v, want 3 OK and 2 Unavailable", c)
		}
	})
	t.Run("duration", func(t *testing.T) {
		// 10/s for 1s: the deadline and the tenth tick fire together, so
		// one more request may slip in, never more.
		got := runStepped(t, Load{Rate: 10, Requests: 1000, Duration: time.Second, Timeout: time.Second, InFlight: 1})
		if len(got) < 10 || len(got) > 11 {
			t.Fatalf("recorded %d outcomes in 1s at 10/s, want 10 or 11", len(got))
		}
	})
	t.Run("invalid load sends nothing", func(t *testing.T) {
		fc := clocktesting.NewFakeClock(time.Now())
		caller := &fakeCaller{clock: fc}
		if err := (Load{Rate: 10}).Run(context.Background(), fc, caller, NewRecorder()); err == nil {
			t.Fatal("Run with an unbounded load succeeded")
		}
		if n := caller.calls.Load(); n != 0 {
			t.Errorf("an invalid load made %d calls", n)
		}
	})
}

func TestOutcomesWindows(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(s int, code codes.Code) Outcome {
		return Outcome{Start: t0.Add(time.Duration(s) * time.Second), Code: code}
	}
	outs := Outcomes{at(1, codes.OK), at(2, codes.Unavailable), at(3, codes.OK), at(4, codes.Unavailable), at(5, codes.OK)}

	if got := outs.StartedIn(t0.Add(2*time.Second), t0.Add(4*time.Second)); len(got) != 2 || got[0].Start != t0.Add(3*time.Second) {
		t.Errorf("StartedIn(2s, 4s] = %v, want the outcomes at 3s and 4s", got)
	}
	if got := outs.StartedIn(t0.Add(3*time.Second), time.Time{}); len(got) != 2 {
		t.Errorf("StartedIn(3s, ∞) = %v, want 2 outcomes", got)
	}
	if first, ok := outs.First(Failed); !ok || first.Start != t0.Add(2*time.Second) {
		t.Errorf("First(Failed) = %v, %v; want the one at 2s", first, ok)
	}
	if last, ok := outs.Last(Failed); !ok || last.Start != t0.Add(4*time.Second) {
		t.Errorf("Last(Failed) = %v, %v; want the one at 4s", last, ok)
	}
	if _, ok := outs[:1].First(Failed); ok {
		t.Error("First(Failed) found a failure among OK outcomes")
	}
	if n := len(outs.Where(Failed)); n != 2 {
		t.Errorf("Where(Failed) = %d outcomes, want 2", n)
	}
}

func TestRecorderOrdersByStart(t *testing.T) {
	t0 := time.Now()
	rec := NewRecorder()
	changed := rec.Changed()
	rec.add(Outcome{Start: t0.Add(2 * time.Second)})
	select {
	case <-changed:
	default:
		t.Fatal("Changed() not closed by a recorded outcome")
	}
	rec.add(Outcome{Start: t0.Add(time.Second)})
	got := rec.Outcomes()
	if len(got) != 2 || !got[0].Start.Before(got[1].Start) {
		t.Errorf("Outcomes() = %v, want two, ordered by start", got)
	}
}

type callerFunc func(ctx context.Context, timeout time.Duration) Outcome

func (f callerFunc) Call(ctx context.Context, timeout time.Duration) Outcome { return f(ctx, timeout) }

// Stopping a load must not turn the requests under way into failures: a
// delayed request that is cut short would count as neither delayed nor OK.
func TestLoadRunLetsRequestsUnderWayFinish(t *testing.T) {
	fc := clocktesting.NewFakeClock(time.Now())
	started, release := make(chan struct{}), make(chan struct{})
	caller := callerFunc(func(ctx context.Context, _ time.Duration) Outcome {
		close(started)
		<-release
		if ctx.Err() != nil {
			return Outcome{Code: codes.Canceled}
		}
		return Outcome{Code: codes.OK}
	})
	ctx, cancel := context.WithCancel(context.Background())
	rec := NewRecorder()
	done := make(chan error, 1)
	go func() {
		done <- Load{Rate: 10, Requests: 5, Duration: time.Minute, Timeout: time.Second, InFlight: 5}.Run(ctx, fc, caller, rec)
	}()
	<-started
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.Outcomes(); len(got) != 1 || got[0].Code != codes.OK {
		t.Fatalf("outcomes %+v, want the one request under way to finish OK", got)
	}
}
