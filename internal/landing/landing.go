// Package landing proves, after a fault was injected, that it took effect,
// and says from where:
//
//   - an http-* fault on a VirtualService: two PromQL queries over the
//     hold, the requests the fault acted on and all requests to the
//     target; by default Istio's standard istio_requests_total with
//     Envoy's response flags (FI abort, DI delay) as the calling side's
//     proxy reports them (reporter="source": an aborted request never
//     reaches the destination's proxy). Fewer requests than minRequests is
//     too little traffic to tell, requests but none faulted is not landed;
//   - a pod kill: the replacement and its time to Ready, or a bare pod
//     gone for good;
//   - a node drain: the pods it evicted.
//
// It only reads Prometheus; it never decides the verdict (guard does)
// and never changes anything.
package landing

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// Default queries over Istio's standard metrics.
const (
	DefaultQuery        = `sum(increase(istio_requests_total{reporter="source",destination_service="{{.host}}",response_flags=~".*({{.flag}}).*"}[{{.window}}]))`
	DefaultTrafficQuery = `sum(increase(istio_requests_total{reporter="source",destination_service="{{.host}}"}[{{.window}}]))`
)

// QueryAPI is the one Prometheus call landing makes.
type QueryAPI interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error)
}

// NewAPI builds the Prometheus client for address.
func NewAPI(address string, hc *http.Client) (QueryAPI, error) {
	c, err := api.NewClient(api.Config{Address: address, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", address, err)
	}
	return promv1.NewAPI(c), nil
}

// Prober evaluates landing queries.
type Prober struct {
	API     QueryAPI
	Timeout time.Duration
}

// FromGuard evaluates landing queries on the guard's Prometheus, read
// from each run's config snapshot, so a reload that moves Prometheus
// moves landing with it.
type FromGuard struct {
	HTTPClient *http.Client
}

// VirtualService evaluates on g's Prometheus; ok is false when the guard
// has none, and landing cannot be checked.
func (f FromGuard) VirtualService(ctx context.Context, g config.Guard, l config.Landing, vars config.LandingVars, at time.Time) (journal.Landing, bool) {
	if g.Prometheus == nil {
		return journal.Landing{}, false
	}
	hc := f.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	a, err := NewAPI(g.Prometheus.URL, hc)
	if err != nil {
		return journal.Landing{State: string(guard.LandingUnknown), Summary: err.Error(), Source: journal.SourcePrometheus, EvaluatedAt: at}, true
	}
	return Prober{API: a, Timeout: g.Timeout}.VirtualService(ctx, l, vars, at), true
}

// Window is the hold a query covers: from the injection to the revert,
// rounded up to whole seconds (PromQL durations).
func Window(from, to time.Time) string {
	s := max(1, int64(math.Ceil(to.Sub(from).Seconds())))
	return fmt.Sprintf("%ds", s)
}

// Flag is Envoy's response flag for the faults action injects: FI for an
// abort, DI for a delay, both for an http-fault with both.
func Flag(a config.Action) string {
	abort, delay := a.HTTPFault()
	var flags []string
	if abort != nil {
		flags = append(flags, "FI")
	}
	if delay != nil {
		flags = append(flags, "DI")
	}
	return strings.Join(flags, "|")
}

// HostOf is a VirtualService host as a cluster-local name, as Istio's
// destination_service label spells it.
func HostOf(host, namespace string) string {
	switch strings.Count(host, ".") {
	case 0:
		return host + "." + namespace + ".svc.cluster.local"
	case 1:
		return host + ".svc.cluster.local"
	}
	if strings.HasSuffix(host, ".svc") {
		return host + ".cluster.local"
	}
	return host
}

// VirtualService evaluates the experiment's landing queries (or the
// defaults) at at, over the hold vars.Window, and judges them.
func (p Prober) VirtualService(ctx context.Context, l config.Landing, vars config.LandingVars, at time.Time) journal.Landing {
	q, tq := l.Query, l.TrafficQuery
	if q == "" {
		q, tq = DefaultQuery, DefaultTrafficQuery
	}
	out := journal.Landing{Source: journal.SourcePrometheus, EvaluatedAt: at, MinRequests: l.MinRequests}
	var err error
	if out.Query, err = render(q, vars); err == nil {
		out.TrafficQuery, err = render(tq, vars)
	}
	if err != nil {
		out.State, out.Summary = string(guard.LandingUnknown), err.Error()
		return out
	}
	faulted, ferr := p.scalar(ctx, out.Query, at)
	total, terr := p.scalar(ctx, out.TrafficQuery, at)
	if ferr != nil || terr != nil {
		out.State = string(guard.LandingUnknown)
		out.Summary = "landing queries failed: " + errorsOf(ferr, terr)
		return out
	}
	out.Faulted, out.Requests = &faulted, &total
	window := vars.Window
	switch {
	case total < float64(l.MinRequests):
		out.State = string(guard.TooLittleTraffic)
		out.Summary = fmt.Sprintf("%.0f requests to %s in %s, fewer than the %d needed to judge", total, vars.Host, window, l.MinRequests)
	case faulted <= 0:
		out.State = string(guard.NotLanded)
		out.Summary = fmt.Sprintf("0 of %.0f requests to %s in %s were faulted", total, vars.Host, window)
	default:
		out.State = string(guard.Landed)
		out.Summary = fmt.Sprintf("%.0f of %.0f requests to %s in %s were faulted", faulted, total, vars.Host, window)
	}
	return out
}

func render(q string, vars config.LandingVars) (string, error) {
	t, err := config.ParseLandingQuery(q)
	if err != nil {
		return "", err
	}
	return config.RenderLandingQuery(t, vars)
}

func errorsOf(errs ...error) string {
	var parts []string
	for _, e := range errs {
		if e != nil {
			parts = append(parts, e.Error())
		}
	}
	return strings.Join(parts, "; ")
}

// scalar evaluates q at at and sums its samples; no samples is 0 (no
// request was counted), never an error: the traffic threshold then says
// "too little traffic", not "passed".
func (p Prober) scalar(ctx context.Context, q string, at time.Time) (float64, error) {
	opts := []promv1.Option{}
	if p.Timeout > 0 {
		opts = append(opts, promv1.WithTimeout(p.Timeout))
	}
	v, _, _, err := p.API.Query(ctx, q, at, opts...)
	if err != nil {
		return 0, fmt.Errorf("query %q: %w", q, err)
	}
	switch r := v.(type) {
	case model.Vector:
		sum := 0.0
		for _, s := range r {
			if !math.IsNaN(float64(s.Value)) {
				sum += float64(s.Value)
			}
		}
		return sum, nil
	case *model.Scalar:
		if math.IsNaN(float64(r.Value)) {
			return 0, nil
		}
		return float64(r.Value), nil
	}
	return 0, fmt.Errorf("query %q: result of type %s, want a vector or scalar", q, v.Type())
}
