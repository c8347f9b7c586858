// Package daemon assembles `chaosd run`: it builds every stage of the
// pipeline from one validated config, serves the HTTP port, follows config
// reloads and pause switches, campaigns for leadership, and, while leading,
// recovers orphaned faults and runs the scheduler. On shutdown it stops
// scheduling, waits for runs to revert, reverts anything still active, and
// only then releases the lease.
//
// It holds the process's mutable state (current config, pauses); the stages
// it wires stay free of globals. It never injects anything itself.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/scheduler"
)

// Options configures the daemon; see `chaosd run --help` for each flag.
type Options struct {
	ConfigPath string
	Kube       kubernetes.Interface
	Metadata   metadata.Interface
	// Istio may be nil when Istio's CRDs are not installed.
	Istio istioclient.Interface
	// Dynamic reads Gateway API HTTPRoutes for the reach check; nil reads
	// none (and the check says so).
	Dynamic dynamic.Interface
	// Namespace is chaosd's own: its Lease, ConfigMap and node snapshots.
	Namespace string
	// WatchNamespaces, when set, is namespaced mode (Helm
	// rbac.scope=namespaced): chaosd reads and changes only these
	// namespaces and its own, and a config that aims elsewhere, or at
	// nodes, is refused at start and on reload (config.ValidateScope).
	WatchNamespaces []string
	// Identity names this replica (the pod name); unique per replica. It
	// is the writer recorded in intents and the name of the liveness Lease
	// of `chaosd run`; `chaosd once` adds a random suffix.
	Identity string
	// PodName is chaosd's own Pod, which carries LabelLeader while this
	// replica leads; empty outside a pod (nothing is labelled).
	PodName string
	// NodeName is the node chaosd runs on; never a node target.
	NodeName string
	// ConfigMap is chaosd's ConfigMap (pause switch, status, Events); empty
	// disables them.
	ConfigMap   string
	LeaderElect bool
	LeaseName   string
	Lease       LeaseTimings
	// Listen is the HTTP address (status, API, /metrics, probes).
	Listen     string
	JournalDir string
	// RecoverEvery is how often the leader looks for orphaned faults.
	RecoverEvery time.Duration
	// StatusEvery is how often the leader publishes its status.
	StatusEvery time.Duration
	Logger      *zap.Logger
	Clock       clock.WithTicker
	// Registry receives every chaosd_* metric; nil makes a new one.
	Registry *prometheus.Registry
	// HTTPClient is used for Prometheus, Alertmanager and notifications.
	HTTPClient *http.Client
}

// LeaseTimings are leader election's durations (zero: 15s/10s/2s).
type LeaseTimings struct {
	Duration, RenewDeadline, RetryPeriod time.Duration
}

// Run runs the daemon until ctx ends or leadership is lost.
func Run(ctx context.Context, o Options) error {
	o = o.withDefaults()
	cfg, err := o.loadConfig()
	if err != nil {
		return err
	}
	d, err := build(ctx, o, cfg, false)
	if err != nil {
		return err
	}
	// No liveness Lease here, unlike chaosd once: a daemon injects only
	// while it leads, and a replica that stops leading reverts and exits, so
	// a new leader must treat every other daemon's intents as orphaned at
	// once. A Lease kept alive for a few seconds after a SIGKILL would let
	// the new leader stack its faults on the dead one's.
	return d.run(ctx)
}

