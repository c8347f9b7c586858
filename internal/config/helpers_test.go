package config

import (
	"errors"
	"strings"
	"testing"
)

// baseExperiment is a valid experiment; tests replace single fields.
var baseExperiment = []string{
	"name: e",
	`schedule: "*/10 * * * *"`,
	"target: {kind: pod, namespaces: [demo]}",
	"action: {type: pod-kill}",
}

// experimentDoc returns top followed by a config with one experiment: the
// base experiment with each "key: value" field replacing the base field of
// the same key, or appended when the base has none.
func experimentDoc(top string, fields ...string) string {
	exp := append([]string(nil), baseExperiment...)
	for _, f := range fields {
		key, _, _ := strings.Cut(f, ":")
		replaced := false
		for i, b := range exp {
			if strings.HasPrefix(b, key+":") {
				exp[i], replaced = f, true
			}
		}
		if !replaced {
			exp = append(exp, f)
		}
	}
	var b strings.Builder
	if top != "" {
		b.WriteString(strings.TrimSpace(top) + "\n")
	}
	b.WriteString("experiments:\n")
	for i, f := range exp {
		prefix := "    "
		if i == 0 {
			prefix = "  - "
		}
		b.WriteString(prefix + f + "\n")
	}
	return b.String()
}

// mustParse parses a config that must be valid.
func mustParse(t *testing.T, doc string) *Config {
	t.Helper()
	cfg, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\n--- config ---\n%s", err, doc)
	}
	return cfg
}

// parseErrors parses a config that must be invalid and returns its problems.
func parseErrors(t *testing.T, doc string) *Errors {
	t.Helper()
	cfg, err := Parse("test.yaml", []byte(doc))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors\n--- config ---\n%s", doc)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config along with an error")
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error is %T, want *Errors: %v", err, err)
	}
	return errs
}
