package daemon

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/score"
	"github.com/chaosd/chaosd/internal/server"
)

// scoreBoard keeps the resiliency scores (internal/score) of the runs the
// journal holds. refresh reads only records it has not reduced yet and
// forgets runs retention removed, so the scores follow the journal: at
// start, after each run and after a reload that changes the window.
type scoreBoard struct {
	log *zap.Logger

	mu   sync.Mutex           // serialises refresh
	runs map[string]score.Run // by run ID, finished runs only

	latest atomic.Pointer[[]score.Score]
}

func newScoreBoard(log *zap.Logger) *scoreBoard {
	return &scoreBoard{log: log, runs: map[string]score.Run{}}
}

// refresh recomputes the scores from the journal over window runs.
func (b *scoreBoard) refresh(j server.RunStore, window int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := map[string]bool{}
	for _, sum := range j.List(0) {
		if sum.Verdict == "" {
			continue // in progress: judged when it finishes
		}
		keep[sum.RunID] = true
		if _, known := b.runs[sum.RunID]; known {
			continue
		}
		rec, err := j.Get(sum.RunID)
		if err != nil {
			// Removed by retention meanwhile, or unreadable: it is then
			// not in the journal, so not in the score.
			b.log.Debug("resiliency score skips a run", zap.String("run", sum.RunID), zap.Error(err))
			continue
		}
		b.runs[sum.RunID] = score.RunOf(rec)
	}
	for id := range b.runs {
		if !keep[id] {
			delete(b.runs, id)
		}
	}
	runs := make([]score.Run, 0, len(b.runs))
	for _, r := range b.runs {
		runs = append(runs, r)
	}
	scores := score.Compute(runs, window)
	b.latest.Store(&scores)
}

// scores are the last computed scores, sorted by experiment and workload.
func (b *scoreBoard) scores() []score.Score {
	if p := b.latest.Load(); p != nil {
		return *p
	}
	return nil
}

// status lists the scores for the status, lowest first and those without
// data last, so a truncated list keeps the least resilient.
func (b *scoreBoard) status() []control.Score {
	var out []control.Score
	for _, s := range b.scores() {
		cs := control.Score{Experiment: s.Experiment, Workload: s.Workload, Counted: s.Counted, Passed: s.Passed,
			Excluded: s.Excluded, Window: s.Window}
		if s.Known() {
			r := s.Ratio
			cs.Ratio = &r
		}
		out = append(out, cs)
	}
	slices.SortStableFunc(out, func(a, b control.Score) int {
		if (a.Ratio == nil) != (b.Ratio == nil) {
			if a.Ratio == nil {
				return 1
			}
			return -1
		}
		if a.Ratio != nil {
			return cmp.Compare(*a.Ratio, *b.Ratio)
		}
		return 0
	})
	return out
}

var (
	scoreRatioDesc = prometheus.NewDesc("chaosd_resiliency_score_ratio",
		"Resiliency score of an experiment against a workload, 0 to 1: the mean credit of the counted runs in the window (passed 1, or down to 0.5 as an SLI used up its tolerance; weakness and alert-gap 0). Absent when no run counted.",
		[]string{"experiment", "workload"}, nil)
	scoreCountedDesc = prometheus.NewDesc("chaosd_resiliency_score_counted_runs",
		"Runs in the resiliency score's window that count: passed, weakness or alert-gap.",
		[]string{"experiment", "workload"}, nil)
	scoreExcludedDesc = prometheus.NewDesc("chaosd_resiliency_score_excluded_runs",
		"Runs in the resiliency score's window that say nothing about resilience and do not count: error, no-effect, aborted, skipped, dry runs.",
		[]string{"experiment", "workload"}, nil)
)

// scoreCollector exports the board's scores as they are at each scrape,
// so a key retention removed disappears instead of going stale, and an
// experiment and workload without a counted run has no score series at
// all, only its run counts.
type scoreCollector struct{ b *scoreBoard }

func (c scoreCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- scoreRatioDesc
	ch <- scoreCountedDesc
	ch <- scoreExcludedDesc
}

func (c scoreCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.b.scores() {
		if s.Known() {
			ch <- prometheus.MustNewConstMetric(scoreRatioDesc, prometheus.GaugeValue, s.Ratio, s.Experiment, s.Workload)
		}
		ch <- prometheus.MustNewConstMetric(scoreCountedDesc, prometheus.GaugeValue, float64(s.Counted), s.Experiment, s.Workload)
		ch <- prometheus.MustNewConstMetric(scoreExcludedDesc, prometheus.GaugeValue, float64(s.Excluded), s.Experiment, s.Workload)
	}
}

// refreshScores recomputes the scores with the current config's window;
// a one-shot run keeps none.
func (d *daemon) refreshScores() {
	if d.scores != nil {
		d.scores.refresh(d.journal, d.cfg.Load().Guard.ScoreWindow)
	}
}

// scoreStatus is the scores for the status; none in a one-shot run.
func (d *daemon) scoreStatus() []control.Score {
	if d.scores == nil {
		return nil
	}
	return d.scores.status()
}
