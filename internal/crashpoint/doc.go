// Package crashpoint lets a test stop chaosd dead at a named step of
// injecting or reverting a fault, to prove that recovery copes with a crash
// at every instant, not only while a fault is held.
//
// Release builds carry none of it: without the build tag chaosdcrash, Hit
// is an empty function the compiler inlines away. A binary built with
// `-tags chaosdcrash` reads CHAOSD_CRASH_AT once; when a Hit names that
// point, it writes "chaosd crash point: NAME" to stderr and kills its own
// process with SIGKILL, so no deferred revert, no journal write and no
// Lease release runs, exactly like an OOM kill or a lost node.
//
// The package only names points and stops the process; which step each
// point marks is the business of the package that calls Hit (the steps are
// listed in experiments.CrashPoints).
package crashpoint

// EnvVar names the crash point a chaosdcrash build stops at.
const EnvVar = "CHAOSD_CRASH_AT"

// Marker starts the line a chaosdcrash build writes to stderr just before
// it kills itself: "chaosd crash point: NAME".
const Marker = "chaosd crash point: "
