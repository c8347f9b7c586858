package guard

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

func TestPauseState(t *testing.T) {
	type check struct {
		at     time.Duration // after t0
		paused bool
		reason string
		until  time.Duration // after t0; -1 for zero (manual)
	}
	tests := []struct {
		name   string
		do     func(p *PauseState, clk *clocktesting.FakeClock)
		checks []check
	}{
		{
			name:   "not paused by default",
			do:     func(*PauseState, *clocktesting.FakeClock) {},
			checks: []check{{at: 0, paused: false}},
		},
		{
			name: "timed pause ends by itself",
			do:   func(p *PauseState, _ *clocktesting.FakeClock) { p.PauseFor("weakness", 10*time.Minute) },
			checks: []check{
				{at: 0, paused: true, reason: "weakness", until: 10 * time.Minute},
				{at: 10*time.Minute - time.Nanosecond, paused: true, reason: "weakness", until: 10 * time.Minute},
				{at: 10 * time.Minute, paused: false},
			},
		},
		{
			name: "a shorter pause does not shorten a longer one",
			do: func(p *PauseState, _ *clocktesting.FakeClock) {
				p.PauseFor("long", 10*time.Minute)
				p.PauseFor("short", time.Minute)
			},
			checks: []check{{at: 5 * time.Minute, paused: true, reason: "long", until: 10 * time.Minute}},
		},
		{
			name: "a later pause extends",
			do: func(p *PauseState, clk *clocktesting.FakeClock) {
				p.PauseFor("first", time.Minute)
				clk.Step(time.Minute / 2)
				p.PauseFor("second", time.Minute)
			},
			checks: []check{{at: time.Minute, paused: true, reason: "second", until: 90 * time.Second}},
		},
		{
			name: "manual lasts until resume and is never shortened",
			do: func(p *PauseState, _ *clocktesting.FakeClock) {
				p.PauseManual("guard unknown")
				p.PauseFor("cooldown", time.Minute)
			},
			checks: []check{{at: 24 * time.Hour, paused: true, reason: "guard unknown", until: -1}},
		},
		{
			name: "resume ends any pause",
			do: func(p *PauseState, _ *clocktesting.FakeClock) {
				p.PauseManual("x")
				p.Resume()
			},
			checks: []check{{at: 0, paused: false}},
		},
		{
			name: "cooldown duration",
			do: func(p *PauseState, _ *clocktesting.FakeClock) {
				p.PauseAfterWeakness(config.Cooldown{Duration: time.Hour}, "weakness")
			},
			checks: []check{{at: 59 * time.Minute, paused: true, reason: "weakness", until: time.Hour}, {at: time.Hour, paused: false}},
		},
		{
			name: "cooldown manual",
			do: func(p *PauseState, _ *clocktesting.FakeClock) {
				p.PauseAfterWeakness(config.Cooldown{Manual: true}, "weakness")
			},
			checks: []check{{at: 1000 * time.Hour, paused: true, reason: "weakness", until: -1}},
		},
		{
			name:   "zero cooldown does not pause",
			do:     func(p *PauseState, _ *clocktesting.FakeClock) { p.PauseAfterWeakness(config.Cooldown{}, "weakness") },
			checks: []check{{at: 0, paused: false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(t0)
			p := NewPauseState(clk)
			tt.do(p, clk)
			for _, c := range tt.checks {
				paused, reason, until := p.Paused(t0.Add(c.at))
				wantUntil := time.Time{}
				if c.paused && c.until >= 0 {
					wantUntil = t0.Add(c.until)
				}
				if paused != c.paused || reason != c.reason || !until.Equal(wantUntil) {
					t.Errorf("at +%s: Paused = (%v, %q, %s), want (%v, %q, %s)", c.at, paused, reason, until, c.paused, c.reason, wantUntil)
				}
			}
		})
	}
}

// TestPauseStateConcurrent proves PauseState is safe for concurrent use.
// Under -race (make unit runs it so) an unguarded field fails the test; with
// or without it, every reader must see one of the states the writers leave
// whole: not paused, paused for "a" until t0+1m, or paused for "b" manually.
// A reason paired with the other pause's end is a torn update.
func TestPauseStateConcurrent(t *testing.T) {
	p := NewPauseState(clocktesting.NewFakeClock(t0))
	type state struct {
		paused bool
		reason string
		until  time.Time
	}
	valid := func(s state) bool {
		switch {
		case !s.paused:
			return s.reason == "" && s.until.IsZero()
		case s.reason == "a":
			return s.until.Equal(t0.Add(time.Minute))
		case s.reason == "b":
			return s.until.IsZero()
		}
		return false
	}
	var wg sync.WaitGroup
	var reads atomic.Int64
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				switch i % 4 {
				case 0:
					p.PauseFor("a", time.Minute)
				case 1:
					p.PauseManual("b")
				case 2:
					p.Resume()
				default:
					paused, reason, until := p.Paused(t0)
					reads.Add(1)
					if s := (state{paused, reason, until}); !valid(s) {
						t.Errorf("Paused = %+v: not a state any writer leaves", s)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := reads.Load(); n != 200 {
		t.Fatalf("%d reads, want 200", n)
	}
}
