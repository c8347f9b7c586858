// Package scheduler decides when experiments run. It owns the pure part of
// scheduling: the next activation of an experiment (its cron schedule plus a
// uniform random jitter), whether chaos may run at a given time (weekdays,
// hours and blackout dates, on the config's wall clock), the plan that
// "chaosd plan" prints, and the slots that keep runs from overlapping.
//
// Everything here takes the time and the random source as parameters, so it
// is deterministic under test. It imports only the config package among
// chaosd packages and must never talk to a cluster, read the clock itself or
// use global randomness.
package scheduler
