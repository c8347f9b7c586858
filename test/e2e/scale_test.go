//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/test/cluster"
)

// TestScaleBulkRollout checks that the harness reaches a given pod count
// (every pod bound, Running and Ready) and logs how fast:
// CHAOSD_E2E_BULK=<namespaces>x<deployments>x<replicas>, default 10x10x10
// (1000 pods). Scale tests of chaosd start from here.
func TestScaleBulkRollout(t *testing.T) {
	namespaces, deployments, replicas := 10, 10, 10
	if v := os.Getenv("CHAOSD_E2E_BULK"); v != "" {
		if _, err := fmt.Sscanf(v, "%dx%dx%d", &namespaces, &deployments, &replicas); err != nil {
			t.Fatalf("CHAOSD_E2E_BULK=%q: want NxMxR: %v", v, err)
		}
	}
	pods := namespaces * deployments * replicas
	// Leave headroom under each node's 1100-pod allocatable.
	nodes := max(3, (pods+999)/1000)
	c := cluster.Start(t, cluster.Options{Kwok: true, Nodes: nodes})
	if c.External() {
		t.Skip("bulk rollout would load someone else's cluster")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	begin := time.Now()
	if err := c.ApplyBulk(ctx, namespaces, deployments, int32(replicas)); err != nil {
		t.Fatal(err)
	}
	created := time.Since(begin)
	if err := c.WaitBulkAvailable(ctx, namespaces, deployments); err != nil {
		t.Fatal(err)
	}
	took := time.Since(begin)
	// The Deployments say available; the pods themselves must be there:
	// exactly the requested count, each bound to a node, Running and Ready.
	list, err := c.Kube.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: cluster.BulkLabel + "=true"})
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for i := range list.Items {
		if p := &list.Items[i]; p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning && scalePodReady(p) {
			ready++
		}
	}
	if len(list.Items) != pods || ready != pods {
		t.Fatalf("%d bulk pods, %d of them bound, Running and Ready; want %d of each", len(list.Items), ready, pods)
	}
	t.Logf("%d pods on %d nodes: deployments created in %s, all available after %s",
		pods, nodes, created.Round(time.Millisecond), took.Round(time.Millisecond))
}

func scalePodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
