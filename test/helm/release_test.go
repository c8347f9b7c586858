package helm

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestChartNamesWhatTheReleasePublishes checks that a stranger's `helm
// install` pulls what .github/workflows/release.yml publishes: the chart's
// default image is the workflow's IMAGE_REPO at the chart's appVersion (the
// workflow refuses a tag that is not the appVersion), the notes print it, and
// both READMEs install the chart from the workflow's CHART_REPO at the
// chart's version.
func TestChartNamesWhatTheReleasePublishes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// sigs.k8s.io/yaml reads YAML 1.1, where the key on is the boolean true.
	var wf struct {
		On struct {
			Push struct {
				Tags []string `json:"tags"`
			} `json:"push"`
		} `json:"true"`
		Env map[string]string `json:"env"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	imageRepo, chartRepo := wf.Env["IMAGE_REPO"], wf.Env["CHART_REPO"]
	if imageRepo == "" || !strings.HasPrefix(chartRepo, "oci://") {
		t.Fatalf("release.yml env: IMAGE_REPO %q, CHART_REPO %q", imageRepo, chartRepo)
	}
	if len(wf.On.Push.Tags) != 1 || wf.On.Push.Tags[0] != "v*" {
		t.Errorf("release.yml runs on tags %q, want [v*] (appVersion is a v-tag)", wf.On.Push.Tags)
	}
	for _, check := range []string{`appVersion: \"${tag}\"`, `version: ${tag#v}`} {
		if !strings.Contains(string(raw), check) {
			t.Errorf("release.yml no longer checks Chart.yaml for %s", check)
		}
	}

	chart := readYAMLFile(t, filepath.Join(chartDir, "Chart.yaml"))
	appVersion, version := appVersion(t), fmt.Sprint(chart["version"])
	if "v"+version != appVersion {
		t.Errorf("Chart.yaml version %s and appVersion %s would fail the release's tag check", version, appVersion)
	}
	values := readYAMLFile(t, filepath.Join(chartDir, "values.yaml"))
	image, _ := values["image"].(map[string]any)
	if image["repository"] != imageRepo || image["tag"] != "" {
		t.Errorf("values.yaml image %v, want repository %s and tag \"\" (the appVersion)", image, imageRepo)
	}
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^IMAGE_REPO \?= ` + regexp.QuoteMeta(imageRepo) + `$`).Match(makefile) {
		t.Errorf("the Makefile's IMAGE_REPO is not %s", imageRepo)
	}

	ref := imageRepo + ":" + appVersion
	if notes := renderNotes(t, renderOpts{}); !strings.Contains(notes, "Image: "+ref+"\n") {
		t.Errorf("notes do not name the image %s:\n%s", ref, notes)
	}
	install := "helm install chaosd " + chartRepo + "/chaosd --version " + version
	for _, readme := range []string{filepath.Join(repoRoot, "README.md"), filepath.Join(chartDir, "README.md")} {
		text, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{install, ref} {
			if !strings.Contains(string(text), want) {
				t.Errorf("%s does not say %q", readme, want)
			}
		}
	}
}
