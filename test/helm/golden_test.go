package helm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// variant is one way the chart is installed; each has a golden render in
// testdata/<name>.golden.yaml and, except the default, a values file
// testdata/<name>.values.yaml.
type variant struct {
	name string
	// What the variant is for, to keep the list honest.
	purpose string
}

var variants = []variant{
	{"default", "the values.yaml defaults: cluster RBAC, dry run, two replicas"},
	{"namespaced", "rbac.scope=namespaced in go-demo-8: no ClusterRole, --watch-namespaces"},
	{"dryrun-off", "live chaos with node experiments, one replica, notification secrets"},
	{"persistence", "journals on a ReadWriteMany claim"},
	{"monitoring", "ServiceMonitor, PrometheusRule and the Grafana dashboard"},
}

func (v variant) opts() renderOpts {
	if v.name == "default" {
		return renderOpts{}
	}
	return renderOpts{files: []string{v.valuesFile()}}
}

func (v variant) valuesFile() string {
	if v.name == "default" {
		return ""
	}
	return filepath.Join("testdata", v.name+".values.yaml")
}

func (v variant) goldenFile() string { return filepath.Join("testdata", v.name+".golden.yaml") }

// TestGolden compares each variant's full render with its golden file.
// Regenerate with: go test ./test/helm/ -run TestGolden -update
func TestGolden(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			got := render(t, v.opts())
			if *update {
				if err := os.WriteFile(v.goldenFile(), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(v.goldenFile())
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("render of %q (%s) differs from %s (run with -update if the change is intended):\n%s",
					v.name, v.purpose, v.goldenFile(), firstDifference(string(want), got))
			}
		})
	}
}

// firstDifference shows the first differing line with a little context.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		if i < len(w) && i < len(g) && w[i] == g[i] {
			continue
		}
		var b strings.Builder
		for j := max(0, i-3); j < i; j++ {
			b.WriteString("  " + w[j] + "\n")
		}
		if i < len(w) {
			b.WriteString("- " + w[i] + "\n")
		}
		if i < len(g) {
			b.WriteString("+ " + g[i] + "\n")
		}
		b.WriteString("  ...")
		return "line " + strconv.Itoa(i+1) + ":\n" + b.String()
	}
	return "(identical)"
}
