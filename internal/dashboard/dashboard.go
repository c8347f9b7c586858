// Package dashboard reads chaosd's Grafana dashboard (the JSON the Helm
// chart ships in charts/chaosd/dashboards/chaosd.json), checks that it is a
// well-formed dashboard, and lists every PromQL query in it with Grafana's
// template variables expanded, so tests can run each one against a real
// Prometheus.
//
// It models only the part of Grafana's dashboard schema chaosd uses; fields
// it does not know are ignored, as Grafana itself does. It never talks to
// Grafana or Prometheus.
package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Dashboard is a Grafana dashboard (schemaVersion 39 and later).
type Dashboard struct {
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	Description   string      `json:"description"`
	Tags          []string    `json:"tags"`
	SchemaVersion int         `json:"schemaVersion"`
	Refresh       string      `json:"refresh"`
	Time          TimeRange   `json:"time"`
	Annotations   Annotations `json:"annotations"`
	Templating    Templating  `json:"templating"`
	Panels        []Panel     `json:"panels"`
}

// TimeRange is the default time range, e.g. now-24h to now.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Annotations holds the dashboard's annotation queries.
type Annotations struct {
	List []Annotation `json:"list"`
}

// Annotation is one annotation query. Grafana's built-in one (BuiltIn 1)
// has no expression.
type Annotation struct {
	Name        string      `json:"name"`
	BuiltIn     int         `json:"builtIn"`
	Datasource  *Datasource `json:"datasource"`
	Enable      bool        `json:"enable"`
	Expr        string      `json:"expr"`
	Step        string      `json:"step"`
	TitleFormat string      `json:"titleFormat"`
	TextFormat  string      `json:"textFormat"`
	TagKeys     string      `json:"tagKeys"`
	IconColor   string      `json:"iconColor"`
}

// Templating holds the dashboard's variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is a template variable ($name in queries).
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"` // datasource, query, custom, interval, ...
	Datasource *Datasource     `json:"datasource"`
	Query      json.RawMessage `json:"query"` // a string, or {"query": "...", "refId": ...}
	Definition string          `json:"definition"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Multi      bool            `json:"multi"`
}

// Datasource references a data source by type and uid; the uid may be a
// variable such as ${datasource}.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is one panel; rows may nest panels when collapsed.
type Panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	GridPos     GridPos     `json:"gridPos"`
	Datasource  *Datasource `json:"datasource"`
	Targets     []Target    `json:"targets"`
	Collapsed   bool        `json:"collapsed"`
	Panels      []Panel     `json:"panels"`
}

// GridPos places a panel on Grafana's 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Target is one query of a panel.
type Target struct {
	RefID        string      `json:"refId"`
	Datasource   *Datasource `json:"datasource"`
	Expr         string      `json:"expr"`
	LegendFormat string      `json:"legendFormat"`
	Instant      bool        `json:"instant"`
	Range        *bool       `json:"range"`
	Format       string      `json:"format"`
}

// gridColumns is the width of Grafana's grid.
const gridColumns = 24

// Load reads and checks a dashboard file.
func Load(path string) (*Dashboard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read dashboard: %w", err)
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse decodes a dashboard and returns every problem Validate finds.
func Parse(data []byte) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode dashboard: %w", err)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Validate reports, all at once, what would make Grafana reject the
// dashboard or show an empty or broken panel: missing identity, duplicate
// panel ids or refIds, panels off the grid or overlapping, panels without
// queries, and variables used but never defined.
func (d *Dashboard) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d.UID == "" {
		add("uid: required (Grafana links and provisioning key on it)")
	}
	if d.Title == "" {
		add("title: required")
	}
	if d.SchemaVersion < 36 {
		add("schemaVersion: %d, want 36 or later (datasource references by uid)", d.SchemaVersion)
	}
	ids := map[int]string{}
	var placed []Panel
	for _, p := range d.AllPanels() {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			add("%s: id must be positive", where)
		} else if other, dup := ids[p.ID]; dup {
			add("%s: id also used by %q", where, other)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			add("%s: title required", where)
		}
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > gridColumns {
			add("%s: gridPos %+v is not on the %d-column grid", where, g, gridColumns)
		}
		for _, q := range placed {
			if overlaps(p.GridPos, q.GridPos) {
				add("%s: overlaps panel %d %q", where, q.ID, q.Title)
			}
		}
		placed = append(placed, p)
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			add("%s: no queries", where)
		}
		refs := map[string]bool{}
		for i, t := range p.Targets {
			if t.RefID == "" || refs[t.RefID] {
				add("%s: targets[%d]: refId %q missing or duplicated", where, i, t.RefID)
			}
			refs[t.RefID] = true
			if strings.TrimSpace(t.Expr) == "" {
				add("%s: targets[%d]: empty expr", where, i)
			}
		}
	}
	for i, a := range d.Annotations.List {
		if a.BuiltIn == 0 && strings.TrimSpace(a.Expr) == "" {
			add("annotations.list[%d] %q: empty expr", i, a.Name)
		}
	}
	defined := map[string]bool{}
	for _, v := range d.Templating.List {
		if v.Name == "" || defined[v.Name] {
			add("templating: variable name %q missing or duplicated", v.Name)
		}
		defined[v.Name] = true
	}
	for _, q := range d.Queries(nil) {
		for _, name := range variablesIn(q.Raw) {
			if !defined[name] && !strings.HasPrefix(name, "__") {
				add("%s: uses $%s, which is not a template variable", q.Where, name)
			}
		}
	}
	for _, p := range d.AllPanels() {
		for _, ds := range datasourcesOf(p) {
			for _, name := range variablesIn(ds.UID) {
				if !defined[name] {
					add("panel %d %q: datasource uses $%s, which is not a template variable", p.ID, p.Title, name)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// AllPanels returns the panels, with those nested in collapsed rows, in
// order.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

func datasourcesOf(p Panel) []Datasource {
	var out []Datasource
	if p.Datasource != nil {
		out = append(out, *p.Datasource)
	}
	for _, t := range p.Targets {
		if t.Datasource != nil {
			out = append(out, *t.Datasource)
		}
	}
	return out
}

func overlaps(a, b GridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// Query is one PromQL expression of the dashboard.
type Query struct {
	// Where names it for people: "panel 2 \"Active faults\" A".
	Where string
	// Raw is the expression as written, with Grafana variables.
	Raw string
	// Expr is Raw with the variables expanded (see Expand).
	Expr string
	// Instant is true for instant queries (stat and table panels that ask
	// for one value); false for range queries.
	Instant bool
}

// labelValuesCall matches Grafana's label_values(selector, label) and
// label_values(label) variable queries.
var labelValuesCall = regexp.MustCompile(`^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)

