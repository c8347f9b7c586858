package importer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/chaosd/chaosd/internal/config"
)

// finish renders the draft, proves chaosd accepts it and splits the
// findings into warnings and notes.
func (d *draft) finish() (Result, error) {
	out, err := d.render()
	if err != nil {
		return Result{}, err
	}
	cfg, err := config.Parse("imported config", out)
	if err != nil {
		return Result{}, fmt.Errorf("the translated config is not valid (fix the input or report a bug):\n%w", err)
	}
	// What chaosd's own validation warns about is a finding too: a source
	// interval shorter than one chaosd run would silently run less often.
	if d.warnOverruns(cfg) {
		if out, err = d.render(); err != nil {
			return Result{}, err
		}
	}
	res := Result{Config: out}
	for _, f := range d.findings {
		if f.note {
			res.Notes = append(res.Notes, f.w)
		} else {
			res.Warnings = append(res.Warnings, f.w)
		}
	}
	return res, nil
}

// warnOverruns adds a run-outlasts-schedule warning for each experiment
// whose schedule fires more often than its run lasts, and says whether it
// added any. The rendered config lists d.exps in order.
func (d *draft) warnOverruns(cfg *config.Config) bool {
	if len(cfg.Experiments) != len(d.exps) {
		return false
	}
	added := false
	for i, e := range cfg.Experiments {
		gap, run, ok := e.Overrun()
		if !ok {
			continue
		}
		d.warn(wRunOutlasts, d.exps[i], "experiment %s: activations every %s, but a chaosd run lasts at least %s (duration %s + observe %s); "+
			"chaosd skips activations while a run is active, so it acts at most once every %s, not every %s as the source did: "+
			"lower observe or lengthen the schedule if the rate matters", e.Name, gap, run, e.Duration, e.Observe, config.RunPeriod(gap, run), gap)
		added = true
	}
	return added
}

func (d *draft) render() ([]byte, error) {
	root := &node{}
	if d.timezone != "" {
		root.set("timezone", scalar(d.timezone))
	}
	if d.dryRun != nil {
		root.set("dryRun", boolean(*d.dryRun))
	}
	if w := d.windows; len(w.weekdays) > 0 || w.hours != "" || len(w.blackout) > 0 {
		win := &node{}
		if len(w.weekdays) > 0 {
			win.set("weekdays", flowSeq(w.weekdays...))
		}
		if w.hours != "" {
			win.set("hours", quoted(w.hours))
		}
		if len(w.blackout) > 0 {
			win.set("blackoutDates", flowSeq(w.blackout...))
		}
		root.set("windows", win.yaml())
	}
	root.set("guard", d.guardNode())
	if p := d.policy; p != nil && (len(p.exclude) > 0 || len(p.allow) > 0 || p.minPodAge > 0) {
		pol := &node{}
		if len(p.exclude) > 0 {
			pol.set("excludeNamespaces", flowSeq(p.exclude...))
		}
		if len(p.allow) > 0 {
			pol.set("allowNamespaces", flowSeq(p.allow...))
		}
		if p.minPodAge > 0 {
			pol.set("minPodAge", scalar(formatDuration(p.minPodAge)))
		}
		root.set("policies", (&node{}).set(config.DefaultPolicyName, pol.yaml()).yaml())
	}
	exps := &yaml.Node{Kind: yaml.SequenceNode}
	for _, e := range d.exps {
		exps.Content = append(exps.Content, d.experimentNode(e))
	}
	root.set("experiments", exps)

	doc := root.yaml()
	doc.Content[0].HeadComment = comment(d.headerLines()...)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return buf.Bytes(), nil
}

func (d *draft) headerLines() []string {
	lines := append([]string{"chaosd config imported from " + d.source + "."}, d.header...)
	var global []string
	for _, f := range d.findings {
		if f.exp == nil {
			global = append(global, f.w.String())
		}
	}
	if len(global) > 0 {
		lines = append(lines, "", "Read before running:")
		for _, g := range global {
			lines = append(lines, "- "+g)
		}
	}
	return lines
}

func (d *draft) guardNode() *yaml.Node {
	g := &node{}
	g.set("alertmanager", (&node{}).set("url", scalar(d.amURL)).yaml())
	if len(d.checks) > 0 {
		checks := &yaml.Node{Kind: yaml.SequenceNode}
		for _, c := range d.checks {
			n := &node{}
			n.set("name", scalar(c.name))
			n.set("expr", &yaml.Node{Kind: yaml.ScalarNode, Value: c.expr, Style: exprStyle(c.expr)})
			if c.min != nil {
				n.set("min", number(*c.min))
			}
			if c.max != nil {
				n.set("max", number(*c.max))
			}
			if c.empty {
				n.set("empty", boolean(true))
			}
			y := n.yaml()
			if c.from != "" {
				y.HeadComment = comment(c.from)
			}
			checks.Content = append(checks.Content, y)
		}
		g.set("prometheus", (&node{}).set("url", scalar(d.promURL)).set("checks", checks).yaml())
	}
	return g.yaml()
}

