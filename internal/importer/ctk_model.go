package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ctkExperiment is the part of a Chaos Toolkit experiment an import reads.
// Values under arguments, configuration and tolerance stay untyped: they are
// whatever the extension's Python function accepts.
type ctkExperiment struct {
	Title         string         `yaml:"title" json:"title"`
	Configuration map[string]any `yaml:"configuration" json:"configuration"`
	Secrets       map[string]any `yaml:"secrets" json:"secrets"`
	Controls      []any          `yaml:"controls" json:"controls"`
	Extensions    []any          `yaml:"extensions" json:"extensions"`
	SteadyState   *struct {
		Probes []ctkActivity `yaml:"probes" json:"probes"`
	} `yaml:"steady-state-hypothesis" json:"steady-state-hypothesis"`
	Method    []ctkActivity `yaml:"method" json:"method"`
	Rollbacks []ctkActivity `yaml:"rollbacks" json:"rollbacks"`
}

type ctkActivity struct {
	Type      string       `yaml:"type" json:"type"`
	Name      string       `yaml:"name" json:"name"`
	Ref       string       `yaml:"ref" json:"ref"`
	Tolerance any          `yaml:"tolerance" json:"tolerance"`
	Provider  *ctkProvider `yaml:"provider" json:"provider"`
	Pauses    *struct {
		Before any `yaml:"before" json:"before"`
		After  any `yaml:"after" json:"after"`
	} `yaml:"pauses" json:"pauses"`
}

type ctkProvider struct {
	Type      string `yaml:"type" json:"type"`
	Module    string `yaml:"module" json:"module"`
	Func      string `yaml:"func" json:"func"`
	Path      string `yaml:"path" json:"path"`
	URL       string `yaml:"url" json:"url"`
	Arguments any    `yaml:"arguments" json:"arguments"`
}

// function names the provider the way its docs do: module.func for Python,
// else the provider type and what it runs.
func (p *ctkProvider) function() string {
	switch {
	case p == nil:
		return "no provider"
	case p.Type == "python":
		return p.Module + "." + p.Func
	case p.Type == "process":
		return fmt.Sprintf("process provider %q", p.Path)
	case p.Type == "http":
		return fmt.Sprintf("http provider %q", p.URL)
	}
	return fmt.Sprintf("%s provider", p.Type)
}

func (p *ctkProvider) args() map[string]any {
	if p == nil {
		return nil
	}
	m, _ := p.Arguments.(map[string]any)
	return m
}

// decodeExperiment reads YAML or JSON. JSON is decoded as JSON because YAML
// rejects the tab indentation JSON files often have.
func decodeExperiment(f File) (ctkExperiment, error) {
	var exp ctkExperiment
	trimmed := bytes.TrimSpace(f.Data)
	var err error
	if bytes.HasPrefix(trimmed, []byte("{")) {
		err = json.Unmarshal(trimmed, &exp)
	} else {
		err = yaml.Unmarshal(f.Data, &exp)
	}
	if err != nil {
		return exp, fmt.Errorf("decode Chaos Toolkit experiment %s: %w", f.Name, err)
	}
	if len(exp.Method) == 0 && exp.SteadyState == nil {
		return exp, fmt.Errorf("decode Chaos Toolkit experiment %s: no method and no steady-state-hypothesis: not an experiment", f.Name)
	}
	return exp, nil
}

// variables resolves an experiment's configuration section: plain values
// as they are, `type: env` entries from the environment or their default.
// Entries that resolve to nothing are left out; using one is reported then.
type variables struct {
	values map[string]any
	// from says where each value came from, for notes.
	from map[string]string
}

func resolveConfiguration(conf map[string]any, lookup func(string) (string, bool)) variables {
	v := variables{values: map[string]any{}, from: map[string]string{}}
	for name, raw := range conf {
		entry, isMap := raw.(map[string]any)
		if !isMap || entry["type"] != "env" {
			v.values[name] = raw
			continue
		}
		key, _ := entry["key"].(string)
		if val, ok := lookup(key); ok {
			v.values[name] = val
			v.from[name] = "environment variable " + key
		} else if def, ok := entry["default"]; ok {
			v.values[name] = def
			v.from[name] = "the default of environment variable " + key + " (unset)"
		}
	}
	return v
}

var varRef = regexp.MustCompile(`\$\{([^}]+)\}`)

// substitute replaces ${name} in every string of v, as Chaos Toolkit does
// before calling a provider. A string that is a single reference takes the
// variable's own type. Names that resolve to nothing are returned.
func (vars variables) substitute(v any) (any, []string) {
	var missing []string
	var walk func(any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case string:
			if m := varRef.FindStringSubmatch(t); m != nil && m[0] == t {
				if val, ok := vars.values[m[1]]; ok {
					return val
				}
				missing = append(missing, m[1])
				return t
			}
			return varRef.ReplaceAllStringFunc(t, func(ref string) string {
				name := strings.TrimSuffix(strings.TrimPrefix(ref, "${"), "}")
				if val, ok := vars.values[name]; ok {
					return fmt.Sprint(val)
				}
				missing = append(missing, name)
				return ref
			})
		case map[string]any:
			out := make(map[string]any, len(t))
			for k, x := range t {
				out[k] = walk(x)
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				out[i] = walk(x)
			}
			return out
		}
		return v
	}
	return walk(v), missing
}
