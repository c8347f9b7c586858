package dashboard

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// chartDashboard is the file the Helm chart ships.
var chartDashboard = filepath.Join("..", "..", "charts", "chaosd", "dashboards", "chaosd.json")

// TestChartDashboard: the shipped dashboard is valid and shows what an
// operator needs. Whether every query runs is proven against a real
// Prometheus by the e2e test TestReportingWeaknessFindings.
func TestChartDashboard(t *testing.T) {
	d, err := Load(chartDashboard)
	if err != nil {
		t.Fatal(err)
	}
	if d.UID != "chaosd" {
		t.Errorf("uid %q, want chaosd (links and provisioning key on it)", d.UID)
	}
	titles := map[string]bool{}
	for _, p := range d.AllPanels() {
		titles[p.Title] = true
	}
	for _, want := range []string{"State", "Active faults", "Runs by verdict (per hour)", "Pause state", "Halt latency", "Next runs", "Config", "Resiliency score"} {
		if !titles[want] {
			t.Errorf("no panel %q", want)
		}
	}
	var annotations []string
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			annotations = append(annotations, a.Expr)
		}
	}
	joined := strings.Join(annotations, "\n")
	for _, metric := range []string{"chaosd_injections_total", "chaosd_reverts_total"} {
		if !strings.Contains(joined, metric) {
			t.Errorf("no annotation marks changes of %s", metric)
		}
	}
	for _, q := range d.Queries(d.DefaultVars()) {
		if strings.Contains(q.Expr, "$") {
			t.Errorf("%s: variable left after expansion: %s", q.Where, q.Expr)
		}
		if !strings.Contains(q.Raw, "chaosd_") {
			t.Errorf("%s: queries no chaosd metric: %s", q.Where, q.Raw)
		}
		if !strings.Contains(q.Where, "variable") && !strings.Contains(q.Raw, `namespace=~"$namespace"`) {
			t.Errorf("%s: ignores the namespace variable: %s", q.Where, q.Raw)
		}
	}
}

func TestValidate(t *testing.T) {
	const valid = `{"uid":"u","title":"t","schemaVersion":39,
  "templating":{"list":[{"name":"datasource","type":"datasource"},{"name":"ns","type":"query","includeAll":true,"query":"label_values(up, namespace)"}]},
  "panels":[%s]}`
	panel := func(id int, x, y, w int, expr string) string {
		return `{"id":` + strconv.Itoa(id) + `,"type":"stat","title":"p` + strconv.Itoa(id) + `","gridPos":{"h":4,"w":` + strconv.Itoa(w) + `,"x":` + strconv.Itoa(x) + `,"y":` + strconv.Itoa(y) +
			`},"datasource":{"type":"prometheus","uid":"${datasource}"},"targets":[{"refId":"A","expr":"` + expr + `"}]}`
	}
	tests := []struct {
		name   string
		panels string
		want   []string // substrings of the error; none means valid
	}{
		{"valid", panel(1, 0, 0, 12, `up{namespace=~\"$ns\"}`) + "," + panel(2, 12, 0, 12, "rate(up[$__rate_interval])"), nil},
		{"duplicate id", panel(1, 0, 0, 12, "up") + "," + panel(1, 12, 0, 12, "up"), []string{"id also used"}},
		{"overlap", panel(1, 0, 0, 12, "up") + "," + panel(2, 6, 2, 12, "up"), []string{"overlaps panel 1"}},
		{"off the grid", panel(1, 20, 0, 12, "up"), []string{"not on the 24-column grid"}},
		{"undefined variable", panel(1, 0, 0, 12, `up{job=\"$job\"}`), []string{"uses $job"}},
		{"empty expr", panel(1, 0, 0, 12, " "), []string{"empty expr"}},
		{"every problem at once", panel(0, 0, 0, 30, "$x"), []string{"id must be positive", "not on the", "uses $x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(valid, "%s", tt.panels, 1)))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Parse([]byte(`{"uid":`)); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func TestQueriesExpandVariables(t *testing.T) {
	d, err := Parse([]byte(`{"uid":"u","title":"t","schemaVersion":39,
  "annotations":{"list":[{"builtIn":1,"name":"Annotations & Alerts"},{"name":"inj","expr":"increase(x_total{ns=~\"${ns}\"}[$__rate_interval]) > 0"}]},
  "templating":{"list":[{"name":"ns","type":"query","includeAll":true,"allValue":".*","query":{"query":"label_values(x_total, ns)","refId":"v"}}]},
  "panels":[{"id":1,"type":"table","title":"t","gridPos":{"h":4,"w":24,"x":0,"y":0},
    "targets":[{"refId":"A","expr":"x_total{ns=~\"[[ns]]\"}","instant":true,"range":false}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := d.Queries(d.DefaultVars())
	want := []Query{
		{Where: `panel 1 "t" A`, Raw: `x_total{ns=~"[[ns]]"}`, Expr: `x_total{ns=~".*"}`, Instant: true},
		{Where: `annotation "inj"`, Raw: `increase(x_total{ns=~"${ns}"}[$__rate_interval]) > 0`, Expr: `increase(x_total{ns=~".*"}[1m]) > 0`},
		{Where: `variable $ns`, Raw: "x_total", Expr: "x_total", Instant: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d queries %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("query %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if e := Expand("up{a=\"$unknown\"}", nil); e != "up{a=\"$unknown\"}" {
		t.Errorf("unknown variable expanded: %s", e)
	}
}
