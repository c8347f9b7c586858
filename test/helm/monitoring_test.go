package helm

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func monitoringManifests(t *testing.T) []manifest {
	t.Helper()
	return parseManifests(t, render(t, renderOpts{files: []string{"testdata/monitoring.values.yaml"}}))
}

func TestMonitoringIsOptIn(t *testing.T) {
	ms := parseManifests(t, render(t, renderOpts{}))
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		if got := ofKind(ms, kind); len(got) > 0 {
			t.Errorf("default values render %v", got)
		}
	}
	for _, m := range ofKind(ms, "ConfigMap") {
		if strings.HasSuffix(m.Name, "-dashboard") {
			t.Errorf("default values render %s", m)
		}
	}
}

// TestServiceMonitorSelectsTheService: the ServiceMonitor's selector and port
// name match the Service, in its namespace.
func TestServiceMonitorSelectsTheService(t *testing.T) {
	ms := monitoringManifests(t)
	var svc corev1.Service
	decodeStrict(t, only(t, ms, "Service"), &svc)
	var sm struct {
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			NamespaceSelector struct {
				MatchNames []string `json:"matchNames"`
			} `json:"namespaceSelector"`
			Endpoints []struct {
				Port string `json:"port"`
				Path string `json:"path"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(only(t, ms, "ServiceMonitor").raw, &sm); err != nil {
		t.Fatal(err)
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, the Service has %q", k, v, svc.Labels[k])
		}
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{releaseNamespace}) {
		t.Errorf("namespaceSelector %v", sm.Spec.NamespaceSelector.MatchNames)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("endpoints %+v, want port %s path /metrics", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
	}
}

func TestPrometheusRuleAlerts(t *testing.T) {
	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert  string            `json:"alert"`
					Expr   string            `json:"expr"`
					For    string            `json:"for"`
					Labels map[string]string `json:"labels"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(only(t, monitoringManifests(t), "PrometheusRule").raw, &pr); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ expr, dur string }{
		"ChaosdDown":          {`absent(up{job="chaosd", namespace="chaosd"} == 1)`, "5m"},
		"ChaosdRevertFailed":  {`increase(chaosd_reverts_total{job="chaosd", namespace="chaosd", result="failed"}[10m]) > 0 or chaosd_reverts_pending{job="chaosd", namespace="chaosd"} > 0`, ""},
		"ChaosdPausedTooLong": {`max(chaosd_paused{job="chaosd", namespace="chaosd"}) > 0`, "24h"},
	}
	got := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			got[r.Alert] = true
			w, ok := want[r.Alert]
			if !ok {
				t.Errorf("unexpected alert %s", r.Alert)
				continue
			}
			if r.Expr != w.expr || r.For != w.dur {
				t.Errorf("%s: expr %q for %q, want %q for %q", r.Alert, r.Expr, r.For, w.expr, w.dur)
			}
			if r.Labels["severity"] == "" || r.Labels["team"] != "platform" {
				t.Errorf("%s: labels %v, want a severity and ruleLabels", r.Alert, r.Labels)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if !got[name] {
			t.Errorf("no alert %s", name)
		}
	}
	if got["ChaosWeaknessFound"] {
		t.Error("ChaosWeaknessFound is raised by chaosd itself, not by a rule")
	}
}

// TestDashboard: the ConfigMap carries dashboards/chaosd.json unchanged,
// labelled for the Grafana sidecar, and the JSON queries what it should.
func TestDashboard(t *testing.T) {
	var cm corev1.ConfigMap
	for _, m := range ofKind(monitoringManifests(t), "ConfigMap") {
		if m.Name == "chaosd-dashboard" {
			decodeStrict(t, m, &cm)
		}
	}
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Fatalf("dashboard ConfigMap labels %v, want grafana_dashboard: \"1\"", cm.Labels)
	}
	file, err := os.ReadFile(filepath.Join(chartDir, "dashboards", "chaosd.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.Data["chaosd.json"]; got != strings.TrimRight(string(file), "\n") {
		t.Error("the ConfigMap's chaosd.json is not dashboards/chaosd.json")
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Annotations struct {
			List []struct {
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(file, &dash); err != nil {
		t.Fatalf("dashboards/chaosd.json: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, a := range dash.Annotations.List {
		exprs = append(exprs, a.Expr)
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{
		"increase(chaosd_runs_total", "sum by (verdict)",
		"sum(chaosd_active_injections",
		"max(chaosd_paused",
		"histogram_quantile(0.99, sum by (le) (rate(chaosd_halt_latency_seconds_bucket",
		"chaosd_next_activation_timestamp_seconds",
		"increase(chaosd_injections_total", "increase(chaosd_reverts_total",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no dashboard query contains %q", want)
		}
	}
}
