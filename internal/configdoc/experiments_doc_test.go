package configdoc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/chaosd/chaosd/internal/config"
)

// snippetBase is the smallest config a lone experiment is validated in.
const snippetBase = "guard:\n  alertmanager:\n    url: http://alertmanager.monitoring:9093\nexperiments:\n"

type yamlBlock struct {
	line int // of the opening fence
	text string
}

// yamlBlocks returns the ```yaml blocks of a Markdown document.
func yamlBlocks(data []byte) []yamlBlock {
	var blocks []yamlBlock
	var cur *yamlBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```yaml":
			cur = &yamlBlock{line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return blocks
}

// checkSnippet validates one block: a full config as it is, an experiment
// or a list of them inside snippetBase. Prometheus rule files and
// Kubernetes manifests are checked for their own shape.
func checkSnippet(text string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return fmt.Errorf("empty block")
	}
	root := doc.Content[0]
	var top map[string]any
	_ = root.Decode(&top)
	switch {
	case root.Kind == yaml.SequenceNode:
		return parse(snippetBase + indent(text, "  "))
	case top["groups"] != nil:
		return checkRules(root)
	case top["apiVersion"] != nil:
		if top["kind"] == nil {
			return fmt.Errorf("a Kubernetes manifest without kind")
		}
		return nil
	case top["name"] != nil && top["action"] != nil:
		return parse(snippetBase + "  - " + indent(text, "    ")[4:])
	}
	return parse(text)
}

func parse(cfg string) error {
	if _, err := config.Parse("snippet", []byte(cfg)); err != nil {
		return fmt.Errorf("%w\n%s", err, cfg)
	}
	return nil
}

func indent(text, prefix string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// checkRules requires every rule of a Prometheus rule file to have an
// alert name and an expression.
func checkRules(root *yaml.Node) error {
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := root.Decode(&rules); err != nil {
		return err
	}
	for _, g := range rules.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			return fmt.Errorf("rule group %q has no name or no rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
				return fmt.Errorf("rule %q needs alert and expr", r.Alert)
			}
		}
	}
	return nil
}

func TestExperimentsDocSnippetsAreValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "experiments.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlocks(data)
	if len(blocks) < 15 {
		t.Fatalf("found %d yaml blocks in docs/experiments.md; the extraction is broken", len(blocks))
	}
	for _, b := range blocks {
		t.Run(fmt.Sprintf("line %d", b.line), func(t *testing.T) {
			if err := checkSnippet(b.text); err != nil {
				t.Errorf("docs/experiments.md:%d: %v", b.line, err)
			}
		})
	}
}

func TestCheckSnippetRejects(t *testing.T) {
	tests := []struct{ name, text string }{
		{"invalid experiment", "name: x\nschedule: nope\ntarget: {kind: pod}\naction: {type: pod-kill}\n"},
		{"invalid list", "- name: x\n  schedule: \"@every 1h\"\n  target: {kind: pod}\n  action: {type: http-abort}\n"},
		{"invalid config", "timezone: Mars/Olympus\n"},
		{"rule without expr", "groups:\n  - name: g\n    rules:\n      - alert: A\n"},
		{"manifest without kind", "apiVersion: v1\n"},
		{"not yaml", "a: [\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkSnippet(tt.text); err == nil {
				t.Error("accepted")
			}
		})
	}
}
