//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chaosd/chaosd/test/cluster"
)

// TestScaleBulkRollout measures how fast the harness reaches a given pod
// count: CHAOSD_E2E_BULK=<namespaces>x<deployments>x<replicas>, default
// 10x10x10 (1000 pods). Scale tests of chaosd start from here.
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
	t.Logf("%d pods on %d nodes: deployments created in %s, all available after %s",
		pods, nodes, created.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
}
