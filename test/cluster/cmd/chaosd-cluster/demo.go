package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/test/cluster"
)

// demoRules make the playground's guard meaningful: the demo exporter's
// health, as an alert chaosd blocks on.
const demoRules = `groups:
- name: playground
  rules:
  - alert: DemoUnhealthy
    expr: demo_healthy < 1
    for: 0s
    labels: {severity: warning}
    annotations: {summary: "the demo service is unhealthy"}
`

// demo starts the cluster, then runs chaosd against it until either exits.
// chaosd listens on a free loopback port, scraped by Prometheus as job chaosd.
func demo(ctx context.Context, args []string) error {
	var f clusterFlags
	var chaosdBin, config string
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(fs)
	fs.StringVar(&chaosdBin, "chaosd", "bin/chaosd", "chaosd binary")
	fs.StringVar(&config, "config", "config/demo.yaml", "chaosd configuration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	f.targets = append(f.targets, cluster.ScrapeTarget{Job: "chaosd", Addresses: []string{listen}})
	if f.rulesFile == "" {
		f.defaultRules = demoRules
	}
	c, err := f.start(ctx)
	if err != nil {
		return err
	}
	cfgPath, err := playgroundConfig(c, config, listen)
	if err == nil {
		err = createChaosdNamespace(ctx, c)
	}
	if err != nil {
		return errors.Join(err, shutdown(c, os.Stderr))
	}
	printDemoGuide(os.Stdout, c, listen, chaosdBin, cfgPath, cluster.KubectlPath(os.Getenv, exec.LookPath))
	extra := append([]string{"--listen", listen, "--namespace", "chaosd", "--configmap", "chaosd-config",
		"--journal-dir", filepath.Join(c.Dir, "journal"), "--log-format", "console"}, fs.Args()...)
	runErr := runChaosd(ctx, c, chaosdBin, cfgPath, extra)
	return errors.Join(runErr, shutdown(c, os.Stderr))
}

// freeAddr picks a free loopback port for chaosd's HTTP server.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a port for chaosd: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// createChaosdNamespace creates chaosd's namespace and ConfigMap, where
// chaosd pause/resume/status keep their state, as the Helm chart would.
func createChaosdNamespace(ctx context.Context, c *cluster.Cluster) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "chaosd"}}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace chaosd: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "chaosd", Name: "chaosd-config"},
		Data: map[string]string{"note": "the playground's chaosd reads its config from a file; this ConfigMap holds pause and status"}}
	if _, err := c.Kube.CoreV1().ConfigMaps("chaosd").Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create configmap chaosd/chaosd-config: %w", err)
	}
	return nil
}

// printDemoGuide prints where to look. Every URL and command in it works as
// printed (TestSmokePlayground follows them): Debian's Prometheus serves its
// pages under /classic, Debian's Alertmanager has no web UI (its API is
// linked instead), and chaosd is named by the path it was started from.
func printDemoGuide(w io.Writer, c *cluster.Cluster, listen, chaosdBin, cfgPath, kubectl string) {
	fmt.Fprintf(w, `
chaosd playground
  status page    http://%[1]s/            (guard panel, last-hour chart, runs, active faults, next activations)
  status API     http://%[1]s/api/v1/status
  metrics        http://%[1]s/metrics
  Prometheus     %[2]s/classic/graph   (try: chaosd_runs_total, chaosd_active_injections)
                 %[2]s/classic/alerts
  Alertmanager   %[3]s/api/v2/alerts   (JSON: Debian's Alertmanager has no web UI)
%[7]s  make it fail   abort-go-demo-8 holds its fault 90s of every 3 min, the first about 3 min after
                 chaosd starts (the status page's "Next activations" says when). While "Active
                 faults" lists it:
                 curl -X POST %[4]s/unhealthy   (DemoUnhealthy fires; chaosd halts, reverts, raises
                                 ChaosWeaknessFound in Alertmanager and pauses 2 min)
                 curl -X POST %[4]s/healthy
  pause/resume   %[6]s pause --kubeconfig %[5]s --reason "looking around"
                 %[6]s resume --kubeconfig %[5]s
                 %[6]s status --kubeconfig %[5]s
`, listen, c.PrometheusURL, c.AlertmanagerURL, exporterURL(c), c.Kubeconfig, chaosdBin, trafficLines(c))
	if kubectl != "" {
		fmt.Fprintf(w, `  kubectl        %[2]s --kubeconfig %[1]s get pods,virtualservices -n go-demo-8 -o wide
                 %[2]s --kubeconfig %[1]s get events -n chaosd
`, c.Kubeconfig, kubectl)
	} else {
		fmt.Fprintf(w, "  kubectl        none built (hack/e2e-bins.sh) or on PATH; with one: KUBECONFIG=%s kubectl get pods -n go-demo-8\n", c.Kubeconfig)
	}
	fmt.Fprintf(w, "  config         %s   (edit and save: chaosd reloads it)\n", cfgPath)
	fmt.Fprint(w, "  stop           Ctrl-C (chaosd reverts its faults, then the cluster stops)\n\n")
}

// trafficLines point at the gRPC demo's error ratio, which abort-grpc-demo
// moves while its fault is held.
func trafficLines(c *cluster.Cluster) string {
	if c.Traffic == nil {
		return ""
	}
	return fmt.Sprintf("  gRPC demo      %s/classic/graph?g0.expr=%s&g0.tab=0&g0.range_input=15m\n"+
		"                 (its error ratio: abort-grpc-demo fails about 10%% of the requests while its fault is held;\n"+
		"                 no alert fires below 25%%, so chaosd reports an alert-gap and raises ChaosAlertGapFound)\n",
		c.PrometheusURL, url.QueryEscape(cluster.TrafficErrorRatio))
}

func exporterURL(c *cluster.Cluster) string {
	if c.Exporter == nil {
		return "(no demo exporter)"
	}
	return "http://" + c.Exporter.Addr()
}

// runChaosd runs `chaosd run --config <config> [extra...]` with the
// cluster's endpoints in its environment, and stops it with SIGTERM (so it
// can roll back its faults) when ctx ends.
func runChaosd(ctx context.Context, c *cluster.Cluster, bin, config string, extra []string) error {
	cmd := exec.Command(bin, append([]string{"run", "--config", config}, extra...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+c.Kubeconfig,
		"CHAOSD_PROMETHEUS_URL="+c.PrometheusURL,
		"CHAOSD_ALERTMANAGER_URL="+c.AlertmanagerURL,
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start chaosd: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("chaosd: %w", err)
		}
		return nil
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return nil
	}
}

// Placeholders in config/demo.yaml for the playground's monitoring, which
// listens on free loopback ports chosen at start.
const (
	placeholderPrometheus   = "http://prometheus.playground:9090"
	placeholderAlertmanager = "http://alertmanager.playground:9093"
	placeholderChaosd       = "http://chaosd.playground:8080"
)

// playgroundConfig writes a copy of the config with the playground's
// Prometheus and Alertmanager URLs, into a directory of its own (chaosd
// watches the directory for reloads).
func playgroundConfig(c *cluster.Cluster, path, listen string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	s := strings.NewReplacer(placeholderPrometheus, c.PrometheusURL, placeholderAlertmanager, c.AlertmanagerURL,
		placeholderChaosd, "http://"+listen).Replace(string(data))
	dir := filepath.Join(c.Dir, "chaosd-config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	return out, nil
}
