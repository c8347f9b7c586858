// Package history gathers what chaosd's charts show: series from
// Prometheus range queries (each guard check's expression now; a service's
// request rate and error ratio once SLIs exist, as more Queries) and, from
// run journals and the faults held now, when faults were held, when runs
// halted and how they ended. It only reads; it decides nothing.
package history

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/config"
)

// RangeQuerier is the one Prometheus call a Source makes; client_golang's
// promv1.API has it.
type RangeQuerier interface {
	QueryRange(ctx context.Context, query string, r promv1.Range, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error)
}

var _ RangeQuerier = promv1.API(nil)

// Query is one quantity to chart.
type Query struct {
	Title  string
	Expr   string
	Unit   string
	Bounds []float64
}

// QueriesFromGuard charts each Prometheus check of the guard, with its
// min and max as bounds. An empty-style check charts its samples (what
// should not be there).
func QueriesFromGuard(g config.Guard) []Query {
	if g.Prometheus == nil {
		return nil
	}
	var qs []Query
	for _, c := range g.Prometheus.Checks {
		q := Query{Title: "check " + c.Name, Expr: c.Expr}
		for _, b := range []*float64{c.Min, c.Max} {
			if b != nil {
				q.Bounds = append(q.Bounds, *b)
			}
		}
		qs = append(qs, q)
	}
	return qs
}

// Source runs Queries against one Prometheus.
type Source struct {
	API     RangeQuerier
	Queries []Query
	// Timeout bounds each query.
	Timeout time.Duration
}

// NewSource builds a Source on client_golang's Prometheus API at address.
func NewSource(address string, hc *http.Client, queries []Query, timeout time.Duration) (*Source, error) {
	c, err := api.NewClient(api.Config{Address: address, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %q: %w", address, err)
	}
	return &Source{API: promv1.NewAPI(c), Queries: queries, Timeout: timeout}, nil
}

// maxSeriesPerPanel bounds what one query may draw.
const maxSeriesPerPanel = 6

// Step is the resolution for [from, to]: about 240 points, at least 1s.
func Step(from, to time.Time) time.Duration {
	return max(to.Sub(from)/240, time.Second).Round(time.Second)
}

// Panels runs every query over [from, to] concurrently, one panel each,
// in query order. A failed query is a panel that says so, never a line.
func (s *Source) Panels(ctx context.Context, from, to time.Time) []chart.Panel {
	panels := make([]chart.Panel, len(s.Queries))
	var wg sync.WaitGroup
	for i, q := range s.Queries {
		wg.Go(func() { panels[i] = s.panel(ctx, q, from, to) })
	}
	wg.Wait()
	return panels
}

func (s *Source) panel(ctx context.Context, q Query, from, to time.Time) chart.Panel {
	p := chart.Panel{Title: q.Title, Unit: q.Unit, Bounds: q.Bounds}
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	v, _, _, err := s.API.QueryRange(ctx, q.Expr, promv1.Range{Start: from, End: to, Step: Step(from, to)})
	if err != nil {
		p.NoData = "query failed: " + err.Error()
		return p
	}
	m, ok := v.(model.Matrix)
	if !ok {
		p.NoData = fmt.Sprintf("query returned a %s, not a range", v.Type())
		return p
	}
	sort.Slice(m, func(i, j int) bool { return m[i].Metric.String() < m[j].Metric.String() })
	for i, ss := range m {
		if i == maxSeriesPerPanel {
			p.Title += fmt.Sprintf(" (first %d of %d series)", maxSeriesPerPanel, len(m))
			break
		}
		series := chart.Series{Name: ss.Metric.String()}
		for _, pt := range ss.Values {
			series.Points = append(series.Points, chart.Point{T: pt.Timestamp.Time(), V: float64(pt.Value)})
		}
		p.Series = append(p.Series, series)
	}
	if len(p.Series) == 0 {
		p.NoData = "no data"
	}
	return p
}
