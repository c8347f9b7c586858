package cluster

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IstioNamespace is istiod's own namespace; it must exist before istiod
// starts.
const IstioNamespace = "istio-system"

// startIstiod runs istiod out of cluster against the local API server and
// waits for its /ready. Every listener is on a reserved loopback port (the
// ctrlz debug server would otherwise take localhost:9876); the secure xDS
// and webhook listeners are off, and so are the CA and the webhooks
// (there is no in-cluster traffic to secure and nothing to inject):
// clients speak plaintext xDS to IstiodXDSAddr.
func (c *Cluster) startIstiod(ctx context.Context, bins binaries) error {
	start := time.Now()
	l := c.layout
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: IstioNamespace}}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: fieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", IstioNamespace, err)
	}
	meshConfig := l.path("istiod", "mesh.yaml")
	if err := writeFile(meshConfig, nil); err != nil {
		return err
	}
	proc, err := c.sup.start("istiod", tierClients, bins.istiod, istiodArgs(l, meshConfig), istiodEnv)
	if err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, c.health, l.istiodURL()+"/ready", "", proc); err != nil {
		return fmt.Errorf("istiod: %w", err)
	}
	c.IstiodXDSAddr = l.istiodXDSAddr()
	c.IstiodURL = l.istiodURL()
	c.record("istiod", start)
	return nil
}

// istiodEnv turns off what an out-of-cluster istiod needs no part of: the
// CA (which would write istio-ca-secret and istio-ca-root-cert ConfigMaps),
// the injection and validation webhooks, config analysis and distribution
// tracking.
var istiodEnv = []string{
	"POD_NAMESPACE=" + IstioNamespace,
	"REVISION=default",
	"ENABLE_CA_SERVER=false",
	"PILOT_ENABLE_CONFIG_DISTRIBUTION_TRACKING=false",
	"INJECTION_WEBHOOK_CONFIG_NAME=",
	"VALIDATION_WEBHOOK_CONFIG_NAME=",
	"PILOT_ENABLE_ANALYSIS=false",
}

// istiodArgs keeps every listener on loopback; an empty --httpsAddr and
// --secureGRPCAddr disable the webhook and secure xDS listeners.
func istiodArgs(l layout, meshConfig string) []string {
	return []string{
		"discovery",
		"--kubeconfig=" + l.kubeconfig(),
		"--grpcAddr=" + l.istiodXDSAddr(),
		"--httpAddr=127.0.0.1:" + strconv.Itoa(l.istiodHTTPPort),
		"--httpsAddr=",
		"--secureGRPCAddr=",
		"--monitoringAddr=127.0.0.1:" + strconv.Itoa(l.istiodMonitoringPort),
		"--ctrlz_address=127.0.0.1",
		"--ctrlz_port=" + strconv.Itoa(l.istiodCtrlzPort),
		"--domain=cluster.local",
		"--meshConfig=" + meshConfig,
		"--log_output_level=default:info",
	}
}