// Queries lists every PromQL expression: panel targets, annotation queries
// and the series selectors of label_values() variable queries, with
// variables expanded from vars (see Expand).
func (d *Dashboard) Queries(vars map[string]string) []Query {
	var out []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			out = append(out, Query{Where: fmt.Sprintf("panel %d %q %s", p.ID, p.Title, t.RefID), Raw: t.Expr,
				Instant: t.Instant && (t.Range == nil || !*t.Range)})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			out = append(out, Query{Where: fmt.Sprintf("annotation %q", a.Name), Raw: a.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if m := labelValuesCall.FindStringSubmatch(v.queryString()); m != nil && m[1] != "" {
			out = append(out, Query{Where: fmt.Sprintf("variable $%s", v.Name), Raw: m[1], Instant: true})
		}
	}
	for i := range out {
		out[i].Expr = Expand(out[i].Raw, vars)
	}
	return out
}

// queryString returns a variable's query whether Grafana stored it as a
// string or as an object.
func (v Variable) queryString() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var obj struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(v.Query, &obj) == nil && obj.Query != "" {
		return obj.Query
	}
	return v.Definition
}

// variableRef matches $name, ${name}, ${name:format} and [[name]].
var variableRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)

func variablesIn(s string) []string {
	seen := map[string]bool{}
	for _, m := range variableRef.FindAllStringSubmatch(s, -1) {
		seen[m[1]+m[2]+m[3]] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DefaultVars are the values Grafana would substitute with every "All"
// option selected and a short range, for running the queries directly
// against Prometheus.
func (d *Dashboard) DefaultVars() map[string]string {
	vars := map[string]string{
		"__rate_interval": "1m",
		"__interval":      "15s",
		"__range":         "1h",
	}
	for _, v := range d.Templating.List {
		if v.IncludeAll {
			all := v.AllValue
			if all == "" {
				all = ".*"
			}
			vars[v.Name] = all
		}
	}
	return vars
}

// Expand replaces Grafana variable references in expr with vars; unknown
// ones are left as they are (Prometheus will then reject the query).
func Expand(expr string, vars map[string]string) string {
	return variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		if v, ok := vars[m[1]+m[2]+m[3]]; ok {
			return v
		}
		return ref
	})
}
