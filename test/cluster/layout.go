package cluster

import (
	"fmt"
	"path/filepath"
)

// Address plan. The ranges do not overlap, so a Pod IP, a Service IP and a
// Node IP are always distinguishable in test output.
const (
	serviceCIDR  = "10.0.0.0/16"   // kube-apiserver --service-cluster-ip-range
	podCIDRBase  = "10.64.0.0/10"  // split into one /21 per fake node
	kwokPodCIDR  = "10.128.0.0/10" // kwok's fallback for nodes without podCIDR
	nodeIPBase   = "10.254.0.0/16" // fake node InternalIPs
	nodePodCIDRs = 21              // prefix length of a node's pod range: 2046 pods
)

// layout is where one cluster keeps its files and which ports it listens on.
type layout struct {
	dir string

	etcdClientPort, etcdPeerPort int
	apiserverPort                int
	controllerManagerPort        int
	schedulerPort                int
	prometheusPort               int
	alertmanagerPort             int
	// istiod's listeners, reserved only when it runs.
	istiodGRPCPort, istiodHTTPPort, istiodMonitoringPort, istiodCtrlzPort int
	// Jaeger's OTLP/HTTP receiver and query API, reserved only when it runs.
	jaegerOTLPPort, jaegerQueryHTTPPort, jaegerQueryGRPCPort int
}

func (l layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.dir}, elem...)...)
}

func (l layout) logDir() string     { return l.path("logs") }
func (l layout) kubeconfig() string { return l.path("kubeconfig") }

func (l layout) etcdURL() string      { return fmt.Sprintf("http://127.0.0.1:%d", l.etcdClientPort) }
func (l layout) apiserverURL() string { return fmt.Sprintf("https://127.0.0.1:%d", l.apiserverPort) }
func (l layout) prometheusURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", l.prometheusPort)
}
func (l layout) alertmanagerURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", l.alertmanagerPort)
}

func (l layout) istiodXDSAddr() string { return fmt.Sprintf("127.0.0.1:%d", l.istiodGRPCPort) }
func (l layout) istiodURL() string     { return fmt.Sprintf("http://127.0.0.1:%d", l.istiodHTTPPort) }

func (l layout) jaegerOTLPURL() string { return fmt.Sprintf("http://127.0.0.1:%d", l.jaegerOTLPPort) }
func (l layout) jaegerQueryURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", l.jaegerQueryHTTPPort)
}
