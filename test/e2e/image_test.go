//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"
)

// TestImageRunsReadOnlyAsNonroot runs the image `make image` builds in a real
// container runtime (podman): `chaosd version` and `chaosd validate` of the
// example configs as uid 65532 with a read-only root filesystem and no
// network, then under the chart's own securityContext, and checks there is
// no shell. Without a working runtime it skips and prints the runtime's own
// error; the image's contents are then still checked by test/image, which
// reads the OCI layout.
func TestImageRunsReadOnlyAsNonroot(t *testing.T) {
	pm := podman(t)
	id := pm.load(t, imageTarball(t))
	// The probe: whether podman can run a container here at all is decided
	// once, for the whole test; after it, podman's failure fails a subtest.
	pm.run(t, id, []string{"--network", "none"}, nil, []string{"version"})

	configs, err := filepath.Glob(filepath.Join(repoRoot(t), "config", "*.yaml"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no example configs in config/: %v", err)
	}
	validate := []string{"validate"}
	for _, c := range configs {
		validate = append(validate, "-f", "/etc/chaosd/"+filepath.Base(c))
	}
	mountConfig := []string{"-v", filepath.Join(repoRoot(t), "config") + ":/etc/chaosd:ro"}
	nonroot := []string{"--user", "65532:65532", "--read-only", "--network", "none"}
	chart := chartSecurityFlags(t)

	tests := []struct {
		name string
		opts []string
		args []string
		want []string // in stdout
	}{
		{name: "version as 65532", opts: nonroot, args: []string{"version"}, want: []string{"chaosd "}},
		{name: "validate as 65532", opts: append(nonroot, mountConfig...), args: validate, want: validOutputs(configs)},
		{name: "version under the chart's securityContext", opts: chart, args: []string{"version"}, want: []string{"chaosd "}},
		{name: "validate under the chart's securityContext", opts: append(chart, mountConfig...), args: validate, want: validOutputs(configs)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := pm.run(t, id, tt.opts, nil, tt.args)
			if code != 0 {
				t.Fatalf("podman run %v %v: exit %d\nstdout: %s\nstderr: %s", tt.opts, tt.args, code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
		})
	}

	t.Run("no shell", func(t *testing.T) {
		_, stderr, code := pm.run(t, id, nonroot, []string{"--entrypoint", "/bin/sh"}, []string{"-c", "id"})
		// 127: the runtime found no such command in the image.
		if code != 127 || !strings.Contains(stderr, "/bin/sh") {
			t.Errorf("running /bin/sh: exit %d, want 127 (not found)\n%s", code, stderr)
		}
	})
	t.Run("image user", func(t *testing.T) {
		out, err := pm.cmd("image", "inspect", "--format", "{{.Config.User}}", id).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != "65532:65532" {
			t.Errorf("podman image inspect: user %q (%v), want 65532:65532", got, err)
		}
	})
}

func validOutputs(configs []string) []string {
	var want []string
	for _, c := range configs {
		want = append(want, "/etc/chaosd/"+filepath.Base(c)+": valid")
	}
	return want
}

// chartSecurityFlags turns the chart's default securityContext
// (charts/chaosd/values.yaml) into podman flags, so the test follows the
// chart rather than a copy of it.
func chartSecurityFlags(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "charts", "chaosd", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   bool  `json:"readOnlyRootFilesystem"`
			RunAsUser                *int  `json:"runAsUser"`
			RunAsGroup               *int  `json:"runAsGroup"`
			Capabilities             struct {
				Drop []string `json:"drop"`
			} `json:"capabilities"`
			SeccompProfile struct {
				Type string `json:"type"`
			} `json:"seccompProfile"`
		} `json:"securityContext"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	sc := values.SecurityContext
	if sc.RunAsUser == nil || sc.RunAsGroup == nil || sc.AllowPrivilegeEscalation == nil ||
		*sc.AllowPrivilegeEscalation || !sc.ReadOnlyRootFilesystem || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Fatalf("the chart's securityContext changed; update this test's translation: %+v", sc)
	}
	// The kubelet's /tmp is an emptyDir; podman's --read-only adds a tmpfs
	// there too. RuntimeDefault seccomp is podman's default profile.
	flags := []string{
		"--user", fmt.Sprintf("%d:%d", *sc.RunAsUser, *sc.RunAsGroup),
		"--read-only", "--security-opt", "no-new-privileges", "--network", "none",
	}
	for _, c := range sc.Capabilities.Drop {
		flags = append(flags, "--cap-drop", c)
	}
	return flags
}

// containerRuntime is podman with the flags that work on this kind of machine.
type containerRuntime struct {
	bin  string
	opts []string
	// store is podman's global flags for a storage of this test's own, so
	// that concurrent test runs (two suites on one machine) never see or
	// remove each other's images: a reproducible build gives them the same ID.
	store []string
	// ran is set once podman has started a container in this test. Before
	// that, podman's own failure (125) means it cannot run containers on
	// this machine, and the test skips; after it, 125 is a failure.
	ran bool
}

// cmd is podman with the test's own storage.
func (r *containerRuntime) cmd(args ...string) *exec.Cmd {
	return exec.Command(r.bin, append(slices.Clone(r.store), args...)...)
}

// podman finds a working podman or skips, printing podman's own error. On
// this machine (itself a container on cgroup v1, without CAP_SYS_RESOURCE)
// podman 4.3 runs containers only with runc and explicit ulimits: crun
// fails on the hybrid cgroups, and the default ulimits cannot be raised.
func podman(t *testing.T) *containerRuntime {
	t.Helper()
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Skipf("no container runtime: %v (hack/deps.sh installs Debian's podman)", err)
	}
	// Not t.TempDir(): podman refuses a runroot longer than 50 characters.
	dir, err := os.MkdirTemp("", "chaosd-podman-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	r := &containerRuntime{bin: bin, opts: []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"},
		store: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}}
	if out, err := r.cmd("info").CombinedOutput(); err != nil {
		t.Skipf("podman does not work here: podman info: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("runc"); err == nil {
		r.opts = append(r.opts, "--runtime", "runc")
	}
	return r
}

// load loads a docker-archive into the test's own storage (removed with
// the test's temp dir) and returns the image ID (its config digest).
func (r *containerRuntime) load(t *testing.T, tarPath string) string {
	t.Helper()
	img, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatalf("read %s: %v", tarPath, err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := r.cmd("load", "-i", tarPath).CombinedOutput(); err != nil {
		t.Fatalf("podman load -i %s: %v\n%s", tarPath, err, out)
	}
	return cfg.Hex
}

// run runs the image once and returns its output and exit code. Exit code
// 125 is podman's own failure (the runtime could not start the container):
// on the test's first container the test then skips with podman's error;
// once a container has run, the same failure fails the test (an image
// removed under it, a broken option), as a skip would hide it. 126 and 127
// (command not runnable or not found in the image) are the image's fault
// and returned.
func (r *containerRuntime) run(t *testing.T, id string, opts, podmanArgs, args []string) (string, string, int) {
	t.Helper()
	cmdline := append([]string{"run", "--rm", "--pull=never"}, r.opts...)
	cmdline = append(cmdline, opts...)
	cmdline = append(cmdline, podmanArgs...)
	cmdline = append(append(cmdline, id), args...)
	cmd := r.cmd(cmdline...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.ran = true
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &ee) && ee.ExitCode() == 125 && !r.ran:
		t.Skipf("podman cannot run containers here: podman %s: %v\n%s", strings.Join(cmdline, " "), err, stderr.String())
	case errors.As(err, &ee) && ee.ExitCode() == 125:
		t.Fatalf("podman failed after it had run a container in this test: podman %s: %v\n%s", strings.Join(cmdline, " "), err, stderr.String())
	case errors.As(err, &ee):
		r.ran = true
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	t.Fatalf("podman %s: %v", strings.Join(cmdline, " "), err)
	return "", "", 0
}

// imageTarball returns $CHAOSD_IMAGE_TAR (make e2e sets it to the output of
// make image), or builds the image as make image does into a temp dir.
func imageTarball(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHAOSD_IMAGE_TAR"); p != "" {
		return p
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "chaosd")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/chaosd")
	build.Dir = repoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build static chaosd: %v\n%s", err, out)
	}
	tar := filepath.Join(dir, "image.tar")
	img := exec.Command("go", "run", "./hack/image", "--binary", bin, "--layout", filepath.Join(dir, "layout"),
		"--tarball", tar, "--version", "v0.0.0-e2e", "--revision", "e2e")
	img.Dir = repoRoot(t)
	img.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	if out, err := img.CombinedOutput(); err != nil {
		t.Fatalf("build image: %v\n%s", err, out)
	}
	return tar
}

// repoRoot is the checkout the tests run in (go test runs in test/e2e).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}
