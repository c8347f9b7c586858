package helm

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the current chart")

const (
	releaseName      = "chaosd"
	releaseNamespace = "chaosd"
	// kubeVersion is the oldest Kubernetes the chart supports (Chart.yaml
	// kubeVersion). It is passed explicitly because a helm built with `go
	// install` (as hack/e2e-bins.sh does) defaults to v1.20.
	kubeVersion = "1.28.0"
)

var (
	repoRoot = mustAbs("../..")
	chartDir = filepath.Join(repoRoot, "charts", "chaosd")
)

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return abs
}

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helmBinary finds helm as the e2e suite does: $CHAOSD_E2E_BIN/helm, else
// helm on PATH, else the bin directory hack/e2e-bins.sh prints as its last
// line (cheap once its cache is built). Not finding it fails every chart
// test: the chart is tested wherever helm can be built. A developer without
// it opts out with CHAOSD_SKIP_HELM=1, which skips them, saying so; under
// CI (CI=true) the opt-out is refused.
func helmBinary(t *testing.T) string {
	t.Helper()
	if skip, err := skipHelm(os.Getenv); err != nil {
		t.Fatal(err)
	} else if skip {
		t.Skip("CHAOSD_SKIP_HELM=1: chart tests skipped on request; unset it to run them")
	}
	helmOnce.Do(func() { helmPath, helmErr = findHelm() })
	if helmErr != nil {
		t.Fatalf("no helm binary: %v (set CHAOSD_SKIP_HELM=1 to skip the chart tests outside CI)", helmErr)
	}
	return helmPath
}

// skipHelm reports whether the developer opted out of the chart tests with
// CHAOSD_SKIP_HELM=1. Under CI=true the opt-out is an error: CI must never
// pass without the chart tests.
func skipHelm(getenv func(string) string) (bool, error) {
	if getenv("CHAOSD_SKIP_HELM") != "1" {
		return false, nil
	}
	if getenv("CI") == "true" {
		return false, errors.New("CHAOSD_SKIP_HELM=1 is refused under CI=true: the chart tests must run in CI")
	}
	return true, nil
}

func TestSkipHelm(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    bool
		wantErr bool
	}{
		{name: "helm expected by default", env: nil, want: false},
		{name: "helm expected under CI", env: map[string]string{"CI": "true"}, want: false},
		{name: "developer opts out", env: map[string]string{"CHAOSD_SKIP_HELM": "1"}, want: true},
		{name: "opt-out refused under CI", env: map[string]string{"CHAOSD_SKIP_HELM": "1", "CI": "true"}, wantErr: true},
		{name: "only 1 opts out", env: map[string]string{"CHAOSD_SKIP_HELM": "true"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := skipHelm(func(k string) string { return tt.env[k] })
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("skipHelm = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func findHelm() (string, error) {
	if dir := os.Getenv("CHAOSD_E2E_BIN"); dir != "" {
		p := filepath.Join(dir, "helm")
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHAOSD_E2E_BIN is set: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p, nil
	}
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "e2e-bins.sh"))
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/e2e-bins.sh: %w: %s", err, lastLines(stderr.String(), 5))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	p := filepath.Join(strings.TrimSpace(lines[len(lines)-1]), "helm")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("hack/e2e-bins.sh printed no usable bin dir: %w", err)
	}
	return p, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// runHelm runs helm with its state directories in a temporary home, so a
// developer's repositories and plugins never change a result.
func runHelm(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	bin := helmBinary(t)
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stderr.String(), out.String())
	}
	return out.String(), nil
}

// renderOpts are the inputs of one `helm template`.
type renderOpts struct {
	chart  string   // defaults to chartDir
	files  []string // -f, relative to this package
	values string   // inline values YAML, written to a temporary -f file
	set    []string // --set
}

func templateArgs(t *testing.T, o renderOpts) []string {
	t.Helper()
	chart := o.chart
	if chart == "" {
		chart = chartDir
	}
	args := []string{"template", releaseName, chart, "--namespace", releaseNamespace, "--kube-version", kubeVersion}
	for _, f := range o.files {
		args = append(args, "-f", mustAbs(f))
	}
	if o.values != "" {
		args = append(args, "-f", writeTemp(t, o.values))
	}
	for _, s := range o.set {
		args = append(args, "--set", s)
	}
	return args
}

// writeTemp writes a values file into a temporary directory.
func writeTemp(t *testing.T, values string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// render runs helm template and fails the test if it fails.
func render(t *testing.T, o renderOpts) string {
	t.Helper()
	out, err := runHelm(t, templateArgs(t, o)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// renderErr runs helm template and returns its error, which must not be nil.
func renderErr(t *testing.T, o renderOpts) error {
	t.Helper()
	_, err := runHelm(t, templateArgs(t, o)...)
	if err == nil {
		t.Fatalf("helm template succeeded; want it to fail")
	}
	return err
}

// manifest is one rendered document: its identity plus the raw YAML to decode
// into a typed object.
type manifest struct {
	Kind string
	Name string
	Ns   string
	raw  []byte
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func parseManifests(t *testing.T, out string) []manifest {
	t.Helper()
	var ms []manifest
	for _, doc := range docSeparator.Split(out, -1) {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("rendered document is not YAML: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			continue // comments only
		}
		ms = append(ms, manifest{Kind: head.Kind, Name: head.Metadata.Name, Ns: head.Metadata.Namespace, raw: []byte(doc)})
	}
	return ms
}

func (m manifest) String() string { return fmt.Sprintf("%s %s/%s", m.Kind, m.Ns, m.Name) }

func ofKind(ms []manifest, kind string) []manifest {
	var out []manifest
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// only returns the single manifest of a kind, failing otherwise.
func only(t *testing.T, ms []manifest, kind string) manifest {
	t.Helper()
	got := ofKind(ms, kind)
	if len(got) != 1 {
		t.Fatalf("rendered %d %s objects, want 1", len(got), kind)
	}
	return got[0]
}

// decodeStrict decodes a manifest into a typed object, rejecting fields the
// type does not have: a typo in a template fails here, not in a cluster.
func decodeStrict(t *testing.T, m manifest, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(m.raw, into); err != nil {
		t.Fatalf("%s: %v", m, err)
	}
}

func readYAMLFile(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
