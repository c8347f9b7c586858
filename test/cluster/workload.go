package cluster

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// DemoManifest is the go-demo-8 workload (manifests/go-demo-8.yaml), also
// usable with kubectl apply.
//
//go:embed manifests/go-demo-8.yaml
var DemoManifest []byte

// The demo workload's namespace and Deployments.
const DemoNamespace = "go-demo-8"

// DemoDeployments are the Deployments in DemoNamespace.
var DemoDeployments = []string{"go-demo-8", "go-demo-8-db", "repeater"}

// ApplyDemoWorkload applies DemoManifest; run it again to undo changes a
// test made to the demo objects.
func (c *Cluster) ApplyDemoWorkload(ctx context.Context) error {
	if err := c.Apply(ctx, DemoManifest); err != nil {
		return fmt.Errorf("apply demo workload: %w", err)
	}
	return nil
}

// WaitDemoReady waits until every demo Deployment is fully available.
func (c *Cluster) WaitDemoReady(ctx context.Context) error {
	return c.WaitDeploymentsAvailable(ctx, DemoNamespace, DemoDeployments...)
}

// WaitDeploymentsAvailable waits until each named Deployment in namespace
// has observed its latest spec and all its replicas are updated and
// available.
func (c *Cluster) WaitDeploymentsAvailable(ctx context.Context, namespace string, names ...string) error {
	err := poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		for _, name := range names {
			d, err := c.Kube.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, fmt.Sprintf("get %s: %v", name, err), nil
			}
			if !deploymentAvailable(d) {
				return false, fmt.Sprintf("%s: %d/%d available", name, d.Status.AvailableReplicas, ptr.Deref(d.Spec.Replicas, 1)), nil
			}
		}
		return true, "", nil
	})
	if err != nil {
		return fmt.Errorf("wait for deployments %v in %s: %w", names, namespace, err)
	}
	return nil
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	return d.Status.ObservedGeneration >= d.Generation &&
		d.Status.UpdatedReplicas == want &&
		d.Status.AvailableReplicas == want &&
		d.Status.Replicas == want
}

// BulkLabel marks every object ApplyBulk creates.
const BulkLabel = "chaosd-e2e/bulk"

// bulkConcurrency bounds in-flight creates: enough to keep the apiserver
// busy on two cores without queueing thousands of goroutines.
const bulkConcurrency = 32

// BulkNamespace and BulkDeployment name the objects of ApplyBulk.
func BulkNamespace(i int) string  { return fmt.Sprintf("bulk-%03d", i) }
func BulkDeployment(j int) string { return fmt.Sprintf("app-%03d", j) }

// ApplyBulk creates namespaces × deploymentsPerNS Deployments of replicas
// pods each, for scale tests, concurrently; existing objects are kept. It
// returns once everything is created; WaitBulkAvailable waits for the pods.
func (c *Cluster) ApplyBulk(ctx context.Context, namespaces, deploymentsPerNS int, replicas int32) error {
	return applyBulk(ctx, c.Kube, namespaces, deploymentsPerNS, replicas)
}

func applyBulk(ctx context.Context, kube kubernetes.Interface, namespaces, deploymentsPerNS int, replicas int32) error {
	for i := range namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: BulkNamespace(i), Labels: map[string]string{BulkLabel: "true"}}}
		if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(bulkConcurrency)
	for i := range namespaces {
		for j := range deploymentsPerNS {
			d := bulkDeployment(BulkNamespace(i), BulkDeployment(j), replicas)
			g.Go(func() error {
				_, err := kube.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					return fmt.Errorf("create deployment %s/%s: %w", d.Namespace, d.Name, err)
				}
				return nil
			})
		}
	}
	return g.Wait()
}

// bulkDeployment is a minimal pod template that kwok runs on fake nodes.
func bulkDeployment(namespace, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name, BulkLabel: "true"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:                 map[string]string{NodeTypeLabel: NodeTypeKwok},
					Tolerations:                  []corev1.Toleration{{Key: kwokNodeAnnotation, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
					AutomountServiceAccountToken: ptr.To(false),
					Containers: []corev1.Container{{
						Name:  "app",
						Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("1m"),
							corev1.ResourceMemory: resource.MustParse("1Mi"),
						}},
					}},
				},
			},
		},
	}
}

// WaitBulkAvailable waits until every Deployment ApplyBulk created
// (namespaces × deploymentsPerNS of them) is available.
func (c *Cluster) WaitBulkAvailable(ctx context.Context, namespaces, deploymentsPerNS int) error {
	want := namespaces * deploymentsPerNS
	err := poll(ctx, time.Second, func(ctx context.Context) (bool, string, error) {
		list, err := c.Kube.AppsV1().Deployments(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: BulkLabel + "=true"})
		if err != nil {
			return false, err.Error(), nil
		}
		var pending []string
		ready := 0
		for i := range list.Items {
			if deploymentAvailable(&list.Items[i]) {
				ready++
			} else if len(pending) < 3 {
				pending = append(pending, list.Items[i].Namespace+"/"+list.Items[i].Name)
			}
		}
		slices.Sort(pending)
		return ready >= want, fmt.Sprintf("%d/%d available, e.g. pending %s", ready, want, strings.Join(pending, ",")), nil
	})
	if err != nil {
		return fmt.Errorf("wait for bulk deployments: %w", err)
	}
	return nil
}