// loadConfig reads and validates the config file, and in namespaced mode
// checks it against the watched namespaces.
func (o Options) loadConfig() (*config.Config, error) {
	cfg, err := config.LoadFile(o.ConfigPath)
	if err == nil {
		err = o.accept(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return cfg, nil
}

// accept checks what a parsed config needs beyond its own validity, at
// start and on every reload: a guard, or the explicit opt-out from one,
// and in namespaced mode nothing outside the watched namespaces.
func (o Options) accept(cfg *config.Config) error {
	if err := cfg.ValidateGuarded(); err != nil {
		return err
	}
	return cfg.ValidateScope(o.WatchNamespaces)
}

// warnUnguarded says, at start and on each reload, that no monitoring
// judges the runs (guard.unguarded), and logs the config's other warnings
// (validate and plan print the same lines).
func (d *daemon) warnUnguarded(cfg *config.Config) {
	if cfg.Guard.Unguarded {
		d.log.Warn("running unguarded: no Alertmanager or Prometheus judges the runs, so every run that completes passes (guard.unguarded)")
	}
	for _, w := range cfg.Warnings() {
		d.log.Warn("config warning", zap.String("warning", w))
	}
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.LeaseName == "" {
		o.LeaseName = "chaosd"
	}
	if o.Identity == "" {
		o.Identity = "chaosd"
	}
	if o.RecoverEvery == 0 {
		o.RecoverEvery = time.Minute
	}
	if o.StatusEvery == 0 {
		o.StatusEvery = 5 * time.Second
	}
	return o
}

// run serves, watches and leads until ctx ends.
func (d *daemon) run(ctx context.Context) error {
	d.clearLeaderLabel(ctx)
	d.refreshScores() // from the runs already in the journal, before the first scrape
	ln, err := net.Listen("tcp", d.o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", d.o.Listen, err)
	}
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http server stopped", zap.Error(err))
		}
	}()
	fields := []zap.Field{zap.String("listen", ln.Addr().String()), zap.String("namespace", d.o.Namespace),
		zap.String("identity", d.o.Identity), zap.Bool("leaderElect", d.o.LeaderElect), zap.String("configHash", d.hash())}
	if len(d.o.WatchNamespaces) > 0 {
		fields = append(fields, zap.Strings("watchNamespaces", d.o.WatchNamespaces))
	}
	d.log.Info("chaosd started", fields...)
	d.warnUnguarded(d.cfg.Load())

	d.source.Start(ctx)
	go d.watchConfig(ctx)
	go d.watchControls(ctx)
	go func() {
		d.refreshGuardView(ctx)
		d.every(ctx, guardViewEvery, d.refreshGuardView)
	}()

	var runErr error
	if d.o.LeaderElect {
		runErr = scheduler.RunAsLeader(ctx, scheduler.LeaderOptions{
			Kube: d.o.Kube, Namespace: d.o.Namespace, LeaseName: d.o.LeaseName, Identity: d.o.Identity,
			LeaseDuration: d.o.Lease.Duration, RenewDeadline: d.o.Lease.RenewDeadline, RetryPeriod: d.o.Lease.RetryPeriod,
			Logger: d.log,
		}, d.lead)
	} else {
		d.lead(ctx)
	}
	d.shutdown(srv)
	return runErr
}

// lead is what the leader does: recover orphaned faults first, then
// schedule, recovering and publishing status periodically. It returns only
// after every run has reverted.
//
// Recovery reads only the intents recorded in the cluster, so it starts at
// once and keeps its period whatever the pod and workload inventory does;
// only scheduling waits for the inventory, which an RBAC gap can hold back
// indefinitely.
func (d *daemon) lead(ctx context.Context) {
	d.leading.Store(true)
	defer d.leading.Store(false)
	d.markLeader(ctx)
	defer d.clearLeaderLabel(ctx)
	recheckAt := d.recover(ctx)
	d.restoreCooldown(ctx)
	go d.recoverLoop(ctx, recheckAt)
	go d.every(ctx, d.o.StatusEvery, d.publishStatus)
	if d.waitInventory(ctx) {
		d.sched.Run(ctx) // returns after cancelling runs and waiting for their reverts
	}
	d.revertAll("leadership ended")
	d.publishStatus(context.WithoutCancel(ctx))
}

// waitInventory waits until the inventory has synced, logging every
// refusal by the API server (wrong RBAC) each deniedLogEvery: the daemon
// keeps waiting, since a fixed Role heals it without a restart. It reports
// false when ctx ended first.
func (d *daemon) waitInventory(ctx context.Context) bool {
	for {
		err := d.source.WaitSynced(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d.log.Error("cluster inventory refused; waiting for chaosd's RBAC to allow it", zap.Error(err))
		select {
		case <-ctx.Done():
			return false
		case <-d.o.Clock.After(deniedLogEvery):
		}
	}
}

// deniedLogEvery spaces the errors logged while the inventory is refused.
const deniedLogEvery = 30 * time.Second

// every calls fn every interval until ctx ends.
func (d *daemon) every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := d.o.Clock.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			fn(ctx)
		}
	}
}

// shutdown reverts what is left, stops the engine's background revert
// retries, drains notifications and stops serving. A fault whose revert
// still fails stays recorded in the cluster for the next leader's recovery.
func (d *daemon) shutdown(srv *http.Server) {
	d.revertAll("shutdown")
	d.engine.Close()
	if held := len(d.engine.Active()); held > 0 {
		d.log.Error("faults still held at shutdown; the next leader's recovery reverts them", zap.Int("held", held))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.notifier.close(ctx); err != nil {
		d.log.Warn("notifications not fully delivered", zap.Error(err))
	}
	d.tracer.shutdown(ctx)
	_ = d.journal.Close()
	_ = srv.Shutdown(ctx)
	d.log.Info("chaosd stopped")
}

// configMapRef names chaosd's ConfigMap, or ok=false when there is none.
func (d *daemon) configMapRef() (control.Ref, bool) {
	return control.Ref{Namespace: d.o.Namespace, Name: d.o.ConfigMap}, d.o.ConfigMap != ""
}
