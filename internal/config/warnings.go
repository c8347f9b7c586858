package config

import (
	"fmt"
	"time"
)

// Warnings lists what is valid but dangerous or not what it looks like, as
// FILE:LINE: warning: PATH: MESSAGE lines, in file order: the opt-out from a
// guard, and experiments scheduled more often than one of their runs lasts.
// validate and plan print them; the daemon logs them at start and on reload.
func (c *Config) Warnings() []string {
	errs := &Errors{File: c.file, lines: c.lines}
	if c.Guard.Unguarded {
		errs.add("guard.unguarded", "no Alertmanager or Prometheus judges the runs, so every run that completes passes")
	}
	for i, e := range c.Experiments {
		if gap, run, ok := e.Overrun(); ok {
			errs.add(experimentPath(i)+".schedule",
				"activations come every %s, but a run lasts at least %s (duration %s + observe %s); activations while a run is active are skipped as already-running, so it runs at most once every %s",
				gap, run, e.Duration, e.Observe, RunPeriod(gap, run))
		}
	}
	errs.sortByLine()
	out := make([]string, len(errs.List))
	for i, fe := range errs.List {
		out[i] = warningLine(errs.File, fe)
	}
	return out
}

// Overrun reports whether a scheduled experiment's activations come more
// often than one of its runs lasts: the schedule's shortest gap and the
// run's floor. A run holds the fault, then observes; while it is active the
// scheduler skips the experiment's activations (already-running), so such a
// schedule silently runs less often than it says. Timeouts (a drain's, a
// load's) only make a run longer, so duration + observe is the floor.
// Valid only on a validated Config's experiments.
func (e Experiment) Overrun() (gap, run time.Duration, overruns bool) {
	if e.Disabled || e.schedule == nil {
		return 0, 0, false
	}
	gap, run = shortestGap(e.schedule), e.Duration+e.Observe
	return gap, run, gap < run
}

// RunPeriod is the shortest time between two run starts when each run lasts
// run and activations come every gap: the first activation at or after the
// run's end.
func RunPeriod(gap, run time.Duration) time.Duration {
	if gap <= 0 {
		return run
	}
	return (run + gap - 1) / gap * gap
}

func warningLine(file string, fe *FieldError) string {
	loc := file
	if fe.Line > 0 {
		loc = fmt.Sprintf("%s:%d", file, fe.Line)
	}
	return fmt.Sprintf("%s: warning: %s: %s", loc, fe.Path, fe.Msg)
}
