package scheduler

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func fastLease(kube *fake.Clientset, id string) LeaderOptions {
	return LeaderOptions{Kube: kube, Namespace: "chaosd", LeaseName: "chaosd", Identity: id,
		LeaseDuration: 1 * time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}
}

func TestOnlyOneReplicaLeadsAndLeaseIsReleasedAfterLeadReturns(t *testing.T) {
	kube := fake.NewClientset()
	var leading atomic.Int32
	var maxLeading atomic.Int32
	holderDuringRevert := make(chan string, 1)

	lead := func(id string) func(ctx context.Context) {
		return func(ctx context.Context) {
			n := leading.Add(1)
			if n > maxLeading.Load() {
				maxLeading.Store(n)
			}
			<-ctx.Done()
			// "Reverting": the lease must still be ours while we do it.
			lease, err := kube.CoordinationV1().Leases("chaosd").Get(context.Background(), "chaosd", metav1.GetOptions{})
			if err == nil && lease.Spec.HolderIdentity != nil {
				holderDuringRevert <- *lease.Spec.HolderIdentity
			}
			leading.Add(-1)
		}
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	errA := make(chan error, 1)
	errB := make(chan error, 1)
	go func() { errA <- RunAsLeader(ctxA, fastLease(kube, "a"), lead("a")) }()
	waitFor(t, func() bool { return leading.Load() == 1 })
	go func() { errB <- RunAsLeader(ctxB, fastLease(kube, "b"), lead("b")) }()
	time.Sleep(300 * time.Millisecond) // b retries a few times and must not lead
	if maxLeading.Load() != 1 {
		t.Fatalf("two replicas led at once")
	}

	cancelA()
	if err := <-errA; err != nil {
		t.Fatalf("a returned %v on shutdown, want nil", err)
	}
	if got := <-holderDuringRevert; got != "a" {
		t.Fatalf("lease holder while a reverted = %q, want a (released too early)", got)
	}
	// b takes over quickly because a released the lease.
	waitFor(t, func() bool { return leading.Load() == 1 })
	cancelB()
	if err := <-errB; err != nil {
		t.Fatalf("b returned %v, want nil", err)
	}
}

func TestRunAsLeaderReturnsOnCancelBeforeLeading(t *testing.T) {
	kube := fake.NewClientset()
	holder := fastLease(kube, "holder")
	holderCtx, stopHolder := context.WithCancel(context.Background())
	defer stopHolder()
	go func() { _ = RunAsLeader(holderCtx, holder, func(ctx context.Context) { <-ctx.Done() }) }()
	waitFor(t, func() bool {
		l, err := kube.CoordinationV1().Leases("chaosd").Get(context.Background(), "chaosd", metav1.GetOptions{})
		return err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == "holder"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	called := false
	if err := RunAsLeader(ctx, fastLease(kube, "standby"), func(context.Context) { called = true }); err != nil {
		t.Fatalf("standby returned %v, want nil", err)
	}
	if called {
		t.Fatal("standby led while another replica held the lease")
	}
}
