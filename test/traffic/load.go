package traffic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"k8s.io/utils/clock"
)

// Outcome is what one request did.
type Outcome struct {
	Start   time.Time
	Latency time.Duration
	Code    codes.Code
	Message string
}

// Bounds on every load: nothing here may run unbounded on a shared machine.
const (
	MaxRate     = 2000             // requests per second
	MaxRequests = 1_000_000        // per load
	MaxDuration = 30 * time.Minute // per load
	MaxInFlight = 1000
)

// Load is a bounded open-loop load: Rate requests per second until Requests
// were sent or Duration has passed, whichever comes first.
type Load struct {
	Rate     float64
	Requests int
	Duration time.Duration
	// Timeout is each request's deadline; a delay fault counts against it.
	Timeout time.Duration
	// InFlight caps the requests under way; at the cap the load waits for
	// one to finish, so a long delay slows the load instead of piling up.
	InFlight int
}

// Validate reports every field out of bounds.
func (l Load) Validate() error {
	var errs []error
	if l.Rate <= 0 || l.Rate > MaxRate {
		errs = append(errs, fmt.Errorf("rate %v: must be in (0, %d]", l.Rate, MaxRate))
	}
	if l.Requests <= 0 || l.Requests > MaxRequests {
		errs = append(errs, fmt.Errorf("requests %d: must be in [1, %d]", l.Requests, MaxRequests))
	}
	if l.Duration <= 0 || l.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("duration %s: must be in (0, %s]", l.Duration, MaxDuration))
	}
	if l.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %s: must be positive", l.Timeout))
	}
	if l.InFlight <= 0 || l.InFlight > MaxInFlight {
		errs = append(errs, fmt.Errorf("inFlight %d: must be in [1, %d]", l.InFlight, MaxInFlight))
	}
	return errors.Join(errs...)
}

// Caller makes one request; *Client is one.
type Caller interface {
	Call(ctx context.Context, timeout time.Duration) Outcome
}

// Run sends the load through caller, ticking on clk, records every outcome
// in rec, and returns once every request it sent has finished. Cancelling
// ctx stops sending early; requests under way still finish, each bounded
// by Timeout.
func (l Load) Run(ctx context.Context, clk clock.WithTicker, caller Caller, rec *Recorder) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("invalid load: %w", err)
	}
	interval := time.Duration(float64(time.Second) / l.Rate)
	ticker := clk.NewTicker(interval)
	defer ticker.Stop()
	deadline := clk.After(l.Duration)
	slots := make(chan struct{}, l.InFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for sent := 0; sent < l.Requests; sent++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A request under way finishes on its own deadline when the
			// load stops: a delayed one still counts as delayed.
			rec.add(caller.Call(context.WithoutCancel(ctx), l.Timeout))
			<-slots
		}()
		select {
		case <-ticker.C():
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		}
	}
	return nil
}

// Recorder keeps the outcome of every request of a load, safe for
// concurrent use; tests read windows of it while the load runs.
type Recorder struct {
	mu       sync.Mutex
	outcomes Outcomes
	notify   chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{notify: make(chan struct{})} }

func (r *Recorder) add(o Outcome) {
	r.mu.Lock()
	r.outcomes = append(r.outcomes, o)
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
}

// Outcomes returns what was recorded so far, ordered by start time.
func (r *Recorder) Outcomes() Outcomes {
	r.mu.Lock()
	out := slices.Clone(r.outcomes)
	r.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Outcome) int { return a.Start.Compare(b.Start) })
	return out
}

// Len is the number of outcomes recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.outcomes)
}

// Changed returns a channel closed at the next recorded outcome: a wait on
// the recorder wakes on progress, not on a timer.
func (r *Recorder) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notify
}

// Outcomes is a list of outcomes ordered by start time.
type Outcomes []Outcome

// StartedIn returns the outcomes that started in (from, to]; a zero to
// means no upper bound.
func (outs Outcomes) StartedIn(from, to time.Time) Outcomes {
	var out Outcomes
	for _, o := range outs {
		if o.Start.After(from) && (to.IsZero() || !o.Start.After(to)) {
			out = append(out, o)
		}
	}
	return out
}

// Where returns the outcomes for which keep is true.
func (outs Outcomes) Where(keep func(Outcome) bool) Outcomes {
	var out Outcomes
	for _, o := range outs {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

// First returns the earliest-started outcome for which match is true.
func (outs Outcomes) First(match func(Outcome) bool) (Outcome, bool) {
	for _, o := range outs {
		if match(o) {
			return o, true
		}
	}
	return Outcome{}, false
}

// Last returns the latest-started outcome for which match is true.
func (outs Outcomes) Last(match func(Outcome) bool) (Outcome, bool) {
	for i := len(outs) - 1; i >= 0; i-- {
		if match(outs[i]) {
			return outs[i], true
		}
	}
	return Outcome{}, false
}

// Codes counts the outcomes by gRPC code.
func (outs Outcomes) Codes() map[codes.Code]int {
	out := map[codes.Code]int{}
	for _, o := range outs {
		out[o.Code]++
	}
	return out
}

// Failed reports whether the request failed.
func Failed(o Outcome) bool { return o.Code != codes.OK }
