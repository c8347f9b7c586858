package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaosd/chaosd/test/cluster"
	"github.com/chaosd/chaosd/test/traffic"
)

// clusterFlags are the options both subcommands share.
type clusterFlags struct {
	nodes        int
	controlPlane bool
	noMonitoring bool
	rulesFile    string
	defaultRules string // used when no --rules file is given
	webhook      string
	targets      targetList
	keep         bool
	timeout      time.Duration
	traffic      bool
}

func (f *clusterFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.nodes, "nodes", 3, "number of fake worker nodes")
	fs.BoolVar(&f.controlPlane, "control-plane-node", false, "also add a tainted control-plane node")
	fs.BoolVar(&f.noMonitoring, "no-monitoring", false, "skip Prometheus, Alertmanager and the demo exporter")
	fs.StringVar(&f.rulesFile, "rules", "", "Prometheus rule file to load")
	fs.StringVar(&f.webhook, "webhook", "", "Alertmanager webhook receiver URL")
	fs.Var(&f.targets, "target", "extra scrape target job=host:port (repeatable), e.g. chaosd=127.0.0.1:8080")
	fs.BoolVar(&f.traffic, "traffic", false, "also run istiod and the gRPC demo with a steady load through it (namespace grpc-demo)")
	fs.BoolVar(&f.keep, "keep", false, "keep the working directory (logs, data) after shutdown")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "start-up timeout")
}

func (f *clusterFlags) options() (cluster.Options, error) {
	opts := cluster.FullOptions()
	opts.Nodes = f.nodes
	opts.ControlPlaneNode = f.controlPlane
	opts.KeepDir = f.keep
	opts.Istiod, opts.Traffic = f.traffic, f.traffic
	opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	if f.noMonitoring {
		opts.DemoExporter = false
		opts.Prometheus = cluster.PrometheusOptions{}
		opts.Alertmanager = cluster.AlertmanagerOptions{}
		return opts, nil
	}
	opts.Prometheus.Rules = f.defaultRules
	if f.traffic {
		opts.Prometheus.Rules = joinRules(opts.Prometheus.Rules, cluster.TrafficAlertRules)
	}
	if f.rulesFile != "" {
		rules, err := os.ReadFile(f.rulesFile)
		if err != nil {
			return opts, fmt.Errorf("read rules: %w", err)
		}
		opts.Prometheus.Rules = string(rules)
	}
	opts.Prometheus.Targets = f.targets
	opts.Alertmanager.WebhookURL = f.webhook
	return opts, nil
}

// start brings the cluster up and prints how to reach it.
func (f *clusterFlags) start(ctx context.Context) (*cluster.Cluster, error) {
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	startCtx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	begin := time.Now()
	c, err := cluster.Up(startCtx, opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "cluster ready in %s; logs in %s\n", time.Since(begin).Round(time.Millisecond), c.LogDir())
	envFile := filepath.Join(c.Dir, "env")
	if err := os.WriteFile(envFile, []byte(exports(c)), 0o644); err != nil {
		return nil, errors.Join(fmt.Errorf("write %s: %w", envFile, err), c.Down())
	}
	fmt.Fprintf(os.Stdout, "# eval these, or: source %s\n%s", envFile, exports(c))
	if c.Traffic != nil {
		// Bounded like every load here: it ends after playgroundLoad.Duration.
		c.Traffic.StartLoad(playgroundLoad) // Down stops it
		fmt.Fprintf(os.Stderr, "gRPC demo: %.0f requests/s through istiod to %s for up to %s; watch %s/classic/graph?g0.expr=%s\n",
			playgroundLoad.Rate, c.Traffic.Mesh.Target(), playgroundLoad.Duration, c.PrometheusURL, url.QueryEscape(cluster.TrafficErrorRatio))
	}
	return c, nil
}

// playgroundLoad is the playground's steady gRPC traffic.
var playgroundLoad = traffic.Load{Rate: 20, Requests: 36000, Duration: 30 * time.Minute, Timeout: 5 * time.Second, InFlight: 100}

// joinRules appends the groups of one rule file to another's.
func joinRules(a, b string) string {
	if a == "" {
		return b
	}
	return strings.TrimRight(a, "\n") + "\n" + strings.TrimPrefix(b, "groups:\n")
}

// exports are shell lines that point kubectl, and the e2e tests in
// existing-cluster mode, at c.
func exports(c *cluster.Cluster) string {
	var b strings.Builder
	fmt.Fprintf(&b, "export KUBECONFIG=%s\n", c.Kubeconfig)
	fmt.Fprintf(&b, "export %s=%s\n", cluster.EnvKubeconfig, c.Kubeconfig)
	if c.PrometheusURL != "" {
		fmt.Fprintf(&b, "export %s=%s\n", cluster.EnvPrometheusURL, c.PrometheusURL)
	}
	if c.AlertmanagerURL != "" {
		fmt.Fprintf(&b, "export %s=%s\n", cluster.EnvAlertmanagerURL, c.AlertmanagerURL)
	}
	if c.Exporter != nil {
		fmt.Fprintf(&b, "# demo exporter (scraped as job=demo): %s\n", c.Exporter.URL())
	}
	return b.String()
}

// up runs the cluster until ctx ends (Ctrl-C), then tears it down.
func up(ctx context.Context, args []string) error {
	var f clusterFlags
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := f.start(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "press Ctrl-C to stop")
	<-ctx.Done()
	return shutdown(c, os.Stderr)
}

func shutdown(c *cluster.Cluster, w io.Writer) error {
	fmt.Fprintln(w, "stopping cluster")
	if err := c.Down(); err != nil {
		return fmt.Errorf("stop cluster: %w", err)
	}
	return nil
}

// targetList is a repeatable job=host:port flag.
type targetList []cluster.ScrapeTarget

func (t *targetList) String() string { return fmt.Sprint(*t) }

func (t *targetList) Set(v string) error {
	job, addr, ok := strings.Cut(v, "=")
	if !ok || job == "" || addr == "" {
		return fmt.Errorf("want job=host:port, got %q", v)
	}
	*t = append(*t, cluster.ScrapeTarget{Job: job, Addresses: []string{addr}})
	return nil
}
