package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosd/chaosd/internal/daemon"
)

// daemonFlags are shared by run and once.
type daemonFlags struct {
	kube       kubeFlags
	configPath string
	configMap  string
	journalDir string
	identity   string
	nodeName   string
	scope      scopeFlags
}

func (f *daemonFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.kube.register(fs, "chaosd's own namespace: its Lease, ConfigMap and node snapshots (default: kubeconfig's, else chaosd)")
	fs.StringVarP(&f.configPath, "config", "f", "/etc/chaosd/config.yaml", "config file (mount the ConfigMap as a directory, not with subPath, or reloads never arrive)")
	fs.StringVar(&f.configMap, "configmap", "chaosd-config", "chaosd's ConfigMap for pause/resume, status and Events (empty disables)")
	fs.StringVar(&f.journalDir, "journal-dir", "", "where run journals are written (default: the config's journal.dir, else ./chaosd-journal)")
	fs.StringVar(&f.identity, "identity", envOr("POD_NAME", hostname()), "this replica's unique name (default $POD_NAME or the hostname); chaosd once adds a random suffix")
	fs.StringVar(&f.nodeName, "node-name", os.Getenv("NODE_NAME"), "the node chaosd runs on, never a node target (default $NODE_NAME)")
	f.scope.register(fs, true)
}

func (f *daemonFlags) options(g *globalOptions) (daemon.Options, error) {
	watch, err := f.scope.namespaces()
	if err != nil {
		return daemon.Options{}, err
	}
	log, err := g.logger()
	if err != nil {
		return daemon.Options{}, err
	}
	if err := applyMemoryLimit(log, os.Getenv); err != nil {
		return daemon.Options{}, err
	}
	c, err := f.kube.clients()
	if err != nil {
		return daemon.Options{}, err
	}
	return daemon.Options{
		ConfigPath: f.configPath, Kube: c.kube, Metadata: c.metadata, Istio: c.istio, Dynamic: c.dynamic,
		Namespace: f.kube.resolvedNamespace(), WatchNamespaces: watch, Identity: f.identity, NodeName: f.nodeName,
		ConfigMap: f.configMap, JournalDir: f.journalDir, Logger: log,
	}, nil
}

func newRunCommand(g *globalOptions) *cobra.Command {
	var (
		f             daemonFlags
		podName       string
		listen        string
		leaderElect   bool
		leaseName     string
		leaseDuration time.Duration
		renewDeadline time.Duration
		retryPeriod   time.Duration
		recoverEvery  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: scheduled experiments, judged by Prometheus and Alertmanager",
		Long: `Run is the long-running process the Helm chart deploys. It follows the config
file (hot reload), the pause switches and its Lease; while leading it reverts
orphaned faults, then runs experiments on their jittered schedules. SIGTERM
reverts every active fault before exiting.

With --namespaced --watch-namespaces=a,b (the chart's rbac.scope=namespaced)
it reads and changes only those namespaces and its own: no nodes, no Namespace
objects, nothing cluster-wide. A config with node or zone experiments, or
aiming at other namespaces, is refused at start and on reload.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if recoverEvery <= 0 {
				return fmt.Errorf("--recover-every must be positive, got %s", recoverEvery)
			}
			o, err := f.options(g)
			if err != nil {
				return err
			}
			o.Listen, o.LeaderElect, o.LeaseName, o.PodName = listen, leaderElect, leaseName, podName
			o.Lease = daemon.LeaseTimings{Duration: leaseDuration, RenewDeadline: renewDeadline, RetryPeriod: retryPeriod}
			o.RecoverEvery = recoverEvery
			defer func() { _ = o.Logger.Sync() }()
			return daemon.Run(cmd.Context(), o)
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&podName, "pod-name", os.Getenv("POD_NAME"), "chaosd's own Pod, labelled "+daemon.LabelLeader+"=true while it leads so that chaosd's Service reaches only the leader; empty outside a pod (default $POD_NAME)")
	fs.StringVar(&listen, "listen", ":8080", "HTTP address for the status page, API, /metrics, /healthz and /readyz")
	fs.BoolVar(&leaderElect, "leader-elect", false, "elect a leader on a Lease so several replicas can run; only the leader injects")
	fs.StringVar(&leaseName, "lease-name", "chaosd", "name of the Lease used for leader election")
	fs.DurationVar(&leaseDuration, "lease-duration", 15*time.Second, "leader election lease duration")
	fs.DurationVar(&renewDeadline, "lease-renew-deadline", 10*time.Second, "leader election renew deadline")
	fs.DurationVar(&retryPeriod, "lease-retry-period", 2*time.Second, "leader election retry period")
	fs.DurationVar(&recoverEvery, "recover-every", time.Minute, "how often the leader looks for orphaned or expired faults to revert (also sooner, when a kept fault's writer or expiry runs out)")
	return cmd
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "chaosd"
	}
	return h
}
