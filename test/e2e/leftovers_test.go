//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	istiofake "istio.io/client-go/pkg/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/test/cluster"
)

// chaosdLeftovers lists every trace of a chaosd fault in the cluster. It
// lists without chaosd's label selector, so a fault that outlived its label
// or its intent is found too:
//   - a VirtualService, in any namespace, carrying chaosd's intent
//     (annotation or label), or any route with a fault (the demo's routes
//     carry none of their own);
//   - a Node carrying chaosd's intent, or unschedulable (the harness's nodes
//     never are, and node-cordon and node-drain set it);
//   - a node snapshot ConfigMap, in any namespace.
//
// An error listing any of them is returned, never read as "nothing left".
func chaosdLeftovers(ctx context.Context, kube kubernetes.Interface, istio istioclient.Interface) ([]string, error) {
	var left []string
	vss, err := istio.NetworkingV1().VirtualServices(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list virtualservices: %w", err)
	}
	for _, vs := range vss.Items {
		if chaosdMarked(vs.Labels, vs.Annotations) {
			left = append(left, fmt.Sprintf("virtualservice %s/%s carries chaosd's intent: labels %v annotations %v", vs.Namespace, vs.Name, vs.Labels, vs.Annotations))
		}
		for i, r := range vs.Spec.Http {
			if r.Fault != nil {
				left = append(left, fmt.Sprintf("virtualservice %s/%s route %d (%q) has a fault: %v", vs.Namespace, vs.Name, i, r.Name, r.Fault))
			}
		}
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if n.Spec.Unschedulable || chaosdMarked(n.Labels, n.Annotations) {
			left = append(left, fmt.Sprintf("node %s: unschedulable=%v, labels %v, annotations %v", n.Name, n.Spec.Unschedulable, n.Labels, n.Annotations))
		}
	}
	cms, err := kube.CoreV1().ConfigMaps(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: experiments.LabelSnapshot})
	if err != nil {
		return nil, fmt.Errorf("list node snapshot configmaps: %w", err)
	}
	for _, cm := range cms.Items {
		left = append(left, fmt.Sprintf("node snapshot configmap %s/%s", cm.Namespace, cm.Name))
	}
	return left, nil
}

// chaosdMarked reports whether an object carries chaosd's intent (the
// annotation or the label, whatever its value) or its fence.
func chaosdMarked(labels, annotations map[string]string) bool {
	_, l := labels[experiments.LabelInjected]
	_, a := annotations[experiments.AnnotationInjection]
	_, f := annotations[experiments.AnnotationFence]
	return l || a || f
}

// assertNothingLeft fails the test if any chaosd fault is left in the
// cluster (see chaosdLeftovers), or if the cluster cannot be read.
func assertNothingLeft(t testing.TB, c *cluster.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	left, err := chaosdLeftovers(ctx, c.Kube, c.Istio)
	if err != nil {
		t.Fatalf("look for chaosd faults left: %v", err)
	}
	for _, l := range left {
		t.Errorf("chaosd fault left: %s", l)
	}
}

