package helm

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
)

// documentedKeys are the keys of the Values table in the chart's README.
func documentedKeys(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "\n## Values\n")
	if !ok {
		t.Fatal("README.md has no ## Values section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(table, -1) {
		keys[m[1]] = true
	}
	return keys
}

// TestREADMEDocumentsEveryValue: every value in values.yaml has a row in the
// README (a documented object covers its children), and every row names a
// value that exists.
func TestREADMEDocumentsEveryValue(t *testing.T) {
	values := readYAMLFile(t, filepath.Join(chartDir, "values.yaml"))
	documented := documentedKeys(t)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if documented[path] {
			return
		}
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				walk(joinKey(path, k), m[k])
			}
			return
		}
		t.Errorf("value %s is not in the README's Values table", path)
	}
	walk("", values)
	for key := range documented {
		if _, ok := lookup(values, key); !ok {
			t.Errorf("README documents %s, which values.yaml does not have", key)
		}
	}
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

func lookup(values map[string]any, path string) (any, bool) {
	var cur any = values
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

type schemaNode struct {
	Type                 any                    `json:"type"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties any                    `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
}

func (n *schemaNode) strict() bool { return n.AdditionalProperties == false }

func readSchema(t *testing.T) *schemaNode {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	return &s
}

// TestSchemaMatchesValues: every strict object of the schema (outside
// config) declares exactly the keys values.yaml has, so no knob is
// undocumented and none is unchecked.
func TestSchemaMatchesValues(t *testing.T) {
	schema := readSchema(t)
	if !schema.strict() {
		t.Fatal("the schema's top level allows additional properties")
	}
	var walk func(path string, s *schemaNode, v map[string]any)
	walk = func(path string, s *schemaNode, v map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if _, ok := s.Properties[k]; !ok {
				t.Errorf("values.yaml has %s, the schema does not", joinKey(path, k))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
			p := s.Properties[k]
			child, ok := v[k]
			switch {
			case path == "" && k == "global":
				continue // a parent chart's values
			case !ok:
				t.Errorf("the schema declares %s, values.yaml has no default for it", joinKey(path, k))
			case path == "" && k == "config":
				continue // chaosd's own schema: see TestSchemaKnowsConfigKeys
			case p.strict():
				m, _ := child.(map[string]any)
				walk(joinKey(path, k), p, m)
			}
		}
	}
	walk("", schema, readYAMLFile(t, filepath.Join(chartDir, "values.yaml")))
}

// TestSchemaKnowsConfigKeys keeps the chart's schema of config in step with
// chaosd's config types: the strict parts of the schema must list exactly
// the koanf keys of the matching Go struct, so a new config field is not
// rejected by helm, and a removed one is.
func TestSchemaKnowsConfigKeys(t *testing.T) {
	cfg := readSchema(t).Properties["config"]
	tests := []struct {
		name   string
		schema *schemaNode
		typ    reflect.Type
	}{
		{"config", cfg, reflect.TypeFor[config.Config]()},
		{"config.windows", cfg.Properties["windows"], reflect.TypeFor[config.Windows]()},
		{"config.guard", cfg.Properties["guard"], reflect.TypeFor[config.Guard]()},
		{"config.experiments[]", cfg.Properties["experiments"].Items, reflect.TypeFor[config.Experiment]()},
		{"config.notifications", cfg.Properties["notifications"], reflect.TypeFor[config.Notifications]()},
		{"config.notifications.slack", cfg.Properties["notifications"].Properties["slack"], reflect.TypeFor[config.SlackNotification]()},
		{"config.notifications.webhook", cfg.Properties["notifications"].Properties["webhook"], reflect.TypeFor[config.WebhookNotification]()},
		{"config.notifications.alertmanager", cfg.Properties["notifications"].Properties["alertmanager"], reflect.TypeFor[config.AlertmanagerNotification]()},
		{"config.tracing", cfg.Properties["tracing"], reflect.TypeFor[config.Tracing]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.schema == nil || !tt.schema.strict() {
				t.Fatalf("schema of %s is missing or not strict", tt.name)
			}
			var want []string
			for f := range tt.typ.Fields() {
				if tag := f.Tag.Get("koanf"); f.IsExported() && tag != "" && tag != "-" {
					want = append(want, tag)
				}
			}
			slices.Sort(want)
			got := slices.Sorted(maps.Keys(tt.schema.Properties))
			if !slices.Equal(got, want) {
				t.Errorf("schema keys %v\n  Go keys %v", got, want)
			}
		})
	}
}
