package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Versions built by hack/e2e-bins.sh; TestVersionsMatchBuildScript keeps the
// two in step so the default bin directory is the one the script fills.
const (
	K8sVersion  = "1.37.2"
	EtcdVersion = "3.6.16"
	KwokVersion = "0.8.0"
	HelmVersion = "3.22.0"
	// IstioVersion is the istio.io/istio version istiod is built from.
	IstioVersion = "v0.0.0-20260827124520-eed52ebb66ad"
	// JaegerVersion is the github.com/jaegertracing/jaeger version of the
	// OTLP receiver tracing tests export to.
	JaegerVersion = "v1.75.0"
)

// EnvIstiod names the istiod (pilot-discovery) binary, overriding the cache.
const EnvIstiod = "CHAOSD_E2E_ISTIOD"

// EnvJaeger names the Jaeger v2 binary, overriding the cache.
const EnvJaeger = "CHAOSD_E2E_JAEGER"

// binaries are the absolute paths of the programs a cluster runs.
type binaries struct {
	etcd, apiserver, controllerManager, scheduler, kwok string
	kwokStages                                          []string
	prometheus, alertmanager                            string
	istiod                                              string
	jaeger                                              string
}

// defaultBinDir mirrors hack/e2e-bins.sh: CHAOSD_E2E_BIN, else the versioned
// directory under $XDG_CACHE_HOME (or ~/.cache)/chaosd-e2e.
func defaultBinDir(getenv func(string) string) (string, error) {
	if dir := getenv("CHAOSD_E2E_BIN"); dir != "" {
		return dir, nil
	}
	cache, err := cacheRoot(getenv, "CHAOSD_E2E_BIN")
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("k8s-%s-etcd-%s-kwok-%s-helm-%s", K8sVersion, EtcdVersion, KwokVersion, HelmVersion)
	return filepath.Join(cache, name, "bin"), nil
}

// KubectlPath is the kubectl built by hack/e2e-bins.sh from the same
// Kubernetes module as the control plane, else the one on PATH, else "".
func KubectlPath(getenv func(string) string, lookPath func(string) (string, error)) string {
	if dir, err := defaultBinDir(getenv); err == nil {
		path := filepath.Join(dir, "kubectl")
		if info, err := os.Stat(path); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return path
		}
	}
	if path, err := lookPath("kubectl"); err == nil {
		return path
	}
	return ""
}

// defaultIstiodPath mirrors hack/e2e-bins.sh: CHAOSD_E2E_ISTIOD, else
// pilot-discovery in its own versioned cache directory, so a new istiod
// version never invalidates the Kubernetes binaries.
func defaultIstiodPath(getenv func(string) string) (string, error) {
	if path := getenv(EnvIstiod); path != "" {
		return path, nil
	}
	cache, err := cacheRoot(getenv, EnvIstiod)
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "istio-"+IstioVersion, "bin", "pilot-discovery"), nil
}

// defaultJaegerPath mirrors hack/e2e-bins.sh: CHAOSD_E2E_JAEGER, else
// jaeger in its own versioned cache directory, like istiod's.
func defaultJaegerPath(getenv func(string) string) (string, error) {
	if path := getenv(EnvJaeger); path != "" {
		return path, nil
	}
	cache, err := cacheRoot(getenv, EnvJaeger)
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "jaeger-"+JaegerVersion, "bin", "jaeger"), nil
}

// cacheRoot is $XDG_CACHE_HOME (or ~/.cache)/chaosd-e2e; override names the
// variable that would have made it unnecessary, for the error.
func cacheRoot(getenv func(string) string, override string) (string, error) {
	cache := getenv("XDG_CACHE_HOME")
	if cache == "" {
		home := getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("neither %s, XDG_CACHE_HOME nor HOME is set", override)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "chaosd-e2e"), nil
}

// kwokStageFiles are the stage files hack/e2e-bins.sh copies next to the bin
// directory; the kwok binary has no built-in stages.
var kwokStageFiles = []string{"node-initialize.yaml", "node-heartbeat.yaml", "pod-fast.yaml"}

// findBinaries resolves the programs opts needs and reports everything that
// is missing at once, with the command that fixes it.
func findBinaries(opts Options, getenv func(string) string, lookPath func(string) (string, error)) (binaries, error) {
	dir := opts.BinDir
	if dir == "" {
		var err error
		if dir, err = defaultBinDir(getenv); err != nil {
			return binaries{}, err
		}
	}
	var errs []error
	need := func(path string) string {
		if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			errs = append(errs, fmt.Errorf("%s: not an executable file", path))
		}
		return path
	}
	b := binaries{
		etcd:              need(filepath.Join(dir, "etcd")),
		apiserver:         need(filepath.Join(dir, "kube-apiserver")),
		controllerManager: need(filepath.Join(dir, "kube-controller-manager")),
		scheduler:         need(filepath.Join(dir, "kube-scheduler")),
	}
	if opts.Kwok {
		b.kwok = need(filepath.Join(dir, "kwok"))
		for _, name := range kwokStageFiles {
			path := filepath.Join(dir, "..", "kwok-stages", name)
			if _, err := os.Stat(path); err != nil {
				errs = append(errs, fmt.Errorf("kwok stage %s: %w", name, err))
			}
			b.kwokStages = append(b.kwokStages, filepath.Clean(path))
		}
	}
	if opts.Istiod {
		path, err := defaultIstiodPath(getenv)
		if err != nil {
			errs = append(errs, err)
		} else {
			b.istiod = need(path)
		}
	}
	if opts.Jaeger {
		path, err := defaultJaegerPath(getenv)
		if err != nil {
			errs = append(errs, err)
		} else {
			b.jaeger = need(path)
		}
	}
	if len(errs) > 0 {
		errs = append(errs, errors.New("build them with hack/e2e-bins.sh (about 35 minutes the first time on 2 cores)"))
	}
	var err error
	if opts.Prometheus.Enabled {
		if b.prometheus, err = findTool("CHAOSD_E2E_PROMETHEUS", getenv, lookPath, "prometheus"); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.Alertmanager.Enabled {
		if b.alertmanager, err = findTool("CHAOSD_E2E_ALERTMANAGER", getenv, lookPath, "prometheus-alertmanager", "alertmanager"); err != nil {
			errs = append(errs, err)
		}
	}
	return b, errors.Join(errs...)
}

// findTool returns $envVar if set, else the first name found on PATH.
// Debian installs Alertmanager as prometheus-alertmanager.
func findTool(envVar string, getenv func(string) string, lookPath func(string) (string, error), names ...string) (string, error) {
	if path := getenv(envVar); path != "" {
		return path, nil
	}
	for _, name := range names {
		if path, err := lookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("none of %v on PATH: set %s or apt-get install %s", names, envVar, names[0])
}
