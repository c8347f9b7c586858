package guard

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// scriptedPoller answers Poll with states from a script (the last one
// repeating) and reports each call on calls, so a test can step the fake
// clock between polls.
type scriptedPoller struct {
	mu     sync.Mutex
	script []State
	n      int
	calls  chan int
}

func newScriptedPoller(script ...State) *scriptedPoller {
	return &scriptedPoller{script: script, calls: make(chan int)}
}

func (p *scriptedPoller) Poll(ctx context.Context) Evaluation {
	p.mu.Lock()
	i := p.n
	p.n++
	st := p.script[min(i, len(p.script)-1)]
	p.mu.Unlock()
	select {
	case p.calls <- i:
	case <-ctx.Done():
	}
	ev := Evaluation{Mode: ModePoll, State: st}
	if st == StateBlocked {
		ev.Alerts = []AlertEvidence{{Name: "HighErrorRate", Fingerprint: "fp1"}}
	}
	return ev
}

func TestWatcher(t *testing.T) {
	const interval = time.Second
	type result struct {
		halt Halt
		ok   bool
	}
	tests := []struct {
		name      string
		script    []State
		onUnknown config.UnknownPolicy
		polls     int // polls to drive (clock stepped between them)
		wantHalt  bool
		wantAfter int // index of the poll that halts
		want      Halt
	}{
		{
			name: "halts on the first blocked", script: []State{StateOK, StateOK, StateBlocked},
			polls: 3, wantHalt: true, wantAfter: 2,
			want: Halt{Reason: HaltWeakness},
		},
		{
			name: "blocked right away", script: []State{StateBlocked},
			polls: 1, wantHalt: true, wantAfter: 0,
			want: Halt{Reason: HaltWeakness},
		},
		{
			name: "unknown for unknownAfter reverts", script: []State{StateOK, StateUnknown},
			onUnknown: config.UnknownRevert, polls: 5, wantHalt: true, wantAfter: 4,
			want: Halt{Reason: HaltUnknown, UnknownSince: t0.Add(interval)},
		},
		{
			name: "unknown for unknownAfter pauses", script: []State{StateUnknown},
			onUnknown: config.UnknownPause, polls: 4, wantHalt: true, wantAfter: 3,
			want: Halt{Reason: HaltUnknown, Pause: true, UnknownSince: t0},
		},
		{
			name: "unknown is ignored when told so", script: []State{StateUnknown},
			onUnknown: config.UnknownIgnore, polls: 8, wantHalt: false,
		},
		{
			name: "an ok poll ends the unknown streak", script: []State{StateUnknown, StateUnknown, StateUnknown, StateOK, StateUnknown, StateUnknown, StateUnknown},
			onUnknown: config.UnknownRevert, polls: 7, wantHalt: false,
		},
		{
			name: "ignore still halts on blocked", script: []State{StateUnknown, StateUnknown, StateUnknown, StateUnknown, StateUnknown, StateBlocked},
			onUnknown: config.UnknownIgnore, polls: 6, wantHalt: true, wantAfter: 5,
			want: Halt{Reason: HaltWeakness},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(t0)
			p := newScriptedPoller(tt.script...)
			cfg := guardConfig(nil, nil)
			cfg.PollInterval, cfg.UnknownAfter, cfg.OnUnknown = interval, 3*interval, tt.onUnknown
			var seen []State
			w := NewWatcher(p, cfg, WatcherOptions{Clock: clk, OnEvaluation: func(e Evaluation) { seen = append(seen, e.State) }})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan result, 1)
			go func() {
				h, ok := w.Run(ctx)
				done <- result{h, ok}
			}()

			for i := range tt.polls {
				if got := <-p.calls; got != i {
					t.Fatalf("poll %d arrived as %d", i, got)
				}
				if tt.wantHalt && i == tt.wantAfter {
					break
				}
				clk.Step(interval)
			}
			if !tt.wantHalt {
				cancel()
			}
			r := <-done

			if r.ok != tt.wantHalt {
				t.Fatalf("halted = %v, want %v (%+v)", r.ok, tt.wantHalt, r.halt)
			}
			if !tt.wantHalt {
				return
			}
			h := r.halt
			wantAt := t0.Add(time.Duration(tt.wantAfter) * interval)
			if h.Reason != tt.want.Reason || h.Pause != tt.want.Pause || !h.UnknownSince.Equal(tt.want.UnknownSince) || !h.At.Equal(wantAt) {
				t.Errorf("halt = {%s pause=%v since=%s at=%s}, want {%s pause=%v since=%s at=%s}",
					h.Reason, h.Pause, h.UnknownSince, h.At, tt.want.Reason, tt.want.Pause, tt.want.UnknownSince, wantAt)
			}
			if h.Reason == HaltWeakness && (len(h.Evaluation.Alerts) != 1 || h.Message == "") {
				t.Errorf("weakness halt without evidence: %+v", h)
			}
			if len(seen) != tt.wantAfter+1 {
				t.Errorf("OnEvaluation saw %d evaluations, want %d", len(seen), tt.wantAfter+1)
			}
		})
	}
}

func TestWatcherNudge(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := newScriptedPoller(StateOK, StateBlocked)
	nudger := NewNudger()
	w := NewWatcher(p, guardConfig(nil, nil), WatcherOptions{Clock: clk, Nudges: nudger})

	halts := w.Start(context.Background())
	<-p.calls // the immediate first poll
	nudger.Nudge()
	<-p.calls // re-evaluated without any tick

	h, ok := <-halts
	if !ok || h.Reason != HaltWeakness || !h.At.Equal(t0) {
		t.Errorf("halt = %+v (%v), want a weakness at %s", h, ok, t0)
	}
	if _, open := <-halts; open {
		t.Error("channel not closed after the halt")
	}
	t.Run("unsubscribes when done", func(t *testing.T) {
		nudger.mu.Lock()
		defer nudger.mu.Unlock()
		if len(nudger.subs) != 0 {
			t.Errorf("%d subscriptions left", len(nudger.subs))
		}
	})
}

func TestWatcherStopsOnCancel(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	p := newScriptedPoller(StateOK)
	w := NewWatcher(p, guardConfig(nil, nil), WatcherOptions{Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())

	halts := w.Start(ctx)
	<-p.calls
	cancel()
	if h, ok := <-halts; ok {
		t.Errorf("got halt %+v after cancel, want the channel closed", h)
	}
}

func TestWatcherIgnoreLogsOncePerStreak(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	clk := clocktesting.NewFakeClock(t0)
	p := newScriptedPoller(StateUnknown)
	cfg := guardConfig(nil, nil)
	cfg.OnUnknown = config.UnknownIgnore
	w := NewWatcher(p, cfg, WatcherOptions{Clock: clk, Logger: zap.New(core)})
	ctx, cancel := context.WithCancel(context.Background())
	halts := w.Start(ctx)

	for range 6 {
		<-p.calls
		clk.Step(cfg.PollInterval)
	}
	cancel()
	<-halts

	if n := logs.FilterMessage("guard unknown").Len(); n != 1 {
		t.Errorf("%d 'guard unknown' warnings, want 1", n)
	}
	if n := logs.FilterMessageSnippet("continuing as onUnknown is ignore").Len(); n != 1 {
		t.Errorf("%d ignore warnings, want 1", n)
	}
}
