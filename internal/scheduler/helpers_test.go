package scheduler

import (
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// parseConfig parses a config that must be valid.
func parseConfig(t testing.TB, doc string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("config.Parse: %v\n--- config ---\n%s", err, doc)
	}
	return cfg
}

// oneExperiment is a config with a single pod-kill experiment.
func oneExperiment(timezone, windows, schedule, jitter string) string {
	doc := "timezone: " + timezone + "\n"
	if windows != "" {
		doc += "windows: " + windows + "\n"
	}
	return doc + `experiments:
  - name: e
    schedule: "` + schedule + `"
    jitter: ` + jitter + `
    target: {kind: pod}
    action: {type: pod-kill}
`
}

func mustLocation(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func configFromFile(path string) (*config.Config, error) { return config.LoadFile(path) }
