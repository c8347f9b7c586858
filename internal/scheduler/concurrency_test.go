package scheduler

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestSlots(t *testing.T) {
	type step struct {
		acquire    string // experiment to acquire, or
		release    string // experiment whose slot to release, or
		limit      int    // a new limit
		wantOK     bool
		wantReason string
	}
	tests := []struct {
		name  string
		limit int
		steps []step
	}{
		{"an experiment never overlaps itself", 5, []step{
			{acquire: "a", wantOK: true},
			{acquire: "a", wantReason: "already running"},
			{release: "a"},
			{acquire: "a", wantOK: true},
		}},
		{"global limit", 2, []step{
			{acquire: "a", wantOK: true},
			{acquire: "b", wantOK: true},
			{acquire: "c", wantReason: "maxConcurrentRuns (2) reached"},
			{acquire: "a", wantReason: "already running"},
			{release: "b"},
			{acquire: "c", wantOK: true},
		}},
		{"lowering the limit stops nothing, admits nothing", 3, []step{
			{acquire: "a", wantOK: true},
			{acquire: "b", wantOK: true},
			{limit: 1},
			{acquire: "c", wantReason: "maxConcurrentRuns (1) reached"},
			{release: "a"},
			{acquire: "c", wantReason: "maxConcurrentRuns (1) reached"},
			{release: "b"},
			{acquire: "c", wantOK: true},
		}},
		{"raising the limit admits more", 1, []step{
			{acquire: "a", wantOK: true},
			{acquire: "b", wantReason: "maxConcurrentRuns (1) reached"},
			{limit: 2},
			{acquire: "b", wantOK: true},
		}},
		{"limit below one means one", 0, []step{
			{acquire: "a", wantOK: true},
			{acquire: "b", wantReason: "maxConcurrentRuns (1) reached"},
		}},
		{"release twice is harmless", 2, []step{
			{acquire: "a", wantOK: true},
			{release: "a"},
			{release: "a"},
			{acquire: "b", wantOK: true},
			{acquire: "c", wantOK: true},
			{acquire: "d", wantReason: "maxConcurrentRuns (2) reached"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSlots(tc.limit)
			releases := map[string]func(){}
			for i, st := range tc.steps {
				switch {
				case st.acquire != "":
					release, reason, ok := s.TryAcquire(st.acquire)
					if ok != st.wantOK || reason != st.wantReason {
						t.Fatalf("step %d: TryAcquire(%s) = %v, %q; want %v, %q", i, st.acquire, ok, reason, st.wantOK, st.wantReason)
					}
					if ok {
						releases[st.acquire] = release
					} else if release != nil {
						t.Fatalf("step %d: refused TryAcquire returned a release func", i)
					}
				case st.release != "":
					releases[st.release]()
				default:
					s.SetLimit(st.limit)
				}
			}
		})
	}
}

func TestSlotsRunning(t *testing.T) {
	s := NewSlots(3)
	for _, name := range []string{"c", "a", "b"} {
		if _, _, ok := s.TryAcquire(name); !ok {
			t.Fatalf("TryAcquire(%s) refused", name)
		}
	}
	if got := s.Running(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Running() = %v, want [a b c]", got)
	}
}

// TestSlotsConcurrent hammers Slots from many goroutines (run with -race)
// and checks both invariants while the limit changes under them.
func TestSlotsConcurrent(t *testing.T) {
	const (
		workers     = 16
		iterations  = 2000
		experiments = 6
		maxLimit    = 3
	)
	s := NewSlots(2)
	var active atomic.Int64
	var perExperiment [experiments]atomic.Int64
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range iterations {
				if w == 0 && i%100 == 0 {
					s.SetLimit(1 + i/100%maxLimit) // 1..maxLimit
				}
				e := (w + i) % experiments
				release, reason, ok := s.TryAcquire(fmt.Sprint("exp-", e))
				if !ok {
					if reason == "" {
						t.Error("refusal without a reason")
					}
					refused.Add(1)
					continue
				}
				admitted.Add(1)
				if n := perExperiment[e].Add(1); n != 1 {
					t.Errorf("exp-%d running %d times at once", e, n)
				}
				if n := active.Add(1); n > maxLimit {
					t.Errorf("%d runs active, limit never exceeds %d", n, maxLimit)
				}
				perExperiment[e].Add(-1)
				active.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	if admitted.Load() == 0 || refused.Load() == 0 {
		t.Errorf("admitted %d, refused %d: the test must exercise both", admitted.Load(), refused.Load())
	}
	if got := s.Running(); len(got) != 0 {
		t.Errorf("slots still held after every release: %v", got)
	}
}
