package experiments

import (
	"slices"

	"github.com/chaosd/chaosd/internal/config"
)

// Crash points: the named steps of injecting and reverting each fault kind
// at which a chaosdcrash build can be killed (crashpoint.Hit). Release
// builds compile the calls away. Recovery must cope with a death at every
// one of them: the e2e test TestExperimentsCrashPoints kills `chaosd once`
// at each point of each kind and proves nothing is left or done twice.
//
// An HTTP fault on a VirtualService is one Update carrying the intent and
// the faults of every matching route together, so "after the intent,
// before the fault" and "after the first of several routes" are not
// instants that exist for it; a zone's nodes are written one by one, so
// node faults have a point between the first node and the next.
const (
	// VirtualService faults (http-abort, http-delay, http-fault).
	CrashVSInjectRead  = "vs.inject.after-read"  // target read; intent and fault not written
	CrashVSInjectWrite = "vs.inject.after-write" // intent and fault written; not yet held
	CrashVSRevertRead  = "vs.revert.after-read"  // revert read the target; nothing restored
	CrashVSRevertWrite = "vs.revert.after-write" // faults restored and intent cleared; not yet forgotten
	// Node cordon and drain, on a node or every node of a zone.
	CrashNodeInjectRead  = "node.inject.after-read"   // first node read; nothing cordoned
	CrashNodeInjectMid   = "node.inject.mid"          // first node cordoned with its intent, more to go (zone)
	CrashNodeInjectWrite = "node.inject.after-write"  // every node cordoned; nothing evicted, not yet held
	CrashDrainEvicted    = "drain.inject.after-evict" // pods evicted; not yet held
	CrashNodeRevertRead  = "node.revert.after-read"   // revert read the first node; nothing uncordoned
	CrashNodeRevertMid   = "node.revert.mid"          // first node uncordoned and its intent cleared, more to go (zone)
	CrashNodeRevertWrite = "node.revert.after-write"  // every node uncordoned; not yet forgotten
	// node-delete with restore.
	CrashNodeDeleteRead     = "nodedelete.inject.after-read"     // node read; no snapshot written
	CrashNodeDeleteSnapshot = "nodedelete.inject.after-snapshot" // snapshot (the intent) written; node not deleted
	CrashNodeDeleteWrite    = "nodedelete.inject.after-write"    // node deleted; not yet held
	CrashNodeRestoreCreate  = "nodedelete.revert.after-create"   // node re-created; snapshot (the intent) not removed
	CrashNodeRestoreWrite   = "nodedelete.revert.after-write"    // snapshot removed; not yet forgotten
	// pod-kill (delete or evict): nothing to revert.
	CrashPodKillRead  = "podkill.inject.after-read"  // pod and siblings read; not killed
	CrashPodKillWrite = "podkill.inject.after-write" // pod deleted or evicted; not yet journaled
	// http-load: nothing to revert.
	CrashLoadStart = "httpload.inject.before-first" // burst set up; no request sent
	CrashLoadMid   = "httpload.inject.mid"          // first response received, burst going on
)

// CrashPoints lists the crash points a fault of action kind a (on a zone
// when zone is set) passes through, inject first, in order.
func CrashPoints(a config.ActionType, zone bool) []string {
	var pts []string
	switch a {
	case config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault:
		pts = []string{CrashVSInjectRead, CrashVSInjectWrite, CrashVSRevertRead, CrashVSRevertWrite}
	case config.ActionNodeCordon, config.ActionNodeDrain:
		pts = []string{CrashNodeInjectRead, CrashNodeInjectMid, CrashNodeInjectWrite, CrashDrainEvicted,
			CrashNodeRevertRead, CrashNodeRevertMid, CrashNodeRevertWrite}
		if a == config.ActionNodeCordon {
			pts = slices.DeleteFunc(pts, func(p string) bool { return p == CrashDrainEvicted })
		}
		if !zone { // one node: no "after the first of several"
			pts = slices.DeleteFunc(pts, func(p string) bool { return p == CrashNodeInjectMid || p == CrashNodeRevertMid })
		}
	case config.ActionNodeDelete:
		pts = []string{CrashNodeDeleteRead, CrashNodeDeleteSnapshot, CrashNodeDeleteWrite, CrashNodeRestoreCreate, CrashNodeRestoreWrite}
	case config.ActionPodKill:
		pts = []string{CrashPodKillRead, CrashPodKillWrite}
	case config.ActionHTTPLoad:
		pts = []string{CrashLoadStart, CrashLoadMid}
	}
	return pts
}
