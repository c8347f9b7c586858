package reach

import (
	"slices"
	"strings"
	"testing"
)

// TestNodeDrain: a drain evicts what kubectl drain would, and names the
// guard's own monitoring among it, found by Service name and by pod IP.
func TestNodeDrain(t *testing.T) {
	m, _ := loadManifests(t, "monitoring-node.yaml")
	monitors := []Monitor{
		{Role: "the guard's Prometheus", URL: "http://prometheus.monitoring.svc:9090"},
		{Role: "the guard's Alertmanager", URL: "http://10.0.0.8:9093"},
	}
	a := NodeDrain("node-a", m.Pods, m.Services, monitors, true)
	wantEvicts := []string{"monitoring/prometheus-0", "monitoring/alertmanager-0", "shop/api-5d8f-abcde"}
	if !slices.Equal(a.Evicts, wantEvicts) {
		t.Errorf("evicts %v, want %v", a.Evicts, wantEvicts)
	}
	warnings := strings.Join(a.Warnings, "\n")
	for _, want := range []string{"evicts monitoring/prometheus-0, which serves the guard's Prometheus", "evicts monitoring/alertmanager-0, which serves the guard's Alertmanager"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings %q lack %q", warnings, want)
		}
	}
	if len(a.Warnings) != 2 {
		t.Errorf("%d warnings, want 2: %q", len(a.Warnings), a.Warnings)
	}
	if !strings.Contains(a.Summary(), "leaves 1 DaemonSet pod(s)") {
		t.Errorf("summary %q does not count the DaemonSet pod", a.Summary())
	}
	withDaemons := NodeDrain("node-a", m.Pods, m.Services, monitors, false)
	if !strings.Contains(strings.Join(withDaemons.Warnings, "\n"), "the drain will refuse") {
		t.Errorf("ignoreDaemonSets=false: warnings %q, want the refusal", withDaemons.Warnings)
	}
	empty := NodeDrain("node-c", m.Pods, m.Services, monitors, true)
	if !empty.Reachable || len(empty.Evicts) != 0 || !strings.Contains(empty.Summary(), "evicts nothing") {
		t.Errorf("empty node: %s, evicts %v", empty.Summary(), empty.Evicts)
	}
}
