package cluster

import (
	"context"
	_ "embed"
	"errors"
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
	if err := createBulkNamespaces(ctx, kube, namespaces); err != nil {
		return err
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

// ApplyBulkBound creates what ApplyBulk does plus, for each Deployment,
// the ReplicaSet and the pods its controllers would create, already bound
// round-robin to the fake worker nodes; kwok then runs them. Skipping the
// controllers, the scheduler and their Events is what lets 100k pods
// come up on two cores. It needs Options.NoWorkloadControllers: otherwise
// the ReplicaSet controller would create a second set of pods.
func (c *Cluster) ApplyBulkBound(ctx context.Context, namespaces, deploymentsPerNS int, replicas int32) error {
	if !c.opts.NoWorkloadControllers {
		return errors.New("ApplyBulkBound needs a cluster started with NoWorkloadControllers")
	}
	nodes := make([]string, c.opts.Nodes)
	for i := range nodes {
		nodes[i] = workerName(i)
	}
	return applyBulkBound(ctx, c.Kube, nodes, namespaces, deploymentsPerNS, replicas)
}

func applyBulkBound(ctx context.Context, kube kubernetes.Interface, nodes []string, namespaces, deploymentsPerNS int, replicas int32) error {
	if len(nodes) == 0 {
		return errors.New("no nodes to bind bulk pods to")
	}
	if err := createBulkNamespaces(ctx, kube, namespaces); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(bulkConcurrency)
	next := 0
	for i := range namespaces {
		for j := range deploymentsPerNS {
			d := bulkDeployment(BulkNamespace(i), BulkDeployment(j), replicas)
			first := next
			next += int(replicas)
			g.Go(func() error { return createBoundWorkload(ctx, kube, d, nodes, first) })
		}
	}
	return g.Wait()
}

// bulkTemplateHash stands in for the pod-template-hash the Deployment
// controller would compute; every bulk ReplicaSet has the same template.
const bulkTemplateHash = "bulk"

// createBoundWorkload creates d, its ReplicaSet and its pods, the pods
// bound to nodes[(first+k) % len(nodes)]; existing objects are kept.
func createBoundWorkload(ctx context.Context, kube kubernetes.Interface, d *appsv1.Deployment, nodes []string, first int) error {
	apps := kube.AppsV1()
	dep, err := createOrGet(ctx, d, apps.Deployments(d.Namespace).Create, apps.Deployments(d.Namespace).Get)
	if err != nil {
		return err
	}
	tmpl := *d.Spec.Template.DeepCopy()
	tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = bulkTemplateHash
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + bulkTemplateHash, Namespace: d.Namespace, Labels: tmpl.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: d.Spec.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": d.Name, appsv1.DefaultDeploymentUniqueLabelKey: bulkTemplateHash}},
			Template: tmpl,
		},
	}
	if rs, err = createOrGet(ctx, rs, apps.ReplicaSets(d.Namespace).Create, apps.ReplicaSets(d.Namespace).Get); err != nil {
		return err
	}
	pods := kube.CoreV1().Pods(d.Namespace)
	for k := range int(ptr.Deref(d.Spec.Replicas, 1)) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("%s-%02d", rs.Name, k), Namespace: d.Namespace, Labels: tmpl.Labels,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))},
			},
			Spec: *tmpl.Spec.DeepCopy(),
		}
		pod.Spec.NodeName = nodes[(first+k)%len(nodes)]
		if _, err := createOrGet(ctx, pod, pods.Create, pods.Get); err != nil {
			return err
		}
	}
	return nil
}

// createOrGet creates obj, or reads the existing object of its name.
func createOrGet[T metav1.Object](ctx context.Context, obj T,
	create func(context.Context, T, metav1.CreateOptions) (T, error),
	get func(context.Context, string, metav1.GetOptions) (T, error)) (T, error) {
	out, err := create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		out, err = get(ctx, obj.GetName(), metav1.GetOptions{})
	}
	if err != nil {
		return out, fmt.Errorf("create %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return out, nil
}

// WaitBulkPodsReady waits until want pods carrying BulkLabel are Running
// and Ready, counting them in pages.
func (c *Cluster) WaitBulkPodsReady(ctx context.Context, want int) error {
	err := poll(ctx, 10*time.Second, func(ctx context.Context) (bool, string, error) {
		ready, opts := 0, metav1.ListOptions{Limit: 500, LabelSelector: BulkLabel + "=true", FieldSelector: "status.phase=Running"}
		for {
			list, err := c.Kube.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
			if err != nil {
				return false, err.Error(), nil
			}
			for i := range list.Items {
				if podReady(&list.Items[i]) {
					ready++
				}
			}
			if opts.Continue = list.Continue; opts.Continue == "" {
				break
			}
		}
		return ready >= want, fmt.Sprintf("%d/%d bulk pods ready", ready, want), nil
	})
	if err != nil {
		return fmt.Errorf("wait for bulk pods: %w", err)
	}
	return nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func createBulkNamespaces(ctx context.Context, kube kubernetes.Interface, namespaces int) error {
	for i := range namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: BulkNamespace(i), Labels: map[string]string{BulkLabel: "true"}}}
		if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
	}
	return nil
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
