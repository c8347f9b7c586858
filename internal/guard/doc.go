// Package guard owns the judgement of chaos runs, read from Alertmanager and
// Prometheus:
//
//   - may a run start (Guard.Preflight),
//   - must a running run halt (Guard.Poll, driven by a Watcher),
//   - what evidence backs either answer (Evaluation),
//   - what the run's final Verdict is (DeriveVerdict),
//   - and whether chaosd has paused itself after a weakness (PauseState).
//
// It fails closed: an unreachable, slow, erroring or confused monitoring
// system, and a check whose query returns no data, make the answer Unknown,
// never OK. Unknown and Blocked both stop a start; only Blocked is evidence
// of a weakness.
//
// The package must never inject or revert faults, talk to Kubernetes or send
// notifications: it only reads monitoring and reports what it saw. It keeps no
// global state; time comes from an injected clock and metrics go to an
// injected prometheus.Registerer.
package guard
