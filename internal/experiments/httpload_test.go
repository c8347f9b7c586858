package experiments

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

func TestHTTPLoad(t *testing.T) {
	tests := []struct {
		name        string
		action      config.Action
		maxRequests uint64 // 0: the engine default
		wantPeak    int    // > 0: requests wait until this many are in flight at once
		check       func(t *testing.T, r *LoadReport, served int64)
	}{
		{
			// The cap, not the 30s duration (a hang guard), ends the burst;
			// each request waits until both workers are in flight.
			name: "rate 0 runs as fast as the capped workers go",
			action: config.Action{Type: config.ActionHTTPLoad, Method: "POST", Concurrency: 2, Duration: 30 * time.Second,
				Headers: map[string]string{"X-Chaos": "yes"}, Body: "ping"},
			maxRequests: 20,
			wantPeak:    2,
			check: func(t *testing.T, r *LoadReport, served int64) {
				if r.Requests != 20 {
					t.Errorf("requests = %d, want the whole cap 20 at rate 0", r.Requests)
				}
			},
		},
		{
			// The 10s duration is a hang guard: the cap ends the burst first.
			name:        "request cap stops the burst",
			action:      config.Action{Type: config.ActionHTTPLoad, Concurrency: 2, Duration: 10 * time.Second},
			maxRequests: 5,
			check: func(t *testing.T, r *LoadReport, served int64) {
				if r.Requests != 5 {
					t.Errorf("requests = %d, want exactly the cap 5", r.Requests)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var served atomic.Int64
			var mu sync.Mutex
			var inflight, peak int
			peakReached := make(chan struct{})
			if tt.wantPeak == 0 {
				close(peakReached)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				inflight++
				if inflight > peak {
					if peak = inflight; peak == tt.wantPeak {
						close(peakReached)
					}
				}
				mu.Unlock()
				select {
				case <-peakReached:
				case <-r.Context().Done():
				}
				defer func() { mu.Lock(); inflight--; mu.Unlock() }()
				n := served.Add(1)
				if tt.action.Method == "POST" {
					if b, _ := io.ReadAll(r.Body); string(b) != "ping" || r.Header.Get("X-Chaos") != "yes" || r.Method != "POST" {
						t.Errorf("request = %s %q %v", r.Method, b, r.Header)
					}
				}
				if n%2 == 0 {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			}))
			defer srv.Close()
			act := &httpLoad{maxRequests: DefaultMaxLoadRequests}
			if tt.maxRequests > 0 {
				act.maxRequests = tt.maxRequests
			}
			rec, err := act.Inject(context.Background(), Spec{Intent: Intent{Run: "r1"}, Action: tt.action, Target: targets.Target{Kind: config.TargetURL, URL: srv.URL}})
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			r := rec.Detail.(*LoadReport)
			var sum uint64
			for _, n := range r.StatusCodes {
				sum += n
			}
			if sum != r.Requests || uint64(served.Load()) != r.Requests {
				t.Errorf("status counts %v sum to %d, served %d, requests %d", r.StatusCodes, sum, served.Load(), r.Requests)
			}
			if r.ErrorCount != r.StatusCodes[503] || r.Errors["503 Service Unavailable"] != r.ErrorCount {
				t.Errorf("errors = %d %v, 503s = %d", r.ErrorCount, r.Errors, r.StatusCodes[503])
			}
			if r.Latency.Max <= 0 || r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
				t.Errorf("latency = %+v", r.Latency)
			}
			if peak > max(tt.action.Concurrency, 1) || peak < tt.wantPeak {
				t.Errorf("peak concurrency = %d, cap %d, want at least %d", peak, tt.action.Concurrency, tt.wantPeak)
			}
			if rec.Reversible {
				t.Error("a load burst has nothing to revert")
			}
			tt.check(t, r, served.Load())
		})
	}
}

// TestHTTPLoadPacer pins the pacing from the elapsed time the attack hands
// the pacer, so no test waits on vegeta's real clock: a rate spaces the hits,
// and the burst stops at rate × duration + 1 or at the engine's cap.
func TestHTTPLoadPacer(t *testing.T) {
	type pace struct {
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}
	tests := []struct {
		name        string
		action      config.Action
		maxRequests uint64
		paces       []pace
	}{
		{
			name:        "rate 20/s for 100ms: hits 50ms apart, at most 3",
			action:      config.Action{Rate: 20, Duration: 100 * time.Millisecond},
			maxRequests: DefaultMaxLoadRequests,
			paces: []pace{
				{elapsed: 0, hits: 0, wait: 50 * time.Millisecond},
				{elapsed: 50 * time.Millisecond, hits: 1, wait: 50 * time.Millisecond},
				{elapsed: 100 * time.Millisecond, hits: 2, wait: 50 * time.Millisecond},
				{elapsed: 100 * time.Millisecond, hits: 3, stop: true},
			},
		},
		{
			name:        "rate 0 never waits, up to the engine's cap",
			action:      config.Action{Duration: time.Hour},
			maxRequests: 5,
			paces: []pace{
				{elapsed: 0, hits: 0},
				{elapsed: 0, hits: 4},
				{elapsed: 0, hits: 5, stop: true},
			},
		},
		{
			name:        "the engine's cap wins over rate × duration",
			action:      config.Action{Rate: 1000, Duration: 10 * time.Second},
			maxRequests: 5,
			paces: []pace{
				{elapsed: 4 * time.Millisecond, hits: 4, wait: time.Millisecond},
				{elapsed: 5 * time.Millisecond, hits: 5, stop: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := (&httpLoad{maxRequests: tt.maxRequests}).pacer(tt.action)
			for _, want := range tt.paces {
				wait, stop := p.Pace(want.elapsed, want.hits)
				if stop != want.stop || (!stop && wait != want.wait) {
					t.Errorf("Pace(%s, %d) = %s, stop %v; want %s, stop %v", want.elapsed, want.hits, wait, stop, want.wait, want.stop)
				}
			}
		})
	}
}

func TestHTTPLoadStopsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	act := &httpLoad{maxRequests: DefaultMaxLoadRequests}
	start := time.Now()
	_, err := act.Inject(ctx, Spec{Action: config.Action{Type: config.ActionHTTPLoad, Concurrency: 1, Duration: time.Minute},
		Target: targets.Target{Kind: config.TargetURL, URL: srv.URL}})
	if err == nil {
		t.Error("want an error for a burst cut short")
	}
	if time.Since(start) > 10*time.Second { // hang guard: the burst would run for a minute
		t.Error("burst did not stop with its context")
	}
}

func TestHTTPLoadReportsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close() // connection refused from now on
	act := &httpLoad{maxRequests: 3}
	rec, err := act.Inject(context.Background(), Spec{Action: config.Action{Type: config.ActionHTTPLoad, Concurrency: 1, Duration: time.Second},
		Target: targets.Target{Kind: config.TargetURL, URL: url}})
	if err != nil {
		t.Fatal(err)
	}
	r := rec.Detail.(*LoadReport)
	if r.Requests != 3 || r.ErrorCount != 3 || r.StatusCodes[0] != 3 || len(r.Errors) != 1 {
		t.Errorf("report = %+v", r)
	}
}
