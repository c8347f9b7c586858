package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	istioclient "istio.io/client-go/pkg/clientset/versioned"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Cluster is a running local cluster (or, in existing-cluster mode, a
// connection to someone else's). Its fields are read-only.
type Cluster struct {
	// Dir is the working directory: configs, data, logs/. Empty for an
	// existing cluster.
	Dir        string
	Kubeconfig string
	RESTConfig *rest.Config
	Kube       kubernetes.Interface
	Istio      istioclient.Interface
	// PrometheusURL and AlertmanagerURL are empty when not running.
	PrometheusURL   string
	AlertmanagerURL string
	// Exporter is the demo exporter, if Options.DemoExporter.
	Exporter *DemoExporter
	// IstiodXDSAddr is istiod's plaintext xDS host:port and IstiodURL its
	// HTTP debug endpoint (/ready, /debug/...), if Options.Istiod.
	IstiodXDSAddr string
	IstiodURL     string
	// Traffic is the gRPC demo with real traffic, if Options.Traffic.
	Traffic *TrafficDemo
	// JaegerOTLPURL is Jaeger's OTLP/HTTP receiver (a base URL, as
	// tracing.otlpEndpoint takes it) and JaegerQueryURL its query API
	// (/api/traces), if Options.Jaeger.
	JaegerOTLPURL  string
	JaegerQueryURL string

	opts    Options
	layout  layout
	dynamic dynamic.Interface
	sup     *supervisor
	ports   *portAllocator
	creds   credentials
	// health checks loopback endpoints; verification is skipped for the
	// self-signed controller-manager and scheduler endpoints.
	health   *http.Client
	external bool
	// retainDir is set by Start: the test cleanup, not Down, removes Dir,
	// after saving the logs of a failed test.
	retainDir bool

	timingsMu sync.Mutex
	timings   []Timing

	downOnce sync.Once
	downErr  error
}

// Timing is how long one start-up phase took. Phases overlap where they
// run concurrently; "total" is the wall time of Up.
type Timing struct {
	Phase string
	Took  time.Duration
}

// Timings returns the start-up phases in the order they finished.
func (c *Cluster) Timings() []Timing {
	c.timingsMu.Lock()
	defer c.timingsMu.Unlock()
	return append([]Timing(nil), c.timings...)
}

func (c *Cluster) record(phase string, since time.Time) {
	took := time.Since(since).Round(time.Millisecond)
	c.timingsMu.Lock()
	c.timings = append(c.timings, Timing{Phase: phase, Took: took})
	c.timingsMu.Unlock()
	c.opts.Logf("cluster: %s done in %s", phase, took)
}

// External reports whether the cluster was not started by this process.
func (c *Cluster) External() bool { return c.external }

// PIDs returns the PID of each component process, by component name.
func (c *Cluster) PIDs() map[string]int {
	if c.sup == nil {
		return nil
	}
	return c.sup.pids()
}

// LogDir is where component logs are written ("" for an existing cluster).
func (c *Cluster) LogDir() string {
	if c.external {
		return ""
	}
	return c.layout.logDir()
}

// Up starts a cluster as opts describes and returns once everything asked
// for is ready. On error nothing is left running; the logs are copied to
// opts.ArtifactsDir if set.
func Up(ctx context.Context, opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("invalid cluster options: %w", err)
	}
	if opts.Existing != nil {
		return connectExisting(ctx, opts)
	}
	bins, err := findBinaries(opts, os.Getenv, exec.LookPath)
	if err != nil {
		return nil, fmt.Errorf("find binaries: %w", err)
	}
	c := &Cluster{opts: opts}
	if err := c.boot(ctx, bins); err != nil {
		return nil, c.abort(err)
	}
	return c, nil
}

// boot runs the start-up phases in dependency order; independent phases
// (monitoring vs. control plane, controllers vs. CRDs) overlap.
func (c *Cluster) boot(ctx context.Context, bins binaries) error {
	begin := time.Now()
	if err := c.prepare(); err != nil {
		return err
	}
	c.sup = newSupervisor(c.layout.logDir())
	c.health = httpClientFor(nil)
	defer c.health.CloseIdleConnections()

	monitoring := make(chan error, 1)
	go func() { monitoring <- c.startMonitoring(ctx, bins) }()

	if err := c.startControlPlane(ctx, bins); err != nil {
		return err
	}
	if err := c.startWorkers(ctx, bins); err != nil {
		return err
	}
	if err := <-monitoring; err != nil {
		return err
	}
	if c.opts.Istiod {
		if err := c.startIstiod(ctx, bins); err != nil {
			return err
		}
	}
	if c.opts.Jaeger {
		if err := c.startJaeger(ctx, bins); err != nil {
			return err
		}
	}
	if c.Traffic != nil {
		if err := c.connectTraffic(ctx); err != nil {
			return err
		}
	}
	if c.opts.DemoWorkload {
		start := time.Now()
		if err := c.ApplyDemoWorkload(ctx); err != nil {
			return err
		}
		if err := c.WaitDemoReady(ctx); err != nil {
			return err
		}
		c.record("demo-ready", start)
	}
	c.record("total", begin)
	return nil
}

