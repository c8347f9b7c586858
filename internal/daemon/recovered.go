package daemon

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// journalRecovered writes what recovery did into the journal, one record
// per run it cleaned up after, so a crashed run does not stay "in
// progress" (or absent) for good: the run's own record when this journal
// holds it (a restarted daemon), gaining a timeline line per object and, if
// it had no verdict yet, the verdict aborted; else a record of its own.
func (d *daemon) journalRecovered(rep experiments.RecoveryReport) {
	if d.journal == nil {
		return
	}
	now := d.o.Clock.Now()
	byRun := map[string][]experiments.Recovered{}
	for _, r := range append(slices.Clone(rep.Reverted), rep.Failed...) {
		// r.Reason is set when recovery tried to revert it: an intent it
		// could not even read names no run to journal.
		if r.Reason != "" && journal.ValidRunID(r.Run) {
			byRun[r.Run] = append(byRun[r.Run], r)
		}
	}
	for _, run := range slices.Sorted(maps.Keys(byRun)) {
		items := byRun[run]
		rec, err := d.journal.Get(run)
		if err != nil {
			rec = journal.Record{SchemaVersion: journal.SchemaVersion, RunID: run, Experiment: items[0].Experiment,
				Action: items[0].Action, StartedAt: now, Evidence: []journal.Evidence{}, Timeline: []journal.TimelineEntry{},
				Injections: []journal.Injection{}}
		}
		failed, added := false, false
		for _, it := range items {
			msg := fmt.Sprintf("recovered by %s: %s fault written by %s reverted (%s)", d.o.Identity, it.Action, it.By, it.Reason)
			var rerr error
			if it.Err != "" {
				msg, rerr, failed = fmt.Sprintf("recovery by %s could not revert the %s fault written by %s", d.o.Identity, it.Action, it.By), errors.New(it.Err), true
			}
			if len(it.Notes) > 0 {
				msg += ": " + fmt.Sprint(it.Notes)
			}
			if rerr != nil && slices.ContainsFunc(rec.Timeline, func(e journal.TimelineEntry) bool {
				return e.Target == it.Object && e.Message == msg && e.Error == rerr.Error()
			}) {
				continue // retried at every pass: journaled once
			}
			for _, l := range it.Left {
				rec.AddTimeline(now, journal.PhaseRevert, it.Object, l.String(), nil)
			}
			rec.AddTimeline(now, journal.PhaseRevert, it.Object, msg, rerr)
			added = true
		}
		if !added {
			continue
		}
		if rec.Verdict == "" {
			rec.Verdict = guard.Aborted
			rec.Reason = "the chaosd process running it stopped before reverting; recovery by " + d.o.Identity + " reverted its faults"
			if failed {
				rec.Verdict, rec.Reason = guard.Error, "the chaosd process running it stopped before reverting, and recovery by "+d.o.Identity+" could not revert every fault"
			}
			rec.FinishedAt = now
			rec.DurationSeconds = now.Sub(rec.StartedAt).Seconds()
		}
		if err := d.journal.Write(rec); err != nil {
			d.log.Warn("journal recovered run failed", zap.String("run", run), zap.Error(err))
		}
	}
}

// reportedOnce is a set of keys, safe for concurrent use.
type reportedOnce struct {
	mu   sync.Mutex
	seen map[string]bool
}

// first reports whether key is new, and remembers it.
func (r *reportedOnce) first(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		return false
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[key] = true
	return true
}

// reportUnrestorable warns once per process about each fault recovery
// cannot revert here (a node snapshot in namespaced mode): it stays until a
// cluster-wide chaosd restores it, so repeating it every pass would only
// bury other logs.
func (d *daemon) reportUnrestorable(items []experiments.Recovered) {
	for _, it := range items {
		if !d.reported.first(it.Object + "|" + it.Run) {
			continue
		}
		d.log.Warn("a fault recovery cannot revert here; reported once", zap.String("object", it.Object), zap.String("run", it.Run),
			zap.String("experiment", it.Experiment), zap.String("reason", it.Err))
		d.eventOnConfigMap("Warning", "ChaosUnrestorable", "Recover", fmt.Sprintf("%s of run %s: %s", it.Object, it.Run, it.Err))
	}
}
