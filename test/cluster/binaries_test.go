package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultBinDir(t *testing.T) {
	versioned := "k8s-" + K8sVersion + "-etcd-" + EtcdVersion + "-kwok-" + KwokVersion + "-helm-" + HelmVersion
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "explicit", env: map[string]string{"CHAOSD_E2E_BIN": "/opt/bin", "HOME": "/h"}, want: "/opt/bin"},
		{name: "xdg cache", env: map[string]string{"XDG_CACHE_HOME": "/c", "HOME": "/h"}, want: "/c/chaosd-e2e/" + versioned + "/bin"},
		{name: "home cache", env: map[string]string{"HOME": "/h"}, want: "/h/.cache/chaosd-e2e/" + versioned + "/bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultBinDir(envMap(tt.env))
			if err != nil || got != tt.want {
				t.Errorf("defaultBinDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := defaultBinDir(envMap(nil)); err == nil {
		t.Error("defaultBinDir() with no environment succeeded")
	}
}

func TestKubectlPath(t *testing.T) {
	built := t.TempDir()
	if err := os.WriteFile(filepath.Join(built, "kubectl"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExecutable := t.TempDir()
	if err := os.WriteFile(filepath.Join(notExecutable, "kubectl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	onPath := func(string) (string, error) { return "/usr/bin/kubectl", nil }
	nowhere := func(string) (string, error) { return "", errors.New("not found") }
	tests := []struct {
		name     string
		bin      string
		lookPath func(string) (string, error)
		want     string
	}{
		{name: "the one built from the control plane's module wins", bin: built, lookPath: onPath, want: filepath.Join(built, "kubectl")},
		{name: "else the one on PATH", bin: t.TempDir(), lookPath: onPath, want: "/usr/bin/kubectl"},
		{name: "a built file that is not executable is not used", bin: notExecutable, lookPath: onPath, want: "/usr/bin/kubectl"},
		{name: "none", bin: t.TempDir(), lookPath: nowhere, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KubectlPath(envMap(map[string]string{"CHAOSD_E2E_BIN": tt.bin}), tt.lookPath); got != tt.want {
				t.Errorf("KubectlPath() = %q, want %q", got, tt.want)
			}
		})
	}
}

// The script builds into the directory the harness looks in only while both
// agree on the versions.
func TestVersionsMatchBuildScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "hack", "e2e-bins.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"K8S_VERSION": K8sVersion, "ETCD_VERSION": EtcdVersion, "KWOK_VERSION": KwokVersion, "HELM_VERSION": HelmVersion,
		"ISTIO_VERSION": IstioVersion, "JAEGER_VERSION": JaegerVersion,
	} {
		m := regexp.MustCompile(name + `=\$\{` + name + `:-([^}]+)\}`).FindSubmatch(script)
		if m == nil || string(m[1]) != want {
			t.Errorf("hack/e2e-bins.sh %s = %q, harness expects %q", name, m, want)
		}
	}
}

func TestDefaultIstiodPath(t *testing.T) {
	versioned := "istio-" + IstioVersion + "/bin/pilot-discovery"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "explicit", env: map[string]string{EnvIstiod: "/opt/istiod", "CHAOSD_E2E_BIN": "/opt/bin"}, want: "/opt/istiod"},
		// CHAOSD_E2E_BIN moves the Kubernetes binaries only: istiod's cache
		// directory is its own.
		{name: "own cache dir beside an explicit bin dir", env: map[string]string{"CHAOSD_E2E_BIN": "/opt/bin", "HOME": "/h"}, want: "/h/.cache/chaosd-e2e/" + versioned},
		{name: "xdg cache", env: map[string]string{"XDG_CACHE_HOME": "/c", "HOME": "/h"}, want: "/c/chaosd-e2e/" + versioned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultIstiodPath(envMap(tt.env))
			if err != nil || got != tt.want {
				t.Errorf("defaultIstiodPath() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := defaultIstiodPath(envMap(nil)); err == nil || !strings.Contains(err.Error(), EnvIstiod) {
		t.Errorf("defaultIstiodPath() with no environment = %v, want an error naming %s", err, EnvIstiod)
	}
}

func TestDefaultJaegerPath(t *testing.T) {
	versioned := "jaeger-" + JaegerVersion + "/bin/jaeger"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "explicit", env: map[string]string{EnvJaeger: "/opt/jaeger", "CHAOSD_E2E_BIN": "/opt/bin"}, want: "/opt/jaeger"},
		// Like istiod's, Jaeger's cache directory is its own.
		{name: "own cache dir beside an explicit bin dir", env: map[string]string{"CHAOSD_E2E_BIN": "/opt/bin", "HOME": "/h"}, want: "/h/.cache/chaosd-e2e/" + versioned},
		{name: "xdg cache", env: map[string]string{"XDG_CACHE_HOME": "/c", "HOME": "/h"}, want: "/c/chaosd-e2e/" + versioned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultJaegerPath(envMap(tt.env))
			if err != nil || got != tt.want {
				t.Errorf("defaultJaegerPath() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := defaultJaegerPath(envMap(nil)); err == nil || !strings.Contains(err.Error(), EnvJaeger) {
		t.Errorf("defaultJaegerPath() with no environment = %v, want an error naming %s", err, EnvJaeger)
	}
}

func TestFindBinariesReportsEverythingMissing(t *testing.T) {
	opts := Options{Kwok: true, BinDir: t.TempDir(), Prometheus: PrometheusOptions{Enabled: true}}
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	_, err := findBinaries(opts, envMap(nil), notFound)
	if err == nil {
		t.Fatal("findBinaries() in an empty dir succeeded")
	}
	for _, want := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok:", "pod-fast.yaml", "hack/e2e-bins.sh", "prometheus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "ALERTMANAGER") {
		t.Errorf("alertmanager is disabled but reported missing:\n%v", err)
	}
	if strings.Contains(err.Error(), "pilot-discovery") || strings.Contains(err.Error(), "jaeger") {
		t.Errorf("istiod or jaeger is not asked for but reported missing:\n%v", err)
	}
	opts.Istiod = true
	if _, err := findBinaries(opts, envMap(map[string]string{EnvIstiod: "/nonexistent/pilot-discovery"}), notFound); err == nil ||
		!strings.Contains(err.Error(), "/nonexistent/pilot-discovery") {
		t.Errorf("findBinaries() with a missing istiod = %v, want it named", err)
	}
	opts.Jaeger = true
	if _, err := findBinaries(opts, envMap(map[string]string{EnvJaeger: "/nonexistent/jaeger"}), notFound); err == nil ||
		!strings.Contains(err.Error(), "/nonexistent/jaeger") {
		t.Errorf("findBinaries() with a missing jaeger = %v, want it named", err)
	}
}

func TestFindBinariesFindsBuiltLayout(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		writeTestFile(t, filepath.Join(bin, name), 0o755)
	}
	for _, name := range kwokStageFiles {
		writeTestFile(t, filepath.Join(root, "kwok-stages", name), 0o644)
	}
	lookPath := func(name string) (string, error) {
		if name == "prometheus-alertmanager" {
			return "/usr/bin/prometheus-alertmanager", nil
		}
		return "", errors.New("not found")
	}
	opts := Options{Kwok: true, BinDir: bin, Alertmanager: AlertmanagerOptions{Enabled: true}}
	got, err := findBinaries(opts, envMap(nil), lookPath)
	if err != nil {
		t.Fatal(err)
	}
	if got.apiserver != filepath.Join(bin, "kube-apiserver") || got.alertmanager != "/usr/bin/prometheus-alertmanager" || len(got.kwokStages) != 3 {
		t.Errorf("findBinaries() = %+v", got)
	}
}

func writeTestFile(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}
