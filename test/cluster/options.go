package cluster

import (
	"errors"
	"fmt"
	"time"
)

// Options selects what Up starts. The zero value starts only etcd and the
// Kubernetes control plane, so a test that needs nothing else pays for
// nothing else; FullOptions turns everything on.
type Options struct {
	// Kwok starts kwok and creates Nodes fake Nodes for it to manage.
	Kwok bool
	// Nodes is the number of fake worker Nodes; 0 means 3 when Kwok is set.
	Nodes int
	// PodsPerNode is each fake Node's allocatable pod count; 0 means 1100.
	PodsPerNode int
	// ControlPlaneNode adds a tainted, kwok-managed "control-plane" Node,
	// the kind of Node chaosd must never touch.
	ControlPlaneNode bool
	// NoWorkloadControllers runs the controller manager without its
	// Deployment and ReplicaSet controllers, for ApplyBulkBound: a scale
	// test then creates the pods itself, already bound to nodes, so 100k
	// pods cost no controller, scheduler or Event writes on two cores.
	NoWorkloadControllers bool

	// IstioCRDs installs the Istio CRDs shipped with istio.io/api.
	IstioCRDs bool
	// DemoWorkload applies the go-demo-8 workload and waits until it is
	// available. It needs Kwok and IstioCRDs.
	DemoWorkload bool
	// Istiod runs a real Istio control plane (pilot-discovery) out of
	// cluster against the API server, serving plaintext xDS on loopback.
	// It needs IstioCRDs. Off by default: only tests with real traffic
	// pay for it (about a second to start, ~140 MB of memory).
	Istiod bool
	// Jaeger runs Jaeger v2 as an OTLP receiver with in-memory storage and
	// its query API, both on loopback (Cluster.JaegerOTLPURL,
	// Cluster.JaegerQueryURL). Off by default: only tracing tests need it.
	Jaeger bool
	// Traffic runs the gRPC demo service (test/traffic) registered in the
	// mesh, and a client that reaches it through istiod; when Prometheus is
	// enabled both sides are scraped as job "grpc-demo". It needs Istiod.
	Traffic bool

	// DemoExporter starts an in-process exporter (see DemoExporter); when
	// Prometheus is enabled it is scraped as job "demo".
	DemoExporter bool
	Prometheus   PrometheusOptions
	Alertmanager AlertmanagerOptions

	// Existing, when set, points Up at a running cluster instead of starting
	// processes. Start fills it from CHAOSD_E2E_* environment variables.
	Existing *ExistingCluster

	// BinDir holds etcd, kube-* and kwok; empty means CHAOSD_E2E_BIN or the
	// cache directory hack/e2e-bins.sh builds into.
	BinDir string
	// ArtifactsDir receives the component logs when start-up or the test
	// fails; empty means the logs are not kept.
	ArtifactsDir string
	// KeepDir keeps the working directory after Down, for debugging.
	KeepDir bool
	// StartTimeout bounds Start; 0 means 5 minutes. Up uses its context.
	StartTimeout time.Duration
	// Logf reports progress; nil discards it.
	Logf func(format string, args ...any)
}

// PrometheusOptions configures the Prometheus server.
type PrometheusOptions struct {
	Enabled bool
	// Rules is the content of one Prometheus rule file (YAML), if any.
	Rules string
	// Targets are extra scrape jobs, e.g. chaosd's own metrics address.
	Targets []ScrapeTarget
}

// ScrapeTarget is one static scrape job.
type ScrapeTarget struct {
	Job string
	// Addresses are host:port pairs.
	Addresses   []string
	MetricsPath string // default /metrics
}

// AlertmanagerOptions configures the Alertmanager server. When Prometheus is
// enabled too, Prometheus sends its alerts there.
type AlertmanagerOptions struct {
	Enabled bool
	// WebhookURL, if set, receives every notification.
	WebhookURL string
}

// ExistingCluster describes a cluster someone else runs.
type ExistingCluster struct {
	Kubeconfig      string
	PrometheusURL   string
	AlertmanagerURL string
}

// FullOptions returns the options of the complete demo environment: three
// fake nodes, Istio CRDs, the go-demo-8 workload, Prometheus with the demo
// exporter, and Alertmanager.
func FullOptions() Options {
	return Options{
		Kwok:         true,
		Nodes:        3,
		IstioCRDs:    true,
		DemoWorkload: true,
		DemoExporter: true,
		Prometheus:   PrometheusOptions{Enabled: true},
		Alertmanager: AlertmanagerOptions{Enabled: true},
	}
}

const (
	defaultNodes        = 3
	defaultPodsPerNode  = 1100
	defaultStartTimeout = 5 * time.Minute
)

// withDefaults fills in the documented defaults.
func (o Options) withDefaults() Options {
	if o.Kwok && o.Nodes == 0 {
		o.Nodes = defaultNodes
	}
	if o.PodsPerNode == 0 {
		o.PodsPerNode = defaultPodsPerNode
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = defaultStartTimeout
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// validate reports every inconsistent combination at once.
func (o Options) validate() error {
	var errs []error
	if o.Nodes < 0 {
		errs = append(errs, errors.New("nodes: must not be negative"))
	}
	if o.Nodes > 0 && !o.Kwok {
		errs = append(errs, errors.New("nodes: fake nodes need kwok"))
	}
	if o.ControlPlaneNode && !o.Kwok {
		errs = append(errs, errors.New("controlPlaneNode: needs kwok"))
	}
	if o.DemoWorkload && o.Existing == nil && !o.Kwok {
		errs = append(errs, errors.New("demoWorkload: pods only become ready with kwok"))
	}
	if o.DemoWorkload && o.NoWorkloadControllers {
		errs = append(errs, errors.New("demoWorkload: its Deployments need the workload controllers"))
	}
	if o.DemoWorkload && !o.IstioCRDs {
		errs = append(errs, errors.New("demoWorkload: needs istioCRDs for its VirtualServices"))
	}
	if o.Istiod && !o.IstioCRDs {
		errs = append(errs, errors.New("istiod: needs istioCRDs"))
	}
	if o.Traffic && !o.Istiod {
		errs = append(errs, errors.New("traffic: needs istiod to route its requests"))
	}
	if o.Prometheus.Rules != "" && !o.Prometheus.Enabled {
		errs = append(errs, errors.New("prometheus.rules: prometheus is disabled"))
	}
	for i, t := range o.Prometheus.Targets {
		if t.Job == "" || len(t.Addresses) == 0 {
			errs = append(errs, fmt.Errorf("prometheus.targets[%d]: job and addresses are required", i))
		}
	}
	if o.Alertmanager.WebhookURL != "" && !o.Alertmanager.Enabled {
		errs = append(errs, errors.New("alertmanager.webhookURL: alertmanager is disabled"))
	}
	return errors.Join(errs...)
}
