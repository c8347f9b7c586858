package cluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAddressPlan(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{name: "first node IP", got: nodeIP(0), want: "10.254.0.1"},
		{name: "node IP crosses an octet", got: nodeIP(255), want: "10.254.1.0"},
		{name: "first pod CIDR", got: nodePodCIDR(0), want: "10.64.0.0/21"},
		{name: "second pod CIDR", got: nodePodCIDR(1), want: "10.64.8.0/21"},
		{name: "pod CIDR 100", got: nodePodCIDR(100), want: "10.67.32.0/21"},
		{name: "kwok fallback node IP", got: firstIP(nodeIPBase), want: "10.254.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}

func TestNodesFor(t *testing.T) {
	nodes := nodesFor(Options{Kwok: true, Nodes: 4, PodsPerNode: 1100, ControlPlaneNode: true})
	if len(nodes) != 5 {
		t.Fatalf("got %d nodes, want 4 workers + control plane", len(nodes))
	}
	wantZones := []string{"zone-a", "zone-b", "zone-c", "zone-a"}
	for i, n := range nodes[:4] {
		if n.Annotations[kwokNodeAnnotation] != "fake" || n.Labels[NodeTypeLabel] != NodeTypeKwok || n.Labels["kubernetes.io/hostname"] != n.Name {
			t.Errorf("node %s: annotations %v labels %v", n.Name, n.Annotations, n.Labels)
		}
		if z := n.Labels["topology.kubernetes.io/zone"]; z != wantZones[i] {
			t.Errorf("node %s zone = %s, want %s", n.Name, z, wantZones[i])
		}
		if pods := n.Status.Allocatable.Pods().Value(); pods != 1100 {
			t.Errorf("node %s allocatable pods = %d", n.Name, pods)
		}
		if len(n.Spec.Taints) != 0 {
			t.Errorf("worker %s tainted: %v", n.Name, n.Spec.Taints)
		}
	}
	cp := nodes[4]
	if cp.Name != ControlPlaneNodeName || len(cp.Spec.Taints) != 1 || cp.Spec.Taints[0].Key != controlPlaneRole {
		t.Errorf("control-plane node = %s, taints %v", cp.Name, cp.Spec.Taints)
	}
	if _, ok := cp.Labels["node-role.kubernetes.io/agent"]; ok {
		t.Error("control-plane node keeps the agent role label")
	}
}

func TestNodeReady(t *testing.T) {
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue}
	notReady := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse}
	tests := []struct {
		name string
		node corev1.Node
		want bool
	}{
		{name: "ready", node: corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}}}, want: true},
		{name: "no conditions yet", node: corev1.Node{}, want: false},
		{name: "not ready", node: corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{notReady}}}, want: false},
		{
			name: "ready but not-ready taint not yet lifted",
			node: corev1.Node{
				Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}},
				Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}},
			},
			want: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nodeReady(&tt.node); got != tt.want {
				t.Errorf("nodeReady() = %v, want %v", got, tt.want)
			}
		})
	}
}
