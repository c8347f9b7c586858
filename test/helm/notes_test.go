package helm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// renderNotes renders templates/NOTES.txt, which helm template never prints:
// a copy of the chart gets a template that wraps the notes in a ConfigMap.
func renderNotes(t *testing.T, o renderOpts) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "chaosd")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"_zz_notes_under_test.tpl": `{{- define "test.notes" -}}` + string(notes) + `{{- end }}`,
		"zz-notes-under-test.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-under-test\ndata:\n  notes: {{ include \"test.notes\" . | toJson }}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o.chart = dir
	for _, m := range parseManifests(t, render(t, o)) {
		if m.Kind == "ConfigMap" && m.Name == "notes-under-test" {
			var cm corev1.ConfigMap
			decodeStrict(t, m, &cm)
			return cm.Data["notes"]
		}
	}
	t.Fatal("notes not rendered")
	return ""
}

func TestNotes(t *testing.T) {
	always := []string{
		"kubectl -n chaosd port-forward svc/chaosd 8080:8080",
		"http://127.0.0.1:8080/",
		"chaosd status --namespace chaosd",
		`chaosd pause --namespace chaosd --reason "`,
		"chaosd resume --namespace chaosd",
		"paused: true",
	}
	const warning = "WARNING: dry run is OFF"
	tests := []struct {
		name    string
		opts    renderOpts
		want    []string
		notWant []string
	}{
		{"default is a dry run", renderOpts{}, []string{"Dry run is ON", "kubectl -n chaosd edit configmap chaosd-config"}, []string{warning}},
		{"dry run off warns", renderOpts{set: []string{"config.dryRun=false"}}, []string{warning}, []string{"Dry run is ON"}},
		{"an experiment overriding dryRun warns", renderOpts{values: "config:\n  experiments:\n" +
			"    - {name: kill, schedule: '@hourly', dryRun: false, target: {kind: pod, optIn: true}, action: {type: pod-kill}}\n"},
			[]string{warning}, nil},
		{"a disabled live experiment does not", renderOpts{values: "config:\n  experiments:\n" +
			"    - {name: kill, schedule: '@hourly', dryRun: false, disabled: true, target: {kind: pod, optIn: true}, action: {type: pod-kill}}\n"},
			[]string{"Dry run is ON"}, []string{warning}},
		{"namespaced scope explains its limits", renderOpts{files: []string{"testdata/namespaced.values.yaml"}},
			[]string{"only act in go-demo-8", "node and zone", "must list\nits target namespaces", "chaosd.io/exclude on workloads or pods"}, []string{"not support"}},
		{"shared ReadWriteOnce journal", renderOpts{set: []string{"persistence.enabled=true"}},
			[]string{"ReadWriteMany"}, nil},
		{"existing ConfigMap", renderOpts{set: []string{"existingConfigMap=mine"}},
			[]string{"your ConfigMap mine", "kubectl -n chaosd edit configmap mine"}, []string{warning, "Dry run is ON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notes := renderNotes(t, tt.opts)
			for _, w := range slices.Concat(always, tt.want) {
				if !strings.Contains(notes, w) {
					t.Errorf("notes lack %q:\n%s", w, notes)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(notes, w) {
					t.Errorf("notes contain %q:\n%s", w, notes)
				}
			}
		})
	}
}
