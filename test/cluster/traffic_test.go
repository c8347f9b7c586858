package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The rule file must be one Prometheus accepts, and its error ratio the
// expression TrafficErrorRatio names.
func TestTrafficAlertRules(t *testing.T) {
	if !strings.Contains(strings.Join(strings.Fields(TrafficAlertRules), " "), strings.Join(strings.Fields(TrafficErrorRatio), " ")) {
		t.Errorf("TrafficErrorRatio is not the error-ratio rule's expression:\n%s", TrafficErrorRatio)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH; the e2e tests load the rules into Prometheus")
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(TrafficAlertRules), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}
