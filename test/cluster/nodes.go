package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Labels every fake node carries; workloads select them with NodeSelector.
const (
	NodeTypeLabel        = "type"
	NodeTypeKwok         = "kwok"
	ControlPlaneNodeName = "control-plane"
	controlPlaneRole     = "node-role.kubernetes.io/control-plane"
)

var zones = []string{"zone-a", "zone-b", "zone-c"}

// fakeNode is the node kwok's docs use (test/kwok/fake-node.yaml and the
// kwokctl node template), without the kwok taint: nothing but fake nodes
// exist here, and chaosd should see ordinary, untainted workers. Status is
// set at creation, as a kubelet does when it registers; kwok's
// node-initialize stage keeps allocatable and addresses and adds the
// conditions.
func fakeNode(name string, index, podsPerNode int) *corev1.Node {
	zone := zones[index%len(zones)]
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   *resource.NewQuantity(int64(podsPerNode), resource.DecimalSI),
	}
	cidr := nodePodCIDR(index)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Annotations: map[string]string{
				kwokNodeAnnotation:             "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
			Labels: map[string]string{
				"beta.kubernetes.io/arch":       "amd64",
				"beta.kubernetes.io/os":         "linux",
				"kubernetes.io/arch":            "amd64",
				"kubernetes.io/os":              "linux",
				"kubernetes.io/hostname":        name,
				"kubernetes.io/role":            "agent",
				"node-role.kubernetes.io/agent": "",
				"topology.kubernetes.io/zone":   zone,
				"topology.kubernetes.io/region": "local",
				NodeTypeLabel:                   NodeTypeKwok,
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: nodeIP(index)},
				{Type: corev1.NodeHostName, Address: name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				Architecture:    "amd64",
				OperatingSystem: "linux",
				KubeletVersion:  "v" + K8sVersion,
			},
		},
	}
}

// controlPlaneNode is a kwok-managed node with the control-plane role and
// taint, so tests can check that chaosd leaves such nodes alone.
func controlPlaneNode(index, podsPerNode int) *corev1.Node {
	n := fakeNode(ControlPlaneNodeName, index, podsPerNode)
	delete(n.Labels, "node-role.kubernetes.io/agent")
	n.Labels["kubernetes.io/role"] = "control-plane"
	n.Labels[controlPlaneRole] = ""
	n.Spec.Taints = []corev1.Taint{{Key: controlPlaneRole, Effect: corev1.TaintEffectNoSchedule}}
	return n
}

// workerName names worker i; the names sort in creation order.
func workerName(i int) string { return fmt.Sprintf("kwok-node-%d", i) }

// nodesFor lists the nodes opts asks for.
func nodesFor(opts Options) []*corev1.Node {
	var nodes []*corev1.Node
	for i := range opts.Nodes {
		nodes = append(nodes, fakeNode(workerName(i), i, opts.PodsPerNode))
	}
	if opts.ControlPlaneNode {
		nodes = append(nodes, controlPlaneNode(opts.Nodes, opts.PodsPerNode))
	}
	return nodes
}

// createNodes creates nodes, tolerating ones that already exist.
func createNodes(ctx context.Context, kube kubernetes.Interface, nodes []*corev1.Node) error {
	for _, n := range nodes {
		_, err := kube.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", n.Name, err)
		}
	}
	return nil
}

// nodeIP is worker i's InternalIP inside nodeIPBase.
func nodeIP(i int) string { return addToIP(nodeIPBase, uint32(i)+1) }

// firstIP is the first usable address of cidr.
func firstIP(cidr string) string { return addToIP(cidr, 1) }

// nodePodCIDR is worker i's pod range: the i-th /21 of podCIDRBase.
func nodePodCIDR(i int) string {
	return addToIP(podCIDRBase, uint32(i)<<(32-nodePodCIDRs)) + "/" + strconv.Itoa(nodePodCIDRs)
}

// addToIP adds n to the network address of an IPv4 CIDR. The CIDRs are
// package constants, so a parse error is a programming error.
func addToIP(cidr string, n uint32) string {
	prefix := netip.MustParsePrefix(cidr).Masked()
	b := prefix.Addr().As4()
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+n)
	return netip.AddrFrom4(b).String()
}

// nodeReady reports whether n is Ready and free of the taints the node
// lifecycle controller sets while it is not, i.e. whether pods can land.
func nodeReady(n *corev1.Node) bool {
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	return ready
}
