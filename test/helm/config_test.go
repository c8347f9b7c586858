package helm

import (
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/chaosd/chaosd/internal/config"
)

// coalesce merges values the way Helm merges -f files into the chart's
// defaults: maps merge key by key, anything else (lists too) replaces, and a
// null deletes the key.
func coalesce(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		switch v := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			if b, ok := out[k].(map[string]any); ok {
				out[k] = coalesce(b, v)
			} else {
				out[k] = coalesce(nil, v)
			}
		default:
			out[k] = v
		}
	}
	return out
}

// expectedValues is the chart's values.yaml with a variant's file merged in.
func expectedValues(t *testing.T, v variant) map[string]any {
	t.Helper()
	values := readYAMLFile(t, filepath.Join(chartDir, "values.yaml"))
	if f := v.valuesFile(); f != "" {
		values = coalesce(values, readYAMLFile(t, f))
	}
	return values
}

func renderedConfig(t *testing.T, ms []manifest) string {
	t.Helper()
	for _, m := range ofKind(ms, "ConfigMap") {
		if m.Name != "chaosd-config" {
			continue
		}
		var cm corev1.ConfigMap
		decodeStrict(t, m, &cm)
		data, ok := cm.Data["config.yaml"]
		if !ok || len(cm.Data) != 1 {
			t.Fatalf("ConfigMap %s has keys %v, want only config.yaml", m.Name, reflect.ValueOf(cm.Data).MapKeys())
		}
		return data
	}
	t.Fatal("no ConfigMap chaosd-config rendered")
	return ""
}

// TestConfigRenderedVerbatim: config.yaml in the ConfigMap is values.config,
// nothing added, dropped or reshaped.
func TestConfigRenderedVerbatim(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			want := expectedValues(t, v)["config"]
			var got any
			if err := yaml.Unmarshal([]byte(renderedConfig(t, parseManifests(t, render(t, v.opts())))), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				gotY, _ := yaml.Marshal(got)
				wantY, _ := yaml.Marshal(want)
				t.Errorf("rendered config.yaml differs from values.config:\n%s", firstDifference(string(wantY), string(gotY)))
			}
		})
	}
}

// TestRenderedConfigIsValid runs chaosd's own loader on every rendered
// config: the chart's default, and each variant, must be accepted as is.
func TestRenderedConfigIsValid(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			data := renderedConfig(t, parseManifests(t, render(t, v.opts())))
			if _, err := config.Parse("config.yaml", []byte(data)); err != nil {
				t.Errorf("chaosd rejects the rendered config:\n%v\n--- config.yaml\n%s", err, data)
			}
		})
	}
}

// TestDefaultConfigIsHarmless: out of the box chaosd only dry-runs.
func TestDefaultConfigIsHarmless(t *testing.T) {
	cfg, err := config.Parse("config.yaml", []byte(renderedConfig(t, parseManifests(t, render(t, renderOpts{})))))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.DryRun {
		t.Error("default config is not a dry run")
	}
	for _, e := range cfg.Experiments {
		if !e.IsDryRun(cfg.DryRun) {
			t.Errorf("experiment %s is not a dry run", e.Name)
		}
		if !e.Target.OptIn {
			t.Errorf("experiment %s targets pods that did not opt in", e.Name)
		}
	}
	if cfg.Guard.Alertmanager == nil || cfg.Guard.Alertmanager.URL != "http://alertmanager-operated.monitoring:9093" {
		t.Errorf("guard.alertmanager %+v", cfg.Guard.Alertmanager)
	}
}

func TestExistingConfigMapAndSecret(t *testing.T) {
	ms := parseManifests(t, render(t, renderOpts{set: []string{"existingConfigMap=my-config", "existingSecret=my-secret"}}))
	for _, m := range ms {
		if m.Kind == "Secret" || (m.Kind == "ConfigMap" && m.Name == "chaosd-config") {
			t.Errorf("rendered %s although an existing one is named", m)
		}
	}
	d := deployment(t, ms)
	mounts := mountsByPath(d)
	if vol := volume(t, d, mounts["/etc/chaosd"].Name); vol.ConfigMap == nil || vol.ConfigMap.Name != "my-config" {
		t.Errorf("/etc/chaosd is %+v, want ConfigMap my-config", vol.VolumeSource)
	}
	if vol := volume(t, d, mounts["/etc/chaosd/secrets"].Name); vol.Secret == nil || vol.Secret.SecretName != "my-secret" {
		t.Errorf("/etc/chaosd/secrets is %+v, want Secret my-secret", vol.VolumeSource)
	}
	if _, ok := d.Spec.Template.Annotations["checksum/secret"]; ok {
		t.Error("checksum/secret of a Secret the chart does not render")
	}
}

func TestSecretKeys(t *testing.T) {
	tests := []struct {
		name string
		set  []string
		want map[string]string
	}{
		{"none set", nil, map[string]string{}},
		{"slack only", []string{"secrets.slackWebhookURL=https://hooks.slack.com/x"}, map[string]string{"slack-url": "https://hooks.slack.com/x"}},
		{"both", []string{"secrets.slackWebhookURL=https://hooks.slack.com/x", "secrets.webhookURL=https://example.com/hook"},
			map[string]string{"slack-url": "https://hooks.slack.com/x", "webhook-url": "https://example.com/hook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s corev1.Secret
			decodeStrict(t, only(t, parseManifests(t, render(t, renderOpts{set: tt.set})), "Secret"), &s)
			got := map[string]string{}
			for k, v := range s.Data {
				got[k] = string(v)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Secret data %v, want %v", got, tt.want)
			}
		})
	}
}
