// Package server serves chaosd's HTTP port: health and readiness probes,
// Prometheus metrics, the read-only status page and its JSON API, run
// journals and reports, and (optionally) Alertmanager's webhook pushes.
// It renders what it is given and never changes the cluster; no secret is
// ever part of what it serves.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/report"
)

// RunStore is where finished runs are read from.
type RunStore interface {
	List(limit int) []journal.Summary
	Get(runID string) (journal.Record, error)
}

// Options wires the server to the rest of chaosd.
type Options struct {
	// Status returns the current state for the page and /api/v1/status.
	Status func() control.Status
	// Ready returns nil once chaosd has a valid config and synced caches.
	Ready func() error
	Runs  RunStore
	// Gatherer serves /metrics; nil serves no metrics endpoint.
	Gatherer prometheus.Gatherer
	// History returns the charted series over [from, to] (the guard's
	// checks, from Prometheus); nil charts only faults, halts and verdicts.
	History func(ctx context.Context, from, to time.Time) []chart.Panel
	// ScoreWindow returns the resiliency score's window for reports of
	// recent runs (guard.scoreWindow); nil uses the default.
	ScoreWindow func() int
	// AlertWebhook, when set, receives Alertmanager webhook pushes.
	AlertWebhook http.Handler
	Clock        clock.PassiveClock
	Logger       *zap.Logger
}

// New returns the handler for chaosd's HTTP port.
func New(o Options) http.Handler {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	s := &server{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{ErrorLog: zap.NewStdLog(o.Logger)}))
	}
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.o.Status()) })
	mux.HandleFunc("GET /api/v1/runs", s.runs)
	mux.HandleFunc("GET /api/v1/runs/{id}", s.run)
	mux.HandleFunc("GET /api/v1/runs/{id}/report", s.runReport)
	mux.HandleFunc("GET /report", s.recentReport)
	if o.AlertWebhook != nil {
		mux.Handle("POST /api/v1/alertmanager", o.AlertWebhook)
	}
	return securityHeaders(mux)
}

type server struct{ o Options }

func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.o.Ready(); err != nil {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	writeText(w, http.StatusOK, "ok")
}

// maxListed bounds /api/v1/runs; ?limit= can ask for fewer or more.
const maxListed = 1000

func (s *server) runs(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeText(w, http.StatusBadRequest, "limit must be a positive whole number")
			return
		}
		limit = min(n, maxListed)
	}
	writeJSON(w, http.StatusOK, s.o.Runs.List(limit))
}

func (s *server) record(w http.ResponseWriter, r *http.Request) (journal.Record, bool) {
	rec, err := s.o.Runs.Get(r.PathValue("id"))
	switch {
	case errors.Is(err, journal.ErrNotFound):
		writeText(w, http.StatusNotFound, "no such run")
		return rec, false
	case err != nil:
		s.o.Logger.Warn("read journal failed", zap.String("run", r.PathValue("id")), zap.Error(err))
		writeText(w, http.StatusInternalServerError, "could not read the run's journal")
		return rec, false
	}
	return rec, true
}

func (s *server) run(w http.ResponseWriter, r *http.Request) {
	if rec, ok := s.record(w, r); ok {
		writeJSON(w, http.StatusOK, rec)
	}
}

func (s *server) runReport(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.record(w, r)
	if !ok {
		return
	}
	s.renderReport(w, r, "chaosd run "+rec.RunID, []journal.Record{rec})
}

// recentReport renders the last runs (?limit=, default 20) into one report.
func (s *server) recentReport(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, 200)
	}
	var recs []journal.Record
	for _, sum := range s.o.Runs.List(limit) {
		if rec, err := s.o.Runs.Get(sum.RunID); err == nil {
			recs = append(recs, rec)
		}
	}
	s.renderReport(w, r, "chaosd: recent runs", recs)
}

func (s *server) renderReport(w http.ResponseWriter, r *http.Request, title string, recs []journal.Record) {
	opts := report.Options{Title: title, GeneratedAt: s.o.Clock.Now()}
	if s.o.ScoreWindow != nil {
		opts.ScoreWindow = s.o.ScoreWindow()
	}
	if s.o.History != nil {
		opts.Panels = func(_ journal.Record, from, to time.Time) []chart.Panel { return s.o.History(r.Context(), from, to) }
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := report.RenderHTML(w, recs, opts); err != nil {
		s.o.Logger.Warn("render report failed", zap.Error(err))
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

// securityHeaders keeps the read-only pages inert: no scripts, no framing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}
