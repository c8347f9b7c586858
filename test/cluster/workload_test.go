package cluster

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestDemoManifest(t *testing.T) {
	objs, err := decodeManifests(DemoManifest)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]string{}
	for _, o := range objs {
		kinds[o.GetKind()] = append(kinds[o.GetKind()], o.GetName())
		if o.GetKind() != "Namespace" && o.GetNamespace() != DemoNamespace {
			t.Errorf("%s %s in namespace %q", o.GetKind(), o.GetName(), o.GetNamespace())
		}
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
			t.Fatal(err)
		}
		if d.Spec.Template.Spec.NodeSelector[NodeTypeLabel] != NodeTypeKwok {
			t.Errorf("deployment %s does not select kwok nodes", d.Name)
		}
	}
	want := map[string]int{"Namespace": 1, "Deployment": 3, "Service": 3, "VirtualService": 2, "DestinationRule": 2, "PodDisruptionBudget": 1}
	for kind, n := range want {
		if len(kinds[kind]) != n {
			t.Errorf("%d %s objects (%v), want %d", len(kinds[kind]), kind, kinds[kind], n)
		}
	}
	if got := kinds["Deployment"]; len(got) == 3 {
		for i, name := range DemoDeployments {
			if got[i] != name {
				t.Errorf("deployment %d = %s, want %s", i, got[i], name)
			}
		}
	}
}

func TestApplyBulk(t *testing.T) {
	kube := fake.NewClientset()
	if err := applyBulk(context.Background(), kube, 3, 4, 2); err != nil {
		t.Fatal(err)
	}
	// A second run keeps what exists.
	if err := applyBulk(context.Background(), kube, 3, 4, 2); err != nil {
		t.Fatal(err)
	}
	list, err := kube.AppsV1().Deployments("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 12 {
		t.Fatalf("%d deployments, want 12", len(list.Items))
	}
	d, err := kube.AppsV1().Deployments(BulkNamespace(2)).Get(context.Background(), BulkDeployment(3), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(d.Spec.Replicas, 0) != 2 || d.Labels[BulkLabel] != "true" || d.Spec.Template.Spec.NodeSelector[NodeTypeLabel] != NodeTypeKwok {
		t.Errorf("deployment = %+v", d)
	}
}

// TestApplyBulkBound checks the objects the controllers would have made:
// a ReplicaSet owned by each Deployment, its pods owned by it and bound
// round-robin to the nodes, and that a second run keeps what exists.
func TestApplyBulkBound(t *testing.T) {
	ctx := context.Background()
	kube := fake.NewClientset()
	nodes := []string{"n0", "n1", "n2"}
	for range 2 {
		if err := applyBulkBound(ctx, kube, nodes, 2, 2, 5); err != nil {
			t.Fatal(err)
		}
	}
	pods, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2*2*5 {
		t.Fatalf("%d pods, want 20", len(pods.Items))
	}
	perNode := map[string]int{}
	for _, p := range pods.Items {
		perNode[p.Spec.NodeName]++
		owner := metav1.GetControllerOf(&p)
		if owner == nil || owner.Kind != "ReplicaSet" {
			t.Fatalf("pod %s/%s is controlled by %v, want a ReplicaSet", p.Namespace, p.Name, owner)
		}
		rs, err := kube.AppsV1().ReplicaSets(p.Namespace).Get(ctx, owner.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d := metav1.GetControllerOf(rs); d == nil || d.Kind != "Deployment" || d.Name != p.Labels["app"] {
			t.Errorf("replicaset %s is controlled by %v, want Deployment %s", rs.Name, d, p.Labels["app"])
		}
		if sel, _ := metav1.LabelSelectorAsSelector(rs.Spec.Selector); !sel.Matches(labels.Set(p.Labels)) {
			t.Errorf("replicaset %s selector %s does not match its pod %s", rs.Name, sel, p.Name)
		}
	}
	for _, n := range nodes {
		if perNode[n] < 6 || perNode[n] > 7 {
			t.Errorf("pods per node = %v, want 20 spread round-robin over %v", perNode, nodes)
			break
		}
	}
	if err := applyBulkBound(ctx, kube, nil, 1, 1, 1); err == nil {
		t.Error("applyBulkBound without nodes succeeded")
	}
}

func TestDeploymentAvailable(t *testing.T) {
	base := appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   bool
	}{
		{name: "available", mutate: func(*appsv1.Deployment) {}, want: true},
		{name: "old generation observed", mutate: func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }},
		{name: "one replica missing", mutate: func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 1 }},
		{name: "rollout in progress", mutate: func(d *appsv1.Deployment) { d.Status.Replicas = 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base.DeepCopy()
			tt.mutate(d)
			if got := deploymentAvailable(d); got != tt.want {
				t.Errorf("deploymentAvailable() = %v, want %v", got, tt.want)
			}
		})
	}
}
