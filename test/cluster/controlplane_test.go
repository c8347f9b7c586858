package cluster

import (
	"strings"
	"testing"
)

func testLayout() layout {
	return layout{dir: "/w", etcdClientPort: 1, etcdPeerPort: 2, apiserverPort: 3, controllerManagerPort: 4, schedulerPort: 5}
}

func TestComponentArgs(t *testing.T) {
	l := testLayout()
	creds := credentials{caCert: "/w/pki/ca.crt", servingCert: "/w/s.crt", servingKey: "/w/s.key", saKey: "/w/sa.key", saPub: "/w/sa.pub", tokenFile: "/w/t.csv"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "etcd", args: etcdArgs(l), want: []string{
			"--listen-client-urls=http://127.0.0.1:1", "--listen-peer-urls=http://127.0.0.1:2", "--data-dir=/w/etcd", "--unsafe-no-fsync",
		}},
		{name: "kube-apiserver", args: apiserverArgs(l, creds), want: []string{
			"--etcd-servers=http://127.0.0.1:1", "--bind-address=127.0.0.1", "--secure-port=3",
			// All three are required since 1.2x.
			"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file=/w/sa.pub", "--service-account-signing-key-file=/w/sa.key",
			"--token-auth-file=/w/t.csv", "--endpoint-reconciler-type=none", "--service-cluster-ip-range=10.0.0.0/16",
		}},
		{name: "kube-controller-manager", args: controllerManagerArgs(l, creds, false), want: []string{
			"--kubeconfig=/w/kubeconfig", "--controllers=*,-node-ipam-controller,-serviceaccount-token-controller",
			"--leader-elect=false", "--secure-port=4", "--bind-address=127.0.0.1",
		}},
		{name: "kube-controller-manager without workload controllers", args: controllerManagerArgs(l, creds, true), want: []string{
			"--controllers=*,-node-ipam-controller,-serviceaccount-token-controller,-deployment-controller,-replicaset-controller",
		}},
		{name: "kube-scheduler", args: schedulerArgs(l, "/w/s.yaml"), want: []string{"--config=/w/s.yaml", "--secure-port=5", "--bind-address=127.0.0.1"}},
		{name: "kwok", args: kwokArgs(l, []string{"/s/a.yaml", "/s/b.yaml"}), want: []string{
			"--kubeconfig=/w/kubeconfig", "--config=/s/a.yaml", "--config=/s/b.yaml", "--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--cidr=10.128.0.0/10",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, want := range tt.want {
				if !hasArg(tt.args, want) {
					t.Errorf("missing %s in %v", want, tt.args)
				}
			}
			for _, a := range tt.args {
				if strings.Contains(a, "=0.0.0.0") || strings.Contains(a, "=:") {
					t.Errorf("%s binds all interfaces", a)
				}
			}
		})
	}
}

func TestSchedulerConfig(t *testing.T) {
	cfg := schedulerConfig(testLayout())
	for _, want := range []string{"kind: KubeSchedulerConfiguration", `kubeconfig: "/w/kubeconfig"`, "qps: 500", "leaderElect: false"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("scheduler config lacks %q:\n%s", want, cfg)
		}
	}
}
