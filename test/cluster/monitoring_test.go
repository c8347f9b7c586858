package cluster

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestPrometheusConfig(t *testing.T) {
	targets := []ScrapeTarget{
		{Job: "chaosd", Addresses: []string{"127.0.0.1:8080"}},
		{Job: "demo: odd name", Addresses: []string{"127.0.0.1:9"}, MetricsPath: "/m"},
	}
	out, err := prometheusConfig("127.0.0.1:9090", targets, "/d/rules.yml", "127.0.0.1:9093")
	if err != nil {
		t.Fatal(err)
	}
	var got promConfig
	if err := yaml.UnmarshalStrict(out, &got); err != nil {
		t.Fatalf("rendered config does not parse back: %v\n%s", err, out)
	}
	if got.Global.ScrapeInterval != "1s" || got.Global.EvaluationInterval != "1s" {
		t.Errorf("intervals = %+v, want 1s", got.Global)
	}
	if len(got.RuleFiles) != 1 || got.RuleFiles[0] != "/d/rules.yml" {
		t.Errorf("rule_files = %v", got.RuleFiles)
	}
	if got.Alerting == nil || got.Alerting.Alertmanagers[0].StaticConfigs[0].Targets[0] != "127.0.0.1:9093" {
		t.Errorf("alerting = %+v", got.Alerting)
	}
	jobs := map[string]promScrapeConfig{}
	for _, sc := range got.ScrapeConfigs {
		jobs[sc.JobName] = sc
	}
	if len(jobs) != 3 || jobs["demo: odd name"].MetricsPath != "/m" || jobs["chaosd"].StaticConfigs[0].Targets[0] != "127.0.0.1:8080" {
		t.Errorf("scrape_configs = %+v", got.ScrapeConfigs)
	}
}

func TestPrometheusConfigWithoutAlertmanager(t *testing.T) {
	out, err := prometheusConfig("127.0.0.1:9090", nil, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "alerting") || strings.Contains(string(out), "rule_files") {
		t.Errorf("config mentions alerting or rules:\n%s", out)
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	tests := []struct {
		name    string
		webhook string
	}{
		{name: "no receiver config", webhook: ""},
		{name: "webhook", webhook: "http://127.0.0.1:5001/hook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := alertmanagerConfig(tt.webhook)
			if err != nil {
				t.Fatal(err)
			}
			var got amConfig
			if err := yaml.UnmarshalStrict(out, &got); err != nil {
				t.Fatalf("rendered config does not parse back: %v\n%s", err, out)
			}
			if got.Route.Receiver != "default" || got.Route.GroupWait != "1s" || got.Receivers[0].Name != "default" {
				t.Errorf("config = %+v", got)
			}
			hooks := got.Receivers[0].WebhookConfigs
			if tt.webhook == "" && len(hooks) != 0 || tt.webhook != "" && (len(hooks) != 1 || hooks[0].URL != tt.webhook) {
				t.Errorf("webhook_configs = %+v, want %q", hooks, tt.webhook)
			}
		})
	}
}

func TestAlertmanagerArgsDisableClustering(t *testing.T) {
	args := alertmanagerArgs(layout{dir: "/d", alertmanagerPort: 1234}, "/d/am.yml")
	if !hasArg(args, "--cluster.listen-address=") || !hasArg(args, "--web.listen-address=127.0.0.1:1234") {
		t.Errorf("args = %v", args)
	}
}

func TestRulesOrEmpty(t *testing.T) {
	if got := rulesOrEmpty(""); got != "groups: []\n" {
		t.Errorf("rulesOrEmpty(\"\") = %q", got)
	}
	if got := rulesOrEmpty("groups: [x]"); got != "groups: [x]" {
		t.Errorf("rulesOrEmpty kept %q", got)
	}
}

func hasArg(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}