func (d *draft) experimentNode(e *draftExperiment) *yaml.Node {
	n := &node{}
	n.set("name", scalar(e.name))
	n.set("schedule", quoted(e.schedule))
	if e.jitter > 0 {
		n.set("jitter", scalar(formatDuration(e.jitter)))
	}
	n.set("target", e.target.yaml())
	n.set("action", e.action.yaml())
	if e.duration > 0 {
		n.set("duration", scalar(formatDuration(e.duration)))
	}
	if e.observe > 0 {
		n.set("observe", scalar(formatDuration(e.observe)))
	}
	if e.disabled {
		n.set("disabled", boolean(true))
	}
	y := n.yaml()
	lines := append([]string{}, e.comment...)
	for _, f := range d.findings {
		if f.exp == e {
			lines = append(lines, f.w.String())
		}
	}
	y.HeadComment = comment(lines...)
	if !d.scheduleOK || e.oneShot {
		y.Content[3].LineComment = "# one-shot: chaosd once " + e.name + " -f FILE"
	}
	return y
}

func (t draftTarget) yaml() *yaml.Node {
	n := &node{}
	n.set("kind", scalar(t.kind))
	if len(t.namespaces) > 0 {
		n.set("namespaces", flowSeq(t.namespaces...))
	}
	if t.namespaceSelector != "" {
		n.set("namespaceSelector", scalar(t.namespaceSelector))
	}
	if t.selector != "" {
		n.set("selector", scalar(t.selector))
	}
	if t.optIn {
		n.set("optIn", boolean(true))
	}
	if len(t.ownerKinds) > 0 {
		n.set("ownerKinds", flowSeq(t.ownerKinds...))
	}
	if len(t.excludeOwnerKinds) > 0 {
		n.set("excludeOwnerKinds", flowSeq(t.excludeOwnerKinds...))
	}
	if t.podNamespace != "" {
		n.set("podNamespace", scalar(t.podNamespace))
	}
	if t.mode != "" {
		n.set("mode", scalar(t.mode))
	}
	return n.flow()
}

func (a draftAction) yaml() *yaml.Node {
	n := &node{}
	n.set("type", scalar(a.typ))
	if a.gracePeriod != nil {
		n.set("gracePeriod", scalar(formatDuration(*a.gracePeriod)))
	}
	if a.status != 0 {
		n.set("status", number(float64(a.status)))
	}
	if a.delay > 0 {
		n.set("delay", scalar(formatDuration(a.delay)))
	}
	if a.percent != nil {
		n.set("percent", number(*a.percent))
	}
	if a.deleteEmptyDirData {
		n.set("deleteEmptyDirData", boolean(true))
	}
	if a.timeout > 0 {
		n.set("timeout", scalar(formatDuration(a.timeout)))
	}
	nested := false
	if ab := a.abort; ab != nil {
		n.set("abort", (&node{}).set("status", number(float64(ab.status))).set("percent", number(ab.percent)).flow())
		nested = true
	}
	if fd := a.fixedDelay; fd != nil {
		n.set("fixedDelay", (&node{}).set("delay", scalar(formatDuration(fd.delay))).set("percent", number(fd.percent)).flow())
		nested = true
	}
	if r := a.route; r != nil {
		route := (&node{}).set("host", scalar(r.host))
		if r.subset != "" {
			route.set("subset", scalar(r.subset))
		}
		n.set("route", route.flow())
		nested = true
	}
	if nested {
		return n.yaml()
	}
	return n.flow()
}

// node builds a YAML mapping whose keys keep the order they were set in.
type node struct{ content []*yaml.Node }

func (n *node) set(key string, val *yaml.Node) *node {
	n.content = append(n.content, scalar(key), val)
	return n
}

func (n *node) yaml() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: n.content}
}

func (n *node) flow() *yaml.Node {
	y := n.yaml()
	y.Style = yaml.FlowStyle
	return y
}

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// quoted is for values that read as something else unquoted (cron
// schedules starting with @ or *, hour ranges).
func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func number(f float64) *yaml.Node {
	tag := "!!float"
	if f == float64(int64(f)) {
		tag = "!!int"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: strconv.FormatFloat(f, 'f', -1, 64)}
}

func flowSeq(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, it := range items {
		n.Content = append(n.Content, scalar(it))
	}
	return n
}

// exprStyle single-quotes PromQL so its double quotes need no escaping.
func exprStyle(expr string) yaml.Style {
	if strings.Contains(expr, "'") || strings.Contains(expr, "\n") {
		return yaml.DoubleQuotedStyle
	}
	return yaml.SingleQuotedStyle
}

// comment turns lines into a YAML comment block, wrapping long lines.
func comment(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l == "" {
			out = append(out, "#")
			continue
		}
		for _, w := range wrap(l, 96) {
			out = append(out, "# "+w)
		}
	}
	return strings.Join(out, "\n")
}

func wrap(s string, width int) []string {
	var lines []string
	indent := ""
	if strings.HasPrefix(s, "- ") {
		indent = "  "
	}
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = indent + word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}