// prepare creates the working directory, reserves ports and writes the
// credentials.
func (c *Cluster) prepare() error {
	sweepStaleDirs(os.TempDir())
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return fmt.Errorf("create working dir: %w", err)
	}
	c.Dir = dir
	if err := writeOwner(dir); err != nil {
		return fmt.Errorf("mark working dir: %w", err)
	}
	c.layout.dir = dir
	if err := os.MkdirAll(c.layout.logDir(), 0o755); err != nil {
		return fmt.Errorf("create log dir: %w", err)
	}
	// Seeded per process and time: only collisions need avoiding, and the
	// port locks resolve those; nothing depends on reproducing the choice.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	c.ports, err = newPortAllocator(rng, filepath.Join(os.TempDir(), "chaosd-e2e-ports"))
	if err != nil {
		return err
	}
	p, err := c.ports.reserveN(7)
	if err != nil {
		return fmt.Errorf("reserve ports: %w", err)
	}
	l := &c.layout
	l.etcdClientPort, l.etcdPeerPort, l.apiserverPort = p[0], p[1], p[2]
	l.controllerManagerPort, l.schedulerPort = p[3], p[4]
	l.prometheusPort, l.alertmanagerPort = p[5], p[6]

	if c.opts.Istiod {
		if p, err = c.ports.reserveN(4); err != nil {
			return fmt.Errorf("reserve istiod ports: %w", err)
		}
		l.istiodGRPCPort, l.istiodHTTPPort, l.istiodMonitoringPort, l.istiodCtrlzPort = p[0], p[1], p[2], p[3]
	}
	if c.opts.Jaeger {
		if p, err = c.ports.reserveN(3); err != nil {
			return fmt.Errorf("reserve jaeger ports: %w", err)
		}
		l.jaegerOTLPPort, l.jaegerQueryHTTPPort, l.jaegerQueryGRPCPort = p[0], p[1], p[2]
	}

	if c.creds, err = writeCredentials(l.path("pki")); err != nil {
		return err
	}
	if c.opts.DemoExporter {
		if c.Exporter, err = NewDemoExporter(); err != nil {
			return err
		}
	}
	// Before Prometheus starts, so its scrape config names the endpoint.
	if c.opts.Traffic {
		if c.Traffic, err = newTrafficDemo(rng); err != nil {
			return err
		}
	}
	return nil
}

// abort tears down after a failed Up, keeping the logs if asked to, and
// returns err with a pointer to them.
func (c *Cluster) abort(err error) error {
	if stopErr := c.stop(); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	if c.Dir == "" {
		return err
	}
	if c.opts.ArtifactsDir != "" {
		if copyErr := copyLogs(c.layout.logDir(), c.opts.ArtifactsDir); copyErr != nil {
			err = errors.Join(err, copyErr)
		} else {
			err = fmt.Errorf("%w (component logs in %s)", err, c.opts.ArtifactsDir)
		}
	}
	if c.opts.KeepDir {
		return fmt.Errorf("%w (working dir kept: %s)", err, c.Dir)
	}
	if rmErr := os.RemoveAll(c.Dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove %s: %w", c.Dir, rmErr))
	}
	return err
}

// Down stops every process and removes the working directory (unless
// Options.KeepDir, or the cluster came from Start, whose cleanup removes it
// after saving a failed test's logs). It is safe to call more than once.
func (c *Cluster) Down() error {
	c.downOnce.Do(func() {
		begin := time.Now()
		c.downErr = c.stop()
		c.opts.Logf("cluster: stopped in %s", time.Since(begin).Round(time.Millisecond))
		if c.Dir != "" && !c.retainDir && !c.opts.KeepDir {
			if err := os.RemoveAll(c.Dir); err != nil {
				c.downErr = errors.Join(c.downErr, fmt.Errorf("remove %s: %w", c.Dir, err))
			}
		}
	})
	return c.downErr
}

// stopGrace is how long components get to exit on SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// stop ends everything this cluster started.
func (c *Cluster) stop() error {
	var errs []error
	if c.Exporter != nil {
		errs = append(errs, c.Exporter.Close())
	}
	// Before istiod stops, so the client's xDS stream ends cleanly.
	if c.Traffic != nil {
		errs = append(errs, c.Traffic.close())
	}
	if c.sup != nil {
		errs = append(errs, c.sup.stopAll(stopGrace))
		c.sup.close()
	}
	if c.ports != nil {
		errs = append(errs, c.ports.release())
	}
	return errors.Join(errs...)
}
