// Package scheduler decides when experiments run. It owns the pure part of
// scheduling: the next activation of an experiment (its cron schedule plus a
// uniform random jitter), whether chaos may run at a given time (weekdays,
// hours and blackout dates, on the config's wall clock), the plan that
// "chaosd plan" prints, and the slots that keep runs from overlapping. On top
// of that sit the Scheduler loop, which hands due activations to a Runner,
// and leader election on a Lease, so only one replica schedules.
//
// Time and randomness are injected, so everything is deterministic under a
// fake clock. It imports only the config package among chaosd packages, and
// the only cluster object it touches is its Lease: what a run does is the
// Runner's business.
package scheduler
