package experiments

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/crashpoint"
)

const (
	// maxDistinctErrors bounds LoadReport.Errors; the rest count as "other".
	maxDistinctErrors = 20
	// maxResponseBody bounds what is read of each response, so a large
	// response times the workers can't exhaust chaosd's memory.
	maxResponseBody = 1 << 20
)

// httpLoad fires a bounded burst of HTTP requests at a URL with vegeta.
// Concurrency is a hard cap on workers (vegeta would otherwise add workers
// without limit at rate 0); Rate 0 means as fast as those workers go. The
// burst ends at the action's Duration, when ctx ends, or after maxRequests,
// whichever comes first. Nothing is left to revert.
type httpLoad struct {
	maxRequests uint64
}

var _ Actuator = (*httpLoad)(nil)

// LoadReport summarises a burst for the journal.
type LoadReport struct {
	URL         string         `json:"url"`
	Method      string         `json:"method"`
	Concurrency int            `json:"concurrency"`
	Rate        int            `json:"rate"` // per second; 0 = as fast as possible
	Duration    time.Duration  `json:"duration"`
	Requests    uint64         `json:"requests"`
	StatusCodes map[int]uint64 `json:"statusCodes"` // 0 = no response
	// ErrorCount counts requests that failed (transport errors and non-2xx/3xx).
	ErrorCount uint64            `json:"errorCount"`
	Errors     map[string]uint64 `json:"errors,omitempty"`
	Latency    LatencySummary    `json:"latency"`
}

// LatencySummary holds latency percentiles of a burst.
type LatencySummary struct {
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	Max  time.Duration `json:"max"`
	Mean time.Duration `json:"mean"`
}

func (a *httpLoad) Plan(_ context.Context, s Spec) (Plan, error) {
	act := s.Action
	note := fmt.Sprintf("%s with %d workers at rate %d/s (0 = unbounded) for %s, at most %d requests",
		method(act), act.Concurrency, act.Rate, act.Duration, a.limit(act))
	return Plan{Changes: []Change{{Verb: "load", Object: s.Target.URL, Note: note}}}, nil
}

func (a *httpLoad) Inject(ctx context.Context, s Spec) (Record, error) {
	act := s.Action
	workers := uint64(max(act.Concurrency, 1))
	opts := []func(*vegeta.Attacker){vegeta.Workers(workers), vegeta.MaxWorkers(workers), vegeta.KeepAlive(true), vegeta.MaxBody(maxResponseBody)}
	if act.Timeout > 0 {
		opts = append(opts, vegeta.Timeout(act.Timeout))
	}
	header := http.Header{}
	for k, v := range act.Headers {
		header.Set(k, v)
	}
	target := vegeta.Target{Method: method(act), URL: s.Target.URL, Header: header}
	if act.Body != "" {
		target.Body = []byte(act.Body)
	}
	atk := vegeta.NewAttacker(opts...)
	crashpoint.Hit(CrashLoadStart)
	results := atk.Attack(vegeta.NewStaticTargeter(target), a.pacer(act), act.Duration, s.Intent.Run)

	report := &LoadReport{URL: s.Target.URL, Method: target.Method, Concurrency: int(workers), Rate: act.Rate,
		StatusCodes: map[int]uint64{}, Errors: map[string]uint64{}}
	var m vegeta.Metrics
	done := ctx.Done()
	for results != nil {
		select {
		case r, ok := <-results:
			if !ok {
				results = nil
				continue
			}
			m.Add(r)
			report.add(r)
			if m.Requests == 1 {
				crashpoint.Hit(CrashLoadMid)
			}
		case <-done:
			atk.Stop() // in-flight requests finish within the client timeout
			done = nil
		}
	}
	m.Close()
	report.Requests = m.Requests
	report.Duration = m.Duration + m.Wait
	report.Latency = LatencySummary{P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99, Max: m.Latencies.Max, Mean: m.Latencies.Mean}
	rec := Record{Target: s.Target, Intent: s.Intent, Applied: report.Requests > 0, Detail: report}
	if err := ctx.Err(); err != nil {
		return rec, fmt.Errorf("http load on %s stopped early: %w", s.Target.URL, err)
	}
	return rec, nil
}

// Revert has nothing to give back.
func (a *httpLoad) Revert(context.Context, Record) (Outcome, error) {
	return Outcome{}, nil
}

func (r *LoadReport) add(res *vegeta.Result) {
	r.StatusCodes[int(res.Code)]++
	if res.Error == "" && res.Code >= 200 && res.Code < 400 {
		return
	}
	r.ErrorCount++
	msg := res.Error
	if msg == "" {
		msg = "HTTP " + strconv.Itoa(int(res.Code))
	}
	if _, seen := r.Errors[msg]; !seen && len(r.Errors) >= maxDistinctErrors {
		msg = "other"
	}
	r.Errors[msg]++
}

// limit is the most requests a burst may send: rate × duration when a rate
// is set, and never more than the engine's cap.
func (a *httpLoad) limit(act config.Action) uint64 {
	n := a.maxRequests
	if act.Rate > 0 {
		n = min(n, uint64(float64(act.Rate)*act.Duration.Seconds())+1)
	}
	return n
}

// pacer spaces the hits at the action's rate and stops them at limit. Freq
// 0 is vegeta's "infinite rate": as fast as the capped workers go.
func (a *httpLoad) pacer(act config.Action) vegeta.Pacer {
	return cappedPacer{Pacer: vegeta.ConstantPacer{Freq: act.Rate, Per: time.Second}, max: a.limit(act)}
}

func method(a config.Action) string {
	if a.Method == "" {
		return http.MethodGet
	}
	return a.Method
}

// cappedPacer stops an attack after max hits.
type cappedPacer struct {
	vegeta.Pacer
	max uint64
}

func (p cappedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.max {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}
