package traffic

import (
	"context"
	"encoding/json"
	"fmt"
	"net"

	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ServicePort is the demo Service's port, the one clients dial.
const ServicePort = 7070

// Mesh names the demo's place in the mesh.
type Mesh struct {
	Namespace string
	// Name is the Service's, the WorkloadEntry's, the VirtualService's and
	// the app label's.
	Name string
	// Server is where the demo server listens, in 127.0.0.0/8.
	Server *net.TCPAddr
}

// Host is the demo Service's cluster-local name.
func (m Mesh) Host() string { return fmt.Sprintf("%s.%s.svc.cluster.local", m.Name, m.Namespace) }

// Target is what a client dials: the Service's name resolved by istiod.
func (m Mesh) Target() string { return fmt.Sprintf("xds:///%s:%d", m.Host(), ServicePort) }

// Objects are the demo's mesh registration:
//   - a Service selecting app=<name>, its port named grpc with appProtocol
//     grpc, so istiod builds gRPC routes for it;
//   - a WorkloadEntry with that label on the server's loopback address.
//     Its EndpointSlice stays empty (the API server refuses loopback
//     endpoints); istiod takes the endpoint from the WorkloadEntry, as
//     Istio's own proxyless gRPC tests do;
//   - the VirtualService chaosd targets: one named route to the Service.
func (m Mesh) Objects() (*corev1.Service, *istiov1.WorkloadEntry, *istiov1.VirtualService) {
	labels := map[string]string{"app": m.Name}
	appProtocol := "grpc"
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name, Labels: labels},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "grpc", Port: ServicePort, AppProtocol: &appProtocol}},
		},
	}
	we := &istiov1.WorkloadEntry{
		ObjectMeta: metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name, Labels: labels},
		Spec: networkingv1.WorkloadEntry{
			Address: m.Server.IP.String(),
			Ports:   map[string]uint32{"grpc": uint32(m.Server.Port)},
			Labels:  labels,
		},
	}
	vs := &istiov1.VirtualService{
		ObjectMeta: metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name, Labels: labels},
		Spec: networkingv1.VirtualService{
			Hosts: []string{m.Name},
			Http: []*networkingv1.HTTPRoute{{
				Name:  m.Name,
				Route: []*networkingv1.HTTPRouteDestination{{Destination: &networkingv1.Destination{Host: m.Name, Port: &networkingv1.PortSelector{Number: ServicePort}}}},
			}},
		},
	}
	return svc, we, vs
}

// ClientName is the in-process client's name in the mesh: its xDS node id
// and its stand-in Pod's name.
const ClientName = "client"

// ClientPod declares the in-process client to the cluster as Istio knows
// such a client: a Pod in an injected namespace with the grpc-agent
// injection template (proxyless gRPC), named as its xDS node id says.
// The process itself is not in the Pod (kwok runs no containers); the Pod
// is what chaosd's reach check reads to learn that a proxyless gRPC
// caller lives in the namespace, as it would in a real cluster.
func (m Mesh) ClientPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: m.Namespace, Name: ClientName, Labels: map[string]string{"app": m.Name + "-client"},
			Annotations: map[string]string{"inject.istio.io/templates": "grpc-agent"},
		},
		Spec: corev1.PodSpec{
			NodeSelector:                 map[string]string{"type": "kwok"},
			Tolerations:                  []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			AutomountServiceAccountToken: new(false),
			Containers:                   []corev1.Container{{Name: "client", Image: "chaosd.invalid/grpc-demo-client"}},
		},
	}
}

// Register creates the namespace (injected, as proxyless gRPC needs),
// Objects and the client's stand-in Pod; existing ones are left as they
// are, so a second registration is harmless.
func (m Mesh) Register(ctx context.Context, kube kubernetes.Interface, istio istioclient.Interface) error {
	svc, we, vs := m.Objects()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: m.Namespace, Labels: map[string]string{"istio-injection": "enabled"}}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("create namespace %s: %w", m.Namespace, err)
	}
	if _, err := kube.CoreV1().Pods(m.Namespace).Create(ctx, m.ClientPod(), metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("create client pod %s/%s: %w", m.Namespace, ClientName, err)
	}
	if _, err := kube.CoreV1().Services(m.Namespace).Create(ctx, svc, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("create service %s/%s: %w", m.Namespace, m.Name, err)
	}
	if _, err := istio.NetworkingV1().WorkloadEntries(m.Namespace).Create(ctx, we, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("create workloadentry %s/%s: %w", m.Namespace, m.Name, err)
	}
	if _, err := istio.NetworkingV1().VirtualServices(m.Namespace).Create(ctx, vs, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("create virtualservice %s/%s: %w", m.Namespace, m.Name, err)
	}
	return nil
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// Bootstrap is grpc-go's xDS bootstrap for a client in m's namespace that
// talks plaintext xDS to istiod at xdsAddr. The node id has the shape
// istiod expects of a sidecar (sidecar~IP~pod.namespace~namespace.svc.cluster.local)
// and GENERATOR=grpc asks istiod for proxyless gRPC configuration.
func (m Mesh) Bootstrap(xdsAddr, clientName string) ([]byte, error) {
	type server struct {
		URI      string              `json:"server_uri"`
		Creds    []map[string]string `json:"channel_creds"`
		Features []string            `json:"server_features"`
	}
	type node struct {
		ID       string            `json:"id"`
		Metadata map[string]string `json:"metadata"`
		Locality map[string]string `json:"locality"`
	}
	doc := struct {
		Servers []server `json:"xds_servers"`
		Node    node     `json:"node"`
	}{
		Servers: []server{{URI: xdsAddr, Creds: []map[string]string{{"type": "insecure"}}, Features: []string{"xds_v3"}}},
		Node: node{
			ID:       fmt.Sprintf("sidecar~127.0.0.1~%s.%s~%s.svc.cluster.local", clientName, m.Namespace, m.Namespace),
			Metadata: map[string]string{"GENERATOR": "grpc", "NAMESPACE": m.Namespace, "CLUSTER_ID": "Kubernetes"},
			Locality: map[string]string{},
		},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render xds bootstrap: %w", err)
	}
	return out, nil
}
