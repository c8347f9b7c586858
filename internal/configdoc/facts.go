package configdoc

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chaosd/chaosd/internal/config"
)

// facts are what config.Parse itself answers when asked with probe
// configs, so the document states what validation enforces.
type facts struct {
	kinds []config.TargetKind
	types []config.ActionType
	// holds: "yes" when the action holds a fault and needs a duration.
	holds map[config.ActionType]string
	// targetFields lists the optional target fields each kind accepts.
	targetFields map[config.TargetKind][]string
}

// The least a probe experiment needs besides kind and type.
var (
	probeTarget = map[config.TargetKind]string{config.TargetURL: "url: http://example.com"}
	probeAction = map[config.ActionType]string{
		config.ActionHTTPAbort: "status: 500",
		config.ActionHTTPDelay: "delay: 1s",
		config.ActionHTTPFault: "abort: {status: 500, percent: 50}",
	}
	// probeTargetValues sets each optional target field in turn.
	probeTargetValues = map[string]string{
		"namespaces": "[demo]", "namespaceSelector": "team=a", "selector": "app=a", "optIn": "true",
		"ownerKinds": "[Deployment]", "excludeOwnerKinds": "[Job]", "podNamespace": "demo", "label": "zone", "url": "http://example.com",
	}
)

// probeExperiment is one experiment as a YAML list item.
func probeExperiment(name string, kind config.TargetKind, typ config.ActionType, target, action string, duration bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    schedule: \"@every 1h\"\n", name)
	fmt.Fprintf(&b, "    target: {%s}\n", joinFields("kind: "+string(kind), probeTarget[kind], target))
	fmt.Fprintf(&b, "    action: {%s}\n", joinFields("type: "+string(typ), probeAction[typ], action))
	if duration {
		b.WriteString("    duration: 1m\n")
	}
	return b.String()
}

func joinFields(fields ...string) string {
	return strings.Join(slices.DeleteFunc(fields, func(s string) bool { return s == "" }), ", ")
}

func parseProbe(doc string) (*config.Config, []*config.FieldError, error) {
	cfg, err := config.Parse("probe", []byte(doc))
	if err == nil {
		return cfg, nil, nil
	}
	var errs *config.Errors
	if !errors.As(err, &errs) {
		return nil, nil, err
	}
	return nil, errs.List, nil
}

func learnFacts(src *source) (*facts, error) {
	f := &facts{holds: map[config.ActionType]string{}, targetFields: map[config.TargetKind][]string{}}
	for _, k := range src.enums["TargetKind"] {
		f.kinds = append(f.kinds, config.TargetKind(k))
	}
	for _, t := range src.enums["ActionType"] {
		f.types = append(f.types, config.ActionType(t))
	}
	for _, t := range f.types {
		kind, ok := f.kindFor(t)
		if !ok {
			return nil, fmt.Errorf("action %s fits no target kind", t)
		}
		h, err := holds(kind, t, "")
		if err != nil {
			return nil, err
		}
		f.holds[t] = map[bool]string{true: "yes", false: "no"}[h]
		if !h && slices.Contains(config.ActionFields(t), "restore") {
			if withRestore, err := holds(kind, t, "restore: true"); err == nil && withRestore {
				f.holds[t] = "with `restore: true`"
			}
		}
	}
	for _, k := range f.kinds {
		fields, err := targetFields(k)
		if err != nil {
			return nil, err
		}
		f.targetFields[k] = fields
	}
	return f, nil
}

func (f *facts) kindFor(t config.ActionType) (config.TargetKind, bool) {
	for _, k := range f.kinds {
		if slices.Contains(config.TargetActions(k), t) {
			return k, true
		}
	}
	return "", false
}

// holds reports whether an action needs a duration: validation accepts
// the experiment with one, or without one.
func holds(kind config.TargetKind, t config.ActionType, action string) (bool, error) {
	for _, withDuration := range []bool{true, false} {
		_, ferrs, err := parseProbe("experiments:\n" + probeExperiment("probe", kind, t, "", action, withDuration))
		if err != nil {
			return false, err
		}
		if len(ferrs) == 0 {
			return withDuration, nil
		}
	}
	return false, fmt.Errorf("no probe experiment for %s on %s validates: update probeAction in configdoc", t, kind)
}

// targetFields sets each optional target field on a valid experiment of the
// kind and keeps those validation accepts.
func targetFields(kind config.TargetKind) ([]string, error) {
	t := config.TargetActions(kind)[0]
	duration, err := holds(kind, t, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, field := range targetFieldNames() {
		value, ok := probeTargetValues[field]
		if !ok {
			return nil, fmt.Errorf("target field %s has no probe value: add one to probeTargetValues in configdoc", field)
		}
		extra := field + ": " + value
		if strings.HasPrefix(probeTarget[kind], field+":") {
			out = append(out, field) // required for the kind
			continue
		}
		_, ferrs, err := parseProbe("experiments:\n" + probeExperiment("probe", kind, t, extra, "", duration))
		if err != nil {
			return nil, err
		}
		if len(ferrs) == 0 {
			out = append(out, field)
			continue
		}
		for _, fe := range ferrs {
			if fe.Path != "experiments[0].target."+field || !strings.Contains(fe.Msg, "does not apply") {
				return nil, fmt.Errorf("probing target field %s on %s: unexpected problem %s: %s", field, kind, fe.Path, fe.Msg)
			}
		}
	}
	return out, nil
}

// targetFieldNames are the optional keys of a target: all but kind and mode.
func targetFieldNames() []string {
	var out []string
	for _, s := range sections() {
		if s.path != "experiments[].target" {
			continue
		}
		for _, k := range s.keys {
			if k.name != "kind" && k.name != "mode" {
				out = append(out, k.name)
			}
		}
	}
	return out
}