// TestChaosdLeftovers checks the "nothing left" check itself, on fake
// clients: it must find a fault whatever chaosd marks are missing, and never
// read an API error as a clean cluster.
func TestChaosdLeftovers(t *testing.T) {
	route := func(name string, fault bool) *networkingv1.HTTPRoute {
		r := &networkingv1.HTTPRoute{Name: name, Route: []*networkingv1.HTTPRouteDestination{{Destination: &networkingv1.Destination{Host: name}}}}
		if fault {
			r.Fault = &networkingv1.HTTPFaultInjection{Abort: &networkingv1.HTTPFaultInjection_Abort{
				ErrorType: &networkingv1.HTTPFaultInjection_Abort_HttpStatus{HttpStatus: 500}}}
		}
		return r
	}
	vs := func(ns, name string, labels, annotations map[string]string, routes ...*networkingv1.HTTPRoute) *istiov1.VirtualService {
		return &istiov1.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
			Spec: networkingv1.VirtualService{Hosts: []string{name}, Http: routes}}
	}
	node := func(name string, unschedulable bool, labels, annotations map[string]string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
	}
	injected := map[string]string{experiments.LabelInjected: "true"}
	intent := map[string]string{experiments.AnnotationInjection: `{"run":"r1"}`}
	clean := func() ([]runtime.Object, []runtime.Object) {
		return []runtime.Object{node("kwok-0", false, map[string]string{"type": "kwok"}, nil), node("kwok-1", false, nil, nil),
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: chaosdNamespace, Name: chaosdConfigMap}}},
			[]runtime.Object{vs(cluster.DemoNamespace, "go-demo-8", nil, nil, route("api", false), route("db", false))}
	}
	tests := []struct {
		name  string
		kube  []runtime.Object
		istio []runtime.Object
		want  []string // substrings, one per leftover
	}{
		{name: "clean demo"},
		{name: "fault on a later route with no label or intent",
			istio: []runtime.Object{vs(cluster.DemoNamespace, "repeater", nil, nil, route("a", false), route("b", true))},
			want:  []string{`virtualservice go-demo-8/repeater route 1 ("b") has a fault`}},
		{name: "fault in another namespace",
			istio: []runtime.Object{vs("shop", "checkout", nil, nil, route("a", true))},
			want:  []string{"virtualservice shop/checkout route 0"}},
		{name: "label only", istio: []runtime.Object{vs(cluster.DemoNamespace, "repeater", injected, nil, route("a", false))},
			want: []string{"virtualservice go-demo-8/repeater carries chaosd's intent"}},
		{name: "intent only", istio: []runtime.Object{vs(cluster.DemoNamespace, "repeater", nil, intent, route("a", false))},
			want: []string{"virtualservice go-demo-8/repeater carries chaosd's intent"}},
		{name: "fault with its marks", istio: []runtime.Object{vs(cluster.DemoNamespace, "repeater", injected, intent, route("a", true))},
			want: []string{"carries chaosd's intent", "route 0"}},
		{name: "unschedulable node with no marks", kube: []runtime.Object{node("kwok-2", true, nil, nil)},
			want: []string{"node kwok-2: unschedulable=true"}},
		{name: "node with the intent only", kube: []runtime.Object{node("kwok-2", false, nil, intent)},
			want: []string{"node kwok-2: unschedulable=false"}},
		{name: "node with the label only", kube: []runtime.Object{node("kwok-2", false, injected, nil)},
			want: []string{"node kwok-2: unschedulable=false"}},
		{name: "node snapshot in any namespace", kube: []runtime.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Namespace: "elsewhere", Name: "snapshot-kwok-2", Labels: map[string]string{experiments.LabelSnapshot: "kwok-2"}}}},
			want: []string{"node snapshot configmap elsewhere/snapshot-kwok-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kubeObjs, istioObjs := clean()
			kube := k8sfake.NewClientset(append(kubeObjs, tt.kube...)...)
			istio := istiofake.NewSimpleClientset(append(istioObjs, tt.istio...)...)
			left, err := chaosdLeftovers(context.Background(), kube, istio)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != len(tt.want) {
				t.Fatalf("found %d leftovers, want %d: %q", len(left), len(tt.want), left)
			}
			for i, w := range tt.want {
				if !strings.Contains(left[i], w) {
					t.Errorf("leftover %d = %q, want it to mention %q", i, left[i], w)
				}
			}
		})
	}
	for _, resource := range []string{"virtualservices", "nodes", "configmaps"} {
		t.Run("an error listing "+resource+" is not a clean cluster", func(t *testing.T) {
			kubeObjs, istioObjs := clean()
			kube := k8sfake.NewClientset(kubeObjs...)
			istio := istiofake.NewSimpleClientset(istioObjs...)
			fail := func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewServiceUnavailable("etcd is down")
			}
			kube.PrependReactor("list", resource, fail)
			istio.PrependReactor("list", resource, fail)
			left, err := chaosdLeftovers(context.Background(), kube, istio)
			if err == nil || !strings.Contains(err.Error(), "etcd is down") {
				t.Fatalf("chaosdLeftovers = %q, %v; want the list error", left, err)
			}
		})
	}
}
