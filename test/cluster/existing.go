package cluster

import (
	"context"
	"fmt"
	"os"
)

// Environment variables selecting existing-cluster mode (see test/README.md).
const (
	EnvKubeconfig      = "CHAOSD_E2E_KUBECONFIG"
	EnvPrometheusURL   = "CHAOSD_E2E_PROMETHEUS_URL"
	EnvAlertmanagerURL = "CHAOSD_E2E_ALERTMANAGER_URL"
)

// ExistingFromEnv returns the existing cluster the environment names, or
// nil if CHAOSD_E2E_KUBECONFIG is unset.
func ExistingFromEnv(getenv func(string) string) *ExistingCluster {
	kubeconfig := getenv(EnvKubeconfig)
	if kubeconfig == "" {
		return nil
	}
	return &ExistingCluster{
		Kubeconfig:      kubeconfig,
		PrometheusURL:   getenv(EnvPrometheusURL),
		AlertmanagerURL: getenv(EnvAlertmanagerURL),
	}
}

// connectExisting uses a cluster started elsewhere. Nothing is started
// except the in-process demo exporter; missing Istio CRDs are created (never
// replaced) and the demo workload is applied if asked for. Fake nodes are
// the cluster owner's business.
func connectExisting(ctx context.Context, opts Options) (*Cluster, error) {
	ext := opts.Existing
	if opts.Istiod || opts.Traffic {
		// A real cluster brings its own Istio, with Envoy sidecars in front
		// of its services; the harness's istiod and loopback demo are local only.
		return nil, fmt.Errorf("istiod and the gRPC demo run only in a local cluster, not in the existing one (%s)", ext.Kubeconfig)
	}
	if opts.Jaeger {
		return nil, fmt.Errorf("jaeger runs only beside a local cluster, not the existing one (%s)", ext.Kubeconfig)
	}
	if _, err := os.Stat(ext.Kubeconfig); err != nil {
		return nil, fmt.Errorf("existing cluster kubeconfig: %w", err)
	}
	c := &Cluster{
		opts:            opts,
		external:        true,
		Kubeconfig:      ext.Kubeconfig,
		PrometheusURL:   ext.PrometheusURL,
		AlertmanagerURL: ext.AlertmanagerURL,
	}
	if err := c.connect(); err != nil {
		return nil, err
	}
	if _, err := c.Kube.Discovery().ServerVersion(); err != nil {
		return nil, fmt.Errorf("reach existing cluster: %w", err)
	}
	if opts.DemoExporter {
		var err error
		if c.Exporter, err = NewDemoExporter(); err != nil {
			return nil, err
		}
	}
	if opts.IstioCRDs {
		if err := c.installIstioCRDs(ctx); err != nil {
			return nil, c.abortExisting(err)
		}
	}
	if opts.DemoWorkload {
		if err := c.ApplyDemoWorkload(ctx); err != nil {
			return nil, c.abortExisting(err)
		}
		if err := c.WaitDemoReady(ctx); err != nil {
			return nil, c.abortExisting(err)
		}
	}
	return c, nil
}

func (c *Cluster) abortExisting(err error) error {
	if c.Exporter != nil {
		_ = c.Exporter.Close()
	}
	return err
}
