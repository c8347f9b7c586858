package reach

import (
	"strings"
	"testing"
)

func TestPodKill(t *testing.T) {
	tests := []struct {
		owner         string
		wantPermanent bool
		wantReason    string
	}{
		{owner: "", wantPermanent: true, wantReason: "bare pod: no controller replaces it, the kill is permanent"},
		{owner: "Deployment/api", wantReason: "Deployment/api replaces it"},
		{owner: "StatefulSet/db", wantReason: "StatefulSet/db replaces it"},
		{owner: "Job/backup", wantReason: "Job/backup replaces it"},
		{owner: "Rollout/web", wantReason: "may or may not replace it"},
	}
	for _, tt := range tests {
		t.Run(tt.owner, func(t *testing.T) {
			a := PodKill(tt.owner)
			if !a.Reachable || a.Permanent != tt.wantPermanent {
				t.Errorf("reachable %v, permanent %v; want reachable, permanent %v", a.Reachable, a.Permanent, tt.wantPermanent)
			}
			if !strings.Contains(a.Summary(), tt.wantReason) {
				t.Errorf("summary %q does not contain %q", a.Summary(), tt.wantReason)
			}
		})
	}
}
