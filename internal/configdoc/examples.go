package configdoc

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// extraExamples are examples for keys config/full.yaml does not use, as
// YAML values. Generation fails when one is missing, no longer needed, or
// not valid YAML, so the list stays exactly as long as it must.
var extraExamples = map[string]string{
	"guard.prometheus.checks[].max":                     "0.05",
	"guard.timeout":                                     "2s",
	"guard.unknownAfter":                                "5s",
	"guard.unguarded":                                   "true",
	"policies.<name>.allowNamespaces":                   "[kube-system]",
	"policies.<name>.allowControlPlane":                 "true",
	"experiments[].dryRun":                              "true",
	"experiments[].disabled":                            "true",
	"experiments[].target.namespaceSelector":            "team=checkout",
	"experiments[].target.optIn":                        "true",
	"experiments[].target.ownerKinds":                   "[Deployment, StatefulSet]",
	"experiments[].target.excludeOwnerKinds":            "[DaemonSet]",
	"experiments[].action.ignoreDaemonSets":             "false",
	"experiments[].action.rate":                         "100",
	"experiments[].action.headers":                      `{X-Chaos: "true"}`,
	"experiments[].action.body":                         `'{"name": "chaos"}'`,
	"notifications.slack.webhookURLEnv":                 "SLACK_WEBHOOK_URL",
	"notifications.webhook.url":                         "http://hooks.internal/chaosd",
	"notifications.webhook.urlEnv":                      "CHAOSD_WEBHOOK_URL",
	"notifications.alertmanager.url":                    "http://alertmanager.monitoring:9093",
	"guard.slis[].tolerance.max":                        "0.05",
	"guard.slis[].tolerance.min":                        "0.99",
	"guard.slis[].tolerance.maxDecrease":                "0.01",
	"guard.slis[].tolerance.maxDecreasePercent":         "50",
	"experiments[].slis[].tolerance.maxIncrease":        "0.01",
	"experiments[].slis[].tolerance.maxIncreasePercent": "50",
	"journal.maxBytes":                                  "104857600",
	"experiments[].reach.runWhenUnreachable":            "true",
	"experiments[].landing.disabled":                    "true",
	"experiments[].landing.query":                       `'sum(increase(grpc_client_handled_total{grpc_code!="OK"}[{{.window}}]))'`,
	"experiments[].landing.trafficQuery":                `'sum(increase(grpc_client_handled_total[{{.window}}]))'`,
}

// examples returns "key: value" per key path: the first use in full.yaml,
// else the extra example.
func examples(full []byte, keys []key, mapPaths map[string]bool) (map[string]string, error) {
	found, err := yamlValues(full, mapPaths)
	if err != nil {
		return nil, fmt.Errorf("read config/full.yaml: %w", err)
	}
	out := map[string]string{}
	for _, k := range keys {
		node, inFull := found[k.path]
		extra, hasExtra := extraExamples[k.path]
		switch {
		case inFull && hasExtra:
			return nil, fmt.Errorf("config/full.yaml now uses %s: remove it from extraExamples in configdoc", k.path)
		case hasExtra:
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(extra), &n); err != nil || len(n.Content) == 0 {
				return nil, fmt.Errorf("extraExamples[%s] is not a YAML value: %v", k.path, err)
			}
			node = n.Content[0]
		case !inFull:
			return nil, fmt.Errorf("no example for %s: use it in config/full.yaml or add it to extraExamples in configdoc", k.path)
		}
		text, err := flow(node)
		if err != nil {
			return nil, err
		}
		out[k.path] = k.name + ": " + text
	}
	for path := range extraExamples {
		if _, ok := out[path]; !ok {
			return nil, fmt.Errorf("extraExamples[%s] is not a config key", path)
		}
	}
	return out, nil
}

// yamlValues maps every key path of a YAML document to its value node, the
// first occurrence winning. Keys of the mappings at mapPaths are user
// names and become <name>.
func yamlValues(data []byte, mapPaths map[string]bool) (map[string]*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	out := map[string]*yaml.Node{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				name := n.Content[i].Value
				if mapPaths[path] {
					name = mapKey
				}
				p := join(path, name)
				if _, seen := out[p]; !seen {
					out[p] = n.Content[i+1]
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		}
	}
	walk(&root, "")
	return out, nil
}

// flow writes a value node on one line.
func flow(n *yaml.Node) (string, error) {
	c := flowCopy(n)
	out, err := yaml.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("render example: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func flowCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
		c.Style = yaml.FlowStyle
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = flowCopy(child)
	}
	return &c
}
