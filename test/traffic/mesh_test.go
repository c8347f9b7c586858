package traffic

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	istiofake "istio.io/client-go/pkg/clientset/versioned/fake"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sfake "k8s.io/client-go/kubernetes/fake"
)

var testMesh = Mesh{Namespace: "grpc-demo", Name: "grpc-demo", Server: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 7), Port: 31234}}

func TestMeshNames(t *testing.T) {
	if got, want := testMesh.Target(), "xds:///grpc-demo.grpc-demo.svc.cluster.local:7070"; got != want {
		t.Errorf("Target() = %q, want %q", got, want)
	}
}

func TestMeshBootstrap(t *testing.T) {
	raw, err := testMesh.Bootstrap("127.0.0.1:25010", "client")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Servers []struct {
			URI   string              `json:"server_uri"`
			Creds []map[string]string `json:"channel_creds"`
		} `json:"xds_servers"`
		Node struct {
			ID       string            `json:"id"`
			Metadata map[string]string `json:"metadata"`
		} `json:"node"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URI != "127.0.0.1:25010" || doc.Servers[0].Creds[0]["type"] != "insecure" {
		t.Errorf("xds_servers = %+v, want one insecure server at 127.0.0.1:25010", doc.Servers)
	}
	if want := "sidecar~127.0.0.1~client.grpc-demo~grpc-demo.svc.cluster.local"; doc.Node.ID != want {
		t.Errorf("node id %q, want %q", doc.Node.ID, want)
	}
	if m := doc.Node.Metadata; m["GENERATOR"] != "grpc" || m["NAMESPACE"] != "grpc-demo" || m["CLUSTER_ID"] != "Kubernetes" {
		t.Errorf("node metadata %v", m)
	}
}

func TestMeshRegister(t *testing.T) {
	kube := k8sfake.NewClientset()
	istio := istiofake.NewSimpleClientset()
	ctx := context.Background()
	for range 2 { // a second registration is harmless
		if err := testMesh.Register(ctx, kube, istio); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := kube.CoreV1().Services("grpc-demo").Get(ctx, "grpc-demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := svc.Spec.Ports; len(p) != 1 || p[0].Name != "grpc" || p[0].Port != ServicePort || p[0].AppProtocol == nil || *p[0].AppProtocol != "grpc" {
		t.Errorf("service ports %+v, want one named grpc, appProtocol grpc, port %d", p, ServicePort)
	}
	we, err := istio.NetworkingV1().WorkloadEntries("grpc-demo").Get(ctx, "grpc-demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if we.Spec.Address != "127.0.0.7" || we.Spec.Ports["grpc"] != 31234 || we.Spec.Labels["app"] != svc.Spec.Selector["app"] {
		t.Errorf("workloadentry %+v does not point the service's selector at 127.0.0.7:31234", &we.Spec)
	}
	vs, err := istio.NetworkingV1().VirtualServices("grpc-demo").Get(ctx, "grpc-demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Spec.Http) != 1 || vs.Spec.Http[0].Fault != nil || vs.Spec.Http[0].Route[0].Destination.Host != "grpc-demo" {
		t.Errorf("virtualservice http %+v, want one fault-free route to grpc-demo", vs.Spec.Http)
	}
}
