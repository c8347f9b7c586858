package experiments

import (
	"slices"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
)

// TestCrashPoints checks the table the crash e2e test is generated from:
// every point is on the list of some kind (a point no kind lists would be
// tested by nobody), and no kind lists a point twice.
func TestCrashPoints(t *testing.T) {
	all := []string{CrashVSInjectRead, CrashVSInjectWrite, CrashVSRevertRead, CrashVSRevertWrite,
		CrashNodeInjectRead, CrashNodeInjectMid, CrashNodeInjectWrite, CrashDrainEvicted, CrashNodeRevertRead, CrashNodeRevertMid, CrashNodeRevertWrite,
		CrashNodeDeleteRead, CrashNodeDeleteSnapshot, CrashNodeDeleteWrite, CrashNodeRestoreCreate, CrashNodeRestoreWrite,
		CrashPodKillRead, CrashPodKillWrite, CrashLoadStart, CrashLoadMid}
	listed := map[string]bool{}
	for _, a := range []config.ActionType{config.ActionPodKill, config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault,
		config.ActionNodeCordon, config.ActionNodeDrain, config.ActionNodeDelete, config.ActionHTTPLoad} {
		for _, zone := range []bool{false, true} {
			pts := CrashPoints(a, zone)
			if len(pts) == 0 {
				t.Errorf("action %s (zone %v) has no crash points", a, zone)
			}
			for i, p := range pts {
				if slices.Contains(pts[:i], p) {
					t.Errorf("action %s lists %s twice", a, p)
				}
				listed[p] = true
			}
		}
	}
	for _, p := range all {
		if !listed[p] {
			t.Errorf("crash point %s is listed for no action", p)
		}
	}
	if len(listed) != len(all) {
		t.Errorf("%d points listed, %d defined", len(listed), len(all))
	}
}
