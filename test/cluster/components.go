package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// startControlPlane starts etcd and kube-apiserver, waits for both, and
// builds the clients.
func (c *Cluster) startControlPlane(ctx context.Context, bins binaries) error {
	l := c.layout
	start := time.Now()
	etcd, err := c.sup.start("etcd", tierStorage, bins.etcd, etcdArgs(l), nil)
	if err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, c.health, l.etcdURL()+"/health", "", etcd); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	c.record("etcd", start)

	start = time.Now()
	apiserver, err := c.sup.start("kube-apiserver", tierAPIServer, bins.apiserver, apiserverArgs(l, c.creds), nil)
	if err != nil {
		return err
	}
	trusting := httpClientFor(c.creds.caPEM)
	defer trusting.CloseIdleConnections()
	if err := waitHTTPReady(ctx, trusting, l.apiserverURL()+"/readyz", c.creds.token, apiserver); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	c.record("kube-apiserver", start)

	c.Kubeconfig = l.kubeconfig()
	if err := writeKubeconfig(c.Kubeconfig, l.apiserverURL(), c.creds.caPEM, c.creds.token); err != nil {
		return err
	}
	return c.connect()
}

// connect builds the clients from c.Kubeconfig.
func (c *Cluster) connect() error {
	cfg, err := restConfigFrom(c.Kubeconfig)
	if err != nil {
		return err
	}
	c.RESTConfig = cfg
	if c.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	if c.Istio, err = istioclient.NewForConfig(cfg); err != nil {
		return fmt.Errorf("istio client: %w", err)
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	return nil
}

// startWorkers starts the controller manager, the scheduler and kwok, and
// meanwhile installs CRDs and registers the fake nodes; it returns once the
// controllers are healthy, the CRDs established and the nodes Ready.
func (c *Cluster) startWorkers(ctx context.Context, bins binaries) error {
	l := c.layout
	start := time.Now()
	schedulerConfigPath := l.path("kube-scheduler.yaml")
	if err := os.WriteFile(schedulerConfigPath, []byte(schedulerConfig(l)), 0o644); err != nil {
		return fmt.Errorf("write scheduler config: %w", err)
	}
	kcm, err := c.sup.start("kube-controller-manager", tierClients, bins.controllerManager, controllerManagerArgs(l, c.creds, c.opts.NoWorkloadControllers), nil)
	if err != nil {
		return err
	}
	sched, err := c.sup.start("kube-scheduler", tierClients, bins.scheduler, schedulerArgs(l, schedulerConfigPath), nil)
	if err != nil {
		return err
	}
	var kwok *process
	if c.opts.Kwok {
		// HOME keeps kwok from loading the developer's ~/.kwok/kwok.yaml.
		env := []string{"HOME=" + l.path("kwok-home")}
		if kwok, err = c.sup.start("kwok", tierClients, bins.kwok, kwokArgs(l, bins.kwokStages), env); err != nil {
			return err
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for _, w := range []struct {
			proc *process
			port int
		}{{kcm, l.controllerManagerPort}, {sched, l.schedulerPort}} {
			url := "https://127.0.0.1:" + strconv.Itoa(w.port) + "/healthz"
			if err := waitHTTPReady(gctx, c.health, url, "", w.proc); err != nil {
				return fmt.Errorf("%s: %w", w.proc.name, err)
			}
		}
		c.record("controllers", start)
		return nil
	})
	if c.opts.IstioCRDs {
		g.Go(func() error { return c.installIstioCRDs(gctx) })
	}
	if c.opts.Kwok {
		g.Go(func() error { return c.registerNodes(gctx, kwok) })
	}
	return g.Wait()
}

func (c *Cluster) installIstioCRDs(ctx context.Context) error {
	start := time.Now()
	cwd, _ := os.Getwd()
	path, err := istioCRDPath(os.Getenv, cwd)
	if err != nil {
		return err
	}
	if err := installCRDs(ctx, c.dynamic, path); err != nil {
		return fmt.Errorf("istio CRDs: %w", err)
	}
	c.record("istio-crds", start)
	return nil
}

// registerNodes creates the fake nodes and waits until kwok reports them
// Ready and the node lifecycle controller has lifted the not-ready taint.
func (c *Cluster) registerNodes(ctx context.Context, kwok *process) error {
	start := time.Now()
	nodes := nodesFor(c.opts)
	if err := createNodes(ctx, c.Kube, nodes); err != nil {
		return err
	}
	if err := c.waitNodesReady(ctx, len(nodes), kwok); err != nil {
		return err
	}
	c.record("nodes-ready", start)
	return nil
}

// startMonitoring starts Alertmanager and Prometheus if enabled and waits
// until they are ready. It needs nothing from the control plane, so it runs
// alongside it.
func (c *Cluster) startMonitoring(ctx context.Context, bins binaries) error {
	start := time.Now()
	if c.opts.Alertmanager.Enabled {
		if err := c.startAlertmanager(ctx, bins); err != nil {
			return err
		}
	}
	if c.opts.Prometheus.Enabled {
		if err := c.startPrometheus(ctx, bins); err != nil {
			return err
		}
	}
	if c.opts.Alertmanager.Enabled || c.opts.Prometheus.Enabled {
		c.record("monitoring", start)
	}
	return nil
}

func (c *Cluster) startAlertmanager(ctx context.Context, bins binaries) error {
	l := c.layout
	cfg, err := alertmanagerConfig(c.opts.Alertmanager.WebhookURL)
	if err != nil {
		return err
	}
	path := l.path("alertmanager", "alertmanager.yml")
	if err := writeFile(path, cfg); err != nil {
		return err
	}
	am, err := c.sup.start("alertmanager", tierClients, bins.alertmanager, alertmanagerArgs(l, path), nil)
	if err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, c.health, l.alertmanagerURL()+"/-/ready", "", am); err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	c.AlertmanagerURL = l.alertmanagerURL()
	return nil
}

func (c *Cluster) startPrometheus(ctx context.Context, bins binaries) error {
	l := c.layout
	targets := append([]ScrapeTarget(nil), c.opts.Prometheus.Targets...)
	if c.Exporter != nil {
		targets = append(targets, ScrapeTarget{Job: "demo", Addresses: []string{c.Exporter.Addr()}})
	}
	if c.Traffic != nil {
		targets = append(targets, c.Traffic.trafficTarget())
	}
	amAddr := ""
	if c.opts.Alertmanager.Enabled {
		amAddr = "127.0.0.1:" + strconv.Itoa(l.alertmanagerPort)
	}
	rulesPath := l.path("prometheus", "rules.yml")
	cfg, err := prometheusConfig("127.0.0.1:"+strconv.Itoa(l.prometheusPort), targets, rulesPath, amAddr)
	if err != nil {
		return err
	}
	if err := writeFile(rulesPath, []byte(rulesOrEmpty(c.opts.Prometheus.Rules))); err != nil {
		return err
	}
	path := l.path("prometheus", "prometheus.yml")
	if err := writeFile(path, cfg); err != nil {
		return err
	}
	prom, err := c.sup.start("prometheus", tierClients, bins.prometheus, prometheusArgs(l, path), nil)
	if err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, c.health, l.prometheusURL()+"/-/ready", "", prom); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	c.PrometheusURL = l.prometheusURL()
	return nil
}

// rulesOrEmpty keeps the rule file valid when no rules are given, so
// SetPrometheusRules can fill it in later.
func rulesOrEmpty(rules string) string {
	if rules == "" {
		return "groups: []\n"
	}
	return rules
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create dir for %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
