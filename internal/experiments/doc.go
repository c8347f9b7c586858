// Package experiments owns the faults chaosd injects and the guarantee that
// the cluster gets its desired state back, even if chaosd dies halfway.
//
// Every fault goes through one choke point, Engine.Inject:
//
//   - the intent (run, experiment, expiry and the original values needed to
//     revert) is written to the cluster in the same write as the change, on
//     the object itself (annotation chaosd.io/injection plus the label
//     chaosd.io/injected=true), or in a chaosd-owned ConfigMap when the
//     object is about to disappear (node-delete);
//   - one Actuator per action kind performs the change; a dry run wraps the
//     actuator once in a decorator that only reads and logs what would change;
//   - Kubernetes Events, metrics and logs are emitted here and nowhere else.
//
// A write that fails (a lost response, or the run cancelled while it was in
// flight) is checked on a fresh context: if it landed, it is held and
// reverted like any other.
//
// Engine.Revert restores what chaosd changed and nothing else, retrying
// conflicts and transient API errors; a revert that still fails is retried
// in the background until it succeeds or Engine.Close is called, and
// Engine.WaitReverted waits for that; Engine.RevertAll is the emergency stop;
// Engine.Recover reverts injections recorded in the cluster that no live run
// owns, which is how a new leader cleans up after a crashed one. The cluster,
// never local disk, is the source of truth.
//
// The package must never choose targets, schedule runs, judge them, or import
// the scheduler, runner or guard: it is told what to break and breaks exactly
// that. It keeps no global state: time comes from an injected clock, metrics
// go to an injected prometheus.Registerer.
package experiments
