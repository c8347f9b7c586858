package configdoc

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// probeTop is a config using every block, so that every default has
// somewhere to be filled in; experiments are appended.
const probeTop = `guard:
  alertmanager: {url: http://alertmanager.example:9093}
  prometheus: {url: http://prometheus.example:9090, checks: [{name: up, expr: up, min: 1}]}
policies:
  probe: {}
notifications:
  slack: {webhookURLEnv: SLACK_URL}
  webhook: {urlEnv: WEBHOOK_URL}
  alertmanager: {raiseOnWeakness: true}
experiments:
`

// learnDefaults parses a probe config with one experiment per target kind
// and action, and reads back every value config.Parse filled in that the
// probe did not write. Values that differ by target kind or action type
// are listed with them.
func learnDefaults(f *facts) (map[string]string, error) {
	doc := probeTop
	n := 0
	for _, k := range f.kinds {
		for _, t := range config.TargetActions(k) {
			n++
			doc += probeExperiment(fmt.Sprintf("e%d", n), k, t, "", "", f.holds[t] == "yes")
		}
	}
	cfg, ferrs, err := parseProbe(doc)
	if err != nil || len(ferrs) > 0 {
		return nil, fmt.Errorf("the defaults probe config is invalid (%v %v): update configdoc", err, ferrs)
	}
	written, err := yamlValues([]byte(doc), map[string]bool{"policies": true})
	if err != nil {
		return nil, err
	}
	found := map[string][]qualified{}
	walkValues(reflect.ValueOf(*cfg), "", func(string) string { return "" }, found)
	out := map[string]string{}
	for path, vals := range found {
		if _, ok := written[path]; !ok {
			out[path] = summarize(vals, len(cfg.Experiments))
		}
	}
	for path, text := range behaviourDefaults(cfg) {
		out[path] = text
	}
	return out, nil
}

// behaviourDefaults are defaults that live in code rather than in a
// filled-in field: each is computed here from that code.
func behaviourDefaults(cfg *config.Config) map[string]string {
	out := map[string]string{}
	if g := cfg.Guard; g.PollInterval > 0 && g.UnknownAfter%g.PollInterval == 0 {
		out["guard.unknownAfter"] = fmt.Sprintf("%d × `guard.pollInterval`", g.UnknownAfter/g.PollInterval)
	}
	if am := cfg.Notifications.Alertmanager; am != nil && am.URL == cfg.Guard.Alertmanager.URL {
		out["notifications.alertmanager.url"] = "`guard.alertmanager.url`"
	}
	out["policies."+mapKey+".respectPodDisruptionBudgets"] = strconv.FormatBool(config.Policy{}.RespectsPDBs())
	if abort, _ := (config.Action{Type: config.ActionHTTPAbort}).HTTPFault(); abort != nil {
		out["experiments[].action.percent"] = strconv.FormatFloat(abort.Percent, 'f', -1, 64)
	}
	if (config.Experiment{}).IsDryRun(true) && !(config.Experiment{}).IsDryRun(false) {
		out["experiments[].dryRun"] = "top-level `dryRun`"
	}
	return out
}

type qualified struct{ value, qual string }

// walkValues records every non-zero leaf value under its key path. q names
// what a value belongs to (the target kind or action type of its
// experiment).
func walkValues(v reflect.Value, path string, q func(string) string, out map[string][]qualified) {
	if v.Kind() == reflect.Pointer {
		if !v.IsNil() {
			walkValues(v.Elem(), path, q, out)
		}
		return
	}
	if isLeaf(v.Type()) {
		if !v.IsZero() {
			out[path] = append(out[path], qualified{formatValue(v), q(path)})
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if tag := f.Tag.Get("koanf"); tag != "" && f.IsExported() {
				walkValues(v.Field(i), join(path, tag), q, out)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			qi := q
			if e, ok := v.Index(i).Interface().(config.Experiment); ok {
				qi = experimentQualifier(e)
			}
			walkValues(v.Index(i), path+"[]", qi, out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkValues(v.MapIndex(k), path+"."+mapKey, q, out)
		}
	}
}

func experimentQualifier(e config.Experiment) func(string) string {
	return func(path string) string {
		switch {
		case strings.HasPrefix(path, "experiments[].target."):
			return string(e.Target.Kind)
		case strings.HasPrefix(path, "experiments[].action."):
			return string(e.Action.Type)
		}
		return ""
	}
}

// summarize writes one value, or each value with what it applies to.
func summarize(vals []qualified, experiments int) string {
	var order []string
	quals := map[string][]string{}
	for _, v := range vals {
		if !slices.Contains(order, v.value) {
			order = append(order, v.value)
		}
		if v.qual != "" && !slices.Contains(quals[v.value], v.qual) {
			quals[v.value] = append(quals[v.value], v.qual)
		}
	}
	if len(order) == 1 && (len(quals[order[0]]) == 0 || len(vals) == experiments) {
		return "`" + order[0] + "`"
	}
	parts := make([]string, len(order))
	for i, val := range order {
		parts[i] = fmt.Sprintf("`%s` (%s)", val, strings.Join(quals[val], ", "))
	}
	return strings.Join(parts, "; ")
}

// formatValue writes a value as it would be written in YAML.
func formatValue(v reflect.Value) string {
	if v.Type() == durationType {
		return formatDuration(time.Duration(v.Int()))
	}
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err == nil {
			if d, err := time.ParseDuration(string(b)); err == nil {
				return formatDuration(d)
			}
			return string(b)
		}
	}
	switch v.Kind() {
	case reflect.Slice:
		items := make([]string, v.Len())
		for i := range v.Len() {
			items[i] = formatValue(v.Index(i))
		}
		return "[" + strings.Join(items, ", ") + "]"
	case reflect.Pointer:
		return formatValue(v.Elem())
	}
	return fmt.Sprint(v.Interface())
}

// formatDuration writes 1h, 10m or 1m30s, never Go's 1h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
