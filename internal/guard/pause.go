package guard

import (
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
)

// PauseState is chaosd's self-imposed pause: a cooldown after a weakness, or
// a pause until someone resumes chaosd. It is separate from the operator's
// pause switch in the config and ConfigMap, which the caller checks too.
// Safe for concurrent use. It lives in memory: the daemon records every
// pause it takes on its ConfigMap and restores it when it starts leading,
// so that neither a restart nor a failover ends it.
type PauseState struct {
	clock  clock.PassiveClock
	mu     sync.Mutex
	manual bool
	until  time.Time // timed pause end; zero when not timed
	reason string
}

// NewPauseState returns a PauseState that is not paused. clk may be nil.
func NewPauseState(clk clock.PassiveClock) *PauseState {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &PauseState{clock: clk}
}

// PauseFor pauses for d from now. It never shortens a pause: a manual pause
// stays manual, and a longer timed pause keeps its end (and its reason).
func (p *PauseState) PauseFor(reason string, d time.Duration) {
	if d <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.manual {
		return
	}
	until := p.clock.Now().Add(d)
	if until.After(p.until) {
		p.until, p.reason = until, reason
	}
}

// PauseManual pauses until Resume.
func (p *PauseState) PauseManual(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.manual, p.until, p.reason = true, time.Time{}, reason
}

// PauseAfterWeakness applies the configured cooldown: "manual" pauses until
// Resume, a positive duration pauses for it, zero does not pause.
func (p *PauseState) PauseAfterWeakness(c config.Cooldown, reason string) {
	if c.Manual {
		p.PauseManual(reason)
		return
	}
	p.PauseFor(reason, c.Duration)
}

// Resume ends any pause.
func (p *PauseState) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.manual, p.until, p.reason = false, time.Time{}, ""
}

// Paused reports whether chaosd is paused at now, why, and until when (zero
// for a manual pause, which lasts until Resume).
func (p *PauseState) Paused(now time.Time) (paused bool, reason string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.manual:
		return true, p.reason, time.Time{}
	case now.Before(p.until):
		return true, p.reason, p.until
	}
	return false, "", time.Time{}
}
