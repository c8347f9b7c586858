package cluster

import (
	"fmt"
	"strconv"

	"sigs.k8s.io/yaml"
)

// The intervals are as short as Prometheus allows in practice, so an alert
// rule with `for: 0s` fires within about two seconds of its condition.
const (
	scrapeInterval = "1s"
	groupWait      = "1s"
	groupInterval  = "1s"
	repeatInterval = "1m"
)

type promConfig struct {
	Global        promGlobal         `json:"global"`
	RuleFiles     []string           `json:"rule_files,omitempty"`
	Alerting      *promAlerting      `json:"alerting,omitempty"`
	ScrapeConfigs []promScrapeConfig `json:"scrape_configs"`
}

type promGlobal struct {
	ScrapeInterval     string `json:"scrape_interval"`
	ScrapeTimeout      string `json:"scrape_timeout"`
	EvaluationInterval string `json:"evaluation_interval"`
}

type promAlerting struct {
	Alertmanagers []promAlertmanager `json:"alertmanagers"`
}

type promAlertmanager struct {
	StaticConfigs []promStaticConfig `json:"static_configs"`
}

type promScrapeConfig struct {
	JobName       string             `json:"job_name"`
	MetricsPath   string             `json:"metrics_path,omitempty"`
	StaticConfigs []promStaticConfig `json:"static_configs"`
}

type promStaticConfig struct {
	Targets []string `json:"targets"`
}

// prometheusConfig renders prometheus.yml: Prometheus scrapes itself and the
// given targets, evaluates rulesPath (if set) and alerts alertmanagerAddr (if
// set). Marshalling structs rather than filling a template keeps job names
// and addresses correctly quoted.
func prometheusConfig(selfAddr string, targets []ScrapeTarget, rulesPath, alertmanagerAddr string) ([]byte, error) {
	cfg := promConfig{
		Global: promGlobal{ScrapeInterval: scrapeInterval, ScrapeTimeout: scrapeInterval, EvaluationInterval: scrapeInterval},
		ScrapeConfigs: []promScrapeConfig{{
			JobName:       "prometheus",
			StaticConfigs: []promStaticConfig{{Targets: []string{selfAddr}}},
		}},
	}
	if rulesPath != "" {
		cfg.RuleFiles = []string{rulesPath}
	}
	if alertmanagerAddr != "" {
		cfg.Alerting = &promAlerting{Alertmanagers: []promAlertmanager{{
			StaticConfigs: []promStaticConfig{{Targets: []string{alertmanagerAddr}}},
		}}}
	}
	for _, t := range targets {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, promScrapeConfig{
			JobName:       t.Job,
			MetricsPath:   t.MetricsPath,
			StaticConfigs: []promStaticConfig{{Targets: t.Addresses}},
		})
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("render prometheus config: %w", err)
	}
	return out, nil
}

type amConfig struct {
	Route     amRoute      `json:"route"`
	Receivers []amReceiver `json:"receivers"`
}

type amRoute struct {
	Receiver       string   `json:"receiver"`
	GroupBy        []string `json:"group_by"`
	GroupWait      string   `json:"group_wait"`
	GroupInterval  string   `json:"group_interval"`
	RepeatInterval string   `json:"repeat_interval"`
}

type amReceiver struct {
	Name           string            `json:"name"`
	WebhookConfigs []amWebhookConfig `json:"webhook_configs,omitempty"`
}

type amWebhookConfig struct {
	URL          string `json:"url"`
	SendResolved bool   `json:"send_resolved"`
}

// alertmanagerConfig renders alertmanager.yml: one route, grouped by alert
// name, to one receiver that posts to webhookURL or, if empty, does nothing
// (alerts are still visible through the API).
func alertmanagerConfig(webhookURL string) ([]byte, error) {
	recv := amReceiver{Name: "default"}
	if webhookURL != "" {
		recv.WebhookConfigs = []amWebhookConfig{{URL: webhookURL, SendResolved: true}}
	}
	cfg := amConfig{
		Route: amRoute{
			Receiver:       recv.Name,
			GroupBy:        []string{"alertname"},
			GroupWait:      groupWait,
			GroupInterval:  groupInterval,
			RepeatInterval: repeatInterval,
		},
		Receivers: []amReceiver{recv},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("render alertmanager config: %w", err)
	}
	return out, nil
}

func prometheusArgs(l layout, configPath string) []string {
	return []string{
		"--config.file=" + configPath,
		"--storage.tsdb.path=" + l.path("prometheus", "data"),
		"--storage.tsdb.retention.time=1d",
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(l.prometheusPort),
		"--web.enable-lifecycle",
		"--log.level=warn",
	}
}

// alertmanagerArgs disables clustering (an empty --cluster.listen-address),
// which would otherwise bind 0.0.0.0:9094 and collide between clusters.
func alertmanagerArgs(l layout, configPath string) []string {
	return []string{
		"--config.file=" + configPath,
		"--storage.path=" + l.path("alertmanager", "data"),
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(l.alertmanagerPort),
		"--cluster.listen-address=",
		"--log.level=warn",
	}
}
