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
		check       func(t *testing.T, r *LoadReport, served int64)
	}{
		{
			name: "rate 0 runs as fast as the capped workers go",
			action: config.Action{Type: config.ActionHTTPLoad, Method: "POST", Concurrency: 2, Duration: 100 * time.Millisecond,
				Headers: map[string]string{"X-Chaos": "yes"}, Body: "ping"},
			check: func(t *testing.T, r *LoadReport, served int64) {
				if r.Requests < 2 {
					t.Errorf("requests = %d, want a burst", r.Requests)
				}
			},
		},
		{
			name:   "rate bounds the count",
			action: config.Action{Type: config.ActionHTTPLoad, Concurrency: 4, Rate: 20, Duration: 100 * time.Millisecond},
			check: func(t *testing.T, r *LoadReport, served int64) {
				if r.Requests == 0 || r.Requests > 3 { // 20/s × 0.1 s, +1
					t.Errorf("requests = %d, want 1-3", r.Requests)
				}
			},
		},
		{
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
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				inflight++
				peak = max(peak, inflight)
				mu.Unlock()
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
			if peak > max(tt.action.Concurrency, 1) {
				t.Errorf("peak concurrency = %d, cap %d", peak, tt.action.Concurrency)
			}
			if rec.Reversible {
				t.Error("a load burst has nothing to revert")
			}
			tt.check(t, r, served.Load())
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
	if time.Since(start) > 10*time.Second {
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
