package helm

import (
	"strings"
	"testing"
)

// TestLint runs `helm lint --strict` on the chart alone and with each
// variant's values.
func TestLint(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir}
			if f := v.valuesFile(); f != "" {
				args = append(args, "-f", mustAbs(f))
			}
			out, err := runHelm(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Errorf("helm lint:\n%s", out)
			}
		})
	}
}

// TestBadValuesRejected: bad values fail helm template (and helm lint) with a
// message that names the offending field, from the schema or from the
// chart's own checks of combinations the schema cannot express.
func TestBadValuesRejected(t *testing.T) {
	tests := []struct {
		name   string
		values string
		want   []string // all must appear in the error
	}{
		{
			name:   "replicaCount and rbac.scope of the wrong kind",
			values: "replicaCount: \"two\"\nrbac:\n  scope: galaxy\n",
			want:   []string{"/replicaCount", "want integer", "/rbac/scope", "'cluster', 'namespaced'"},
		},
		{
			name:   "unknown top-level key",
			values: "replicas: 3\n",
			want:   []string{"additional properties 'replicas' not allowed"},
		},
		{
			name:   "unknown key in a main object",
			values: "persistence:\n  enable: true\n",
			want:   []string{"/persistence", "'enable'"},
		},
		{
			name:   "namespaced scope without namespaces",
			values: "rbac:\n  scope: namespaced\n",
			want:   []string{"/rbac/namespaces"},
		},
		{
			name:   "namespace that is not a DNS label",
			values: "rbac:\n  scope: namespaced\n  namespaces: [Go_Demo]\n",
			want:   []string{"/rbac/namespaces/0"},
		},
		{
			name:   "log level",
			values: "logLevel: verbose\n",
			want:   []string{"/logLevel"},
		},
		{
			name:   "no config at all",
			values: "config: null\n",
			want:   []string{"config: is empty"},
		},
		{
			name:   "no guard",
			values: "config:\n  guard:\n    alertmanager: null\n",
			want:   []string{"config.guard: neither alertmanager nor prometheus is set", "config.guard.unguarded: true"},
		},
		{
			name:   "misspelled config key",
			values: "config:\n  dryrun: false\n",
			want:   []string{"/config", "'dryrun'"},
		},
		{
			name:   "unknown target kind",
			values: "config:\n  experiments:\n    - {name: x, schedule: '@hourly', target: {kind: pods}, action: {type: pod-kill}}\n",
			want:   []string{"/config/experiments/0/target/kind"},
		},
		{
			name:   "unquoted on in notifications",
			values: "config:\n  notifications:\n    slack:\n      webhookURLFile: /etc/chaosd/secrets/slack-url\n      on: [weakness]\n",
			want:   []string{"config.notifications.slack", `"on"`},
		},
		{
			name: "node experiment with namespaced RBAC",
			values: "rbac:\n  scope: namespaced\n  namespaces: [go-demo-8]\nconfig:\n  experiments:\n" +
				"    - {name: drain, schedule: '@hourly', target: {kind: node}, action: {type: node-drain}}\n",
			want: []string{"config.experiments[0] (drain)", "rbac.scope=namespaced"},
		},
		{
			name: "target namespace outside rbac.namespaces",
			values: "rbac:\n  scope: namespaced\n  namespaces: [go-demo-8]\nconfig:\n  experiments:\n" +
				"    - {name: kill, schedule: '@hourly', target: {kind: pod, namespaces: [shop]}, action: {type: pod-kill}}\n",
			want: []string{"config.experiments[0] (kill)", `"shop"`, "rbac.namespaces"},
		},
		{
			name: "pod target without namespaces in namespaced scope",
			values: "rbac:\n  scope: namespaced\n  namespaces: [go-demo-8]\nconfig:\n  experiments:\n" +
				"    - {name: kill, schedule: '@hourly', target: {kind: pod, optIn: true}, action: {type: pod-kill}}\n",
			want: []string{"config.experiments[0] (kill): target kind pod needs target.namespaces with rbac.scope=namespaced"},
		},
		{
			name: "namespace selector in namespaced scope",
			values: "rbac:\n  scope: namespaced\n  namespaces: [go-demo-8]\nconfig:\n  experiments:\n" +
				"    - {name: abort, schedule: '@hourly', duration: 1m, target: {kind: virtualservice, namespaces: [go-demo-8], namespaceSelector: team=a}, action: {type: http-abort, status: 500}}\n",
			want: []string{"config.experiments[0] (abort): target.namespaceSelector cannot be used with rbac.scope=namespaced: a Role cannot read Namespace objects"},
		},
		{
			name: "node-delete without nodeExperiments",
			values: "config:\n  experiments:\n" +
				"    - {name: delete, schedule: '@hourly', target: {kind: node}, action: {type: node-delete}}\n",
			want: []string{"config.experiments[0] (delete)", "rbac.nodeExperiments=true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := renderErr(t, renderOpts{values: tt.values}).Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

// TestLintRejectsSchemaViolations: helm lint applies the same schema.
func TestLintRejectsSchemaViolations(t *testing.T) {
	f := writeTemp(t, "replicaCount: \"two\"\nrbac:\n  scope: galaxy\n")
	_, err := runHelm(t, "lint", "--strict", chartDir, "-f", f)
	if err == nil {
		t.Fatal("helm lint accepted replicaCount: \"two\"")
	}
	for _, w := range []string{"/replicaCount", "/rbac/scope"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("lint error lacks %q:\n%v", w, err)
		}
	}
}

// TestNullRemovesConfigDefaults: the documented way to drop a default key.
func TestNullRemovesConfigDefaults(t *testing.T) {
	cfg := renderedConfig(t, parseManifests(t, render(t, renderOpts{values: "config:\n  windows: null\n"})))
	if strings.Contains(cfg, "windows") {
		t.Errorf("windows: null left windows in config.yaml:\n%s", cfg)
	}
}
