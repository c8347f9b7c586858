//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/test/cluster"
)

// Shared helpers for e2e tests that run the real chaosd binary against the
// local control plane.

// chaosdNamespace and chaosdConfigMap are where chaosd keeps its Lease,
// ConfigMap (pause, status, Events) and node snapshots in e2e tests.
const (
	chaosdNamespace = "chaosd"
	chaosdConfigMap = "chaosd-config"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// chaosdBinary returns $CHAOSD_BIN (make e2e sets it), or builds chaosd once
// per test binary.
func chaosdBinary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("CHAOSD_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chaosd-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "chaosd")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/chaosd/chaosd/cmd/chaosd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build chaosd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// configDir lays out a config the way the kubelet mounts a ConfigMap:
// config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/, so updates
// are symlink swaps.
type configDir struct {
	Dir  string
	Path string // the config.yaml chaosd is given
	n    int
}

func newConfigDir(t testing.TB, content string) *configDir {
	t.Helper()
	d := &configDir{Dir: t.TempDir()}
	d.Path = filepath.Join(d.Dir, "config.yaml")
	d.Swap(t, content)
	if err := os.Symlink(filepath.Join("..data", "config.yaml"), d.Path); err != nil {
		t.Fatal(err)
	}
	return d
}

// Swap replaces the content as the kubelet does: write a new timestamped
// directory, point ..data_tmp at it, rename ..data_tmp over ..data, and
// remove the old directory.
func (d *configDir) Swap(t testing.TB, content string) {
	t.Helper()
	d.n++
	ts := fmt.Sprintf("..2026_11_25_00_00_%02d.%d", d.n, time.Now().UnixNano())
	if err := os.Mkdir(filepath.Join(d.Dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Dir, ts, "config.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(d.Dir, "..data"))
	tmp := filepath.Join(d.Dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.Dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if old != "" {
		_ = os.RemoveAll(filepath.Join(d.Dir, old))
	}
}

// withMonitoring substitutes the cluster's Prometheus and Alertmanager for
// the placeholders PROMETHEUS_URL and ALERTMANAGER_URL in a config.
func withMonitoring(c *cluster.Cluster, cfg string) string {
	return strings.NewReplacer("PROMETHEUS_URL", c.PrometheusURL, "ALERTMANAGER_URL", c.AlertmanagerURL).Replace(cfg)
}

// ensureChaosdNamespace creates chaosd's namespace and ConfigMap, as the
// Helm chart would.
func ensureChaosdNamespace(t testing.TB, c *cluster.Cluster) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chaosdNamespace}}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace: %v", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: chaosdNamespace, Name: chaosdConfigMap}}
	if _, err := c.Kube.CoreV1().ConfigMaps(chaosdNamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create configmap: %v", err)
	}
}

// chaosdProcess is a running `chaosd run`.
type chaosdProcess struct {
	URL  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// startChaosd runs `chaosd run` against c with the config at cfgPath and
// extra flags, waits until /readyz answers 200, and stops it (SIGTERM, then
// SIGKILL) when the test ends. Its log is printed if the test failed.
func startChaosd(t testing.TB, c *cluster.Cluster, cfgPath string, extra ...string) *chaosdProcess {
	t.Helper()
	return startChaosdVia(t, c, c.Kubeconfig, cfgPath, extra...)
}

// startChaosdVia is startChaosd with another kubeconfig for chaosd, such
// as a cluster.APIProxy's.
func startChaosdVia(t testing.TB, c *cluster.Cluster, kubeconfig, cfgPath string, extra ...string) *chaosdProcess {
	t.Helper()
	ensureChaosdNamespace(t, c)
	addr := freeLoopbackAddr(t)
	args := append([]string{"run", "--config", cfgPath, "--kubeconfig", kubeconfig, "--namespace", chaosdNamespace,
		"--configmap", chaosdConfigMap, "--listen", addr, "--journal-dir", filepath.Join(t.TempDir(), "journal"),
		"--log-format", "json"}, extra...)
	return launchChaosd(t, addr, args)
}

// launchChaosd runs chaosd with args (which must include --listen addr),
// waits until /readyz answers 200, and stops it (SIGTERM, then SIGKILL) when
// the test ends, printing its log if the test failed.
func launchChaosd(t testing.TB, addr string, args []string) *chaosdProcess {
	t.Helper()
	p := &chaosdProcess{URL: "http://" + addr, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(chaosdBinary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start chaosd: %v", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop(30 * time.Second)
		if t.Failed() {
			t.Logf("chaosd log (%s):\n%s", strings.Join(args, " "), tail(p.out.String(), 150))
		}
	})
	p.waitReady(t, time.Minute)
	return p
}

func (p *chaosdProcess) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("chaosd exited before it was ready: %v\n%s", p.err, tail(p.out.String(), 60))
		default:
		}
		if resp, err := http.Get(p.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("chaosd not ready within %s\n%s", timeout, tail(p.out.String(), 60))
}

// Stop sends SIGTERM (chaosd reverts its faults) and waits, then SIGKILLs.
func (p *chaosdProcess) Stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill sends SIGKILL: no revert, as in a crash.
func (p *chaosdProcess) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Log returns everything chaosd wrote so far.
func (p *chaosdProcess) Log() string { return p.out.String() }

// Get fetches a path from chaosd's HTTP port.
func (p *chaosdProcess) Get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(p.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Status reads chaosd's /api/v1/status.
func (p *chaosdProcess) Status(t testing.TB) control.Status {
	t.Helper()
	code, body := p.Get(t, "/api/v1/status")
	var st control.Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("GET /api/v1/status = %d %q", code, body)
	}
	return st
}

// runChaosdCommand runs a one-shot chaosd subcommand against c and returns
// its exit code and combined output.
func runChaosdCommand(t testing.TB, c *cluster.Cluster, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaosdBinary(t), append(args, "--kubeconfig", c.Kubeconfig)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("chaosd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return 0, string(out)
}

// eventually polls cond every 100ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// syncBuffer is a bytes.Buffer safe for a process writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
