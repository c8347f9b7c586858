package scheduler

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Slots admits runs: an experiment never overlaps itself, and at most
// limit runs (maxConcurrentRuns) are active at once. It is safe for
// concurrent use.
type Slots struct {
	mu      sync.Mutex
	limit   int
	running map[string]bool
}

// NewSlots returns Slots admitting at most limit concurrent runs.
func NewSlots(limit int) *Slots {
	s := &Slots{running: map[string]bool{}}
	s.SetLimit(limit)
	return s
}

// SetLimit changes the limit, e.g. on config reload; values below 1 mean 1.
// Lowering it stops no active run: new runs wait until enough have ended.
func (s *Slots) SetLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = max(n, 1)
}

// TryAcquire reserves a slot for a run of experiment. When it cannot, ok is
// false and reason is "already running" or "maxConcurrentRuns (N) reached".
// release frees the slot; calling it more than once is harmless.
func (s *Slots) TryAcquire(experiment string) (release func(), reason string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[experiment] {
		return nil, "already running", false
	}
	if len(s.running) >= s.limit {
		return nil, fmt.Sprintf("maxConcurrentRuns (%d) reached", s.limit), false
	}
	s.running[experiment] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.running, experiment)
		})
	}, "", true
}

// Running returns the experiments holding a slot, sorted.
func (s *Slots) Running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.running))
}
