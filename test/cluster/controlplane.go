package cluster

import (
	"fmt"
	"strconv"
)

// Client rate limits for the controllers. The defaults (20 QPS) make a
// 10k-pod bulk rollout take minutes; the admin user is exempt from API
// Priority and Fairness, so the apiserver does not push back either.
const (
	controllerQPS   = 500
	controllerBurst = 1000
)

// etcdArgs runs a single-member etcd. --unsafe-no-fsync trades durability
// (irrelevant for a throw-away cluster) for much faster writes; the quota is
// raised so 100k-pod scale tests fit.
func etcdArgs(l layout) []string {
	client := l.etcdURL()
	peer := fmt.Sprintf("http://127.0.0.1:%d", l.etcdPeerPort)
	return []string{
		"--name=e2e",
		"--data-dir=" + l.path("etcd"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=e2e=" + peer,
		"--initial-cluster-state=new",
		"--unsafe-no-fsync",
		"--quota-backend-bytes=" + strconv.Itoa(8<<30),
		"--auto-compaction-mode=periodic",
		"--auto-compaction-retention=5m",
		"--log-level=warn",
	}
}

// apiserverArgs runs kube-apiserver on loopback with token authentication
// and RBAC. --endpoint-reconciler-type=none stops it advertising 127.0.0.1
// as the kubernetes Service endpoint to (non-existent) in-cluster clients.
func apiserverArgs(l layout, c credentials) []string {
	return []string{
		"--etcd-servers=" + l.etcdURL(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(l.apiserverPort),
		"--cert-dir=" + l.path("apiserver-certs"),
		"--tls-cert-file=" + c.servingCert,
		"--tls-private-key-file=" + c.servingKey,
		"--client-ca-file=" + c.caCert,
		"--token-auth-file=" + c.tokenFile,
		"--authorization-mode=Node,RBAC",
		"--service-account-key-file=" + c.saPub,
		"--service-account-signing-key-file=" + c.saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--max-requests-inflight=1600",
		"--max-mutating-requests-inflight=800",
		"--profiling=false",
	}
}

// controllerManagerArgs runs every controller except node IPAM (fake nodes
// get their pod CIDRs at creation) and the legacy token controller.
// nodelifecycle stays on: it clears the not-ready taint and is what chaosd's
// node faults meet in a real cluster. The disruption controller keeps PDB
// status current, which eviction depends on.
func controllerManagerArgs(l layout, c credentials, noWorkloadControllers bool) []string {
	controllers := "*,-node-ipam-controller,-serviceaccount-token-controller"
	if noWorkloadControllers {
		controllers += ",-deployment-controller,-replicaset-controller"
	}
	return []string{
		"--kubeconfig=" + l.kubeconfig(),
		"--controllers=" + controllers,
		"--use-service-account-credentials=false",
		"--kube-api-qps=" + strconv.Itoa(controllerQPS),
		"--kube-api-burst=" + strconv.Itoa(controllerBurst),
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(l.controllerManagerPort),
		"--service-account-private-key-file=" + c.saKey,
		"--root-ca-file=" + c.caCert,
		"--concurrent-deployment-syncs=20",
		"--concurrent-replicaset-syncs=20",
		"--profiling=false",
	}
}

// schedulerConfig is a KubeSchedulerConfiguration: the scheduler's client
// QPS and leader election are only settable there (the flags are deprecated).
func schedulerConfig(l layout) string {
	return fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: %d
  burst: %d
leaderElection:
  leaderElect: false
`, l.kubeconfig(), controllerQPS, controllerBurst)
}

func schedulerArgs(l layout, configPath string) []string {
	return []string{
		"--config=" + configPath,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(l.schedulerPort),
		"--profiling=false",
	}
}

// kwokNodeAnnotation marks the nodes kwok manages; chaosd treats them as
// ordinary nodes.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// kwokArgs runs kwok for annotated nodes only, with its HTTP server (logs,
// exec, port-forward) disabled: nothing in the tests uses it and it would
// need another port.
func kwokArgs(l layout, stages []string) []string {
	args := []string{
		"--kubeconfig=" + l.kubeconfig(),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--cidr=" + kwokPodCIDR,
		"--node-ip=" + firstIP(nodeIPBase),
		"--node-lease-duration-seconds=40",
	}
	for _, s := range stages {
		args = append(args, "--config="+s)
	}
	return args
}
