package liveness

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

const ns = "chaosd"

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newLease(t *testing.T, kube *k8sfake.Clientset, clk *clocktesting.FakeClock, identity string) *Lease {
	t.Helper()
	l, err := New(Options{Kube: kube, Namespace: ns, Identity: identity, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func alive(t *testing.T, reader *Lease, clk *clocktesting.FakeClock, identity string) bool {
	t.Helper()
	until, err := reader.AliveUntil(context.Background(), identity)
	if err != nil {
		t.Fatalf("AliveUntil(%s): %v", identity, err)
	}
	return clk.Now().Before(until)
}

func TestName(t *testing.T) {
	long := strings.Repeat("chaosd-7f9c4-", 10)
	tests := []struct {
		name     string
		identity string
		want     string // empty: only checked for validity
	}{
		{name: "pod name kept", identity: "chaosd-7f9c4d-x2v9q", want: "chaosd-alive-chaosd-7f9c4d-x2v9q"},
		{name: "hostname with dots and capitals hashed", identity: "Laptop.local"},
		{name: "long identity truncated", identity: long},
		{name: "once suffix kept", identity: "chaosd-0-once-1a2b3c4d", want: "chaosd-alive-chaosd-0-once-1a2b3c4d"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Name(tt.identity)
			if tt.want != "" && got != tt.want {
				t.Errorf("Name(%q) = %q, want %q", tt.identity, got, tt.want)
			}
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("Name(%q) = %q, not a valid name: %v", tt.identity, got, errs)
			}
			if other, ok := seen[got]; ok {
				t.Errorf("%q and %q share Lease %q", tt.identity, other, got)
			}
			seen[got] = tt.identity
		})
	}
	if Name("Laptop.local") == Name("laptop-local") {
		t.Error("identities differing only in case and punctuation share a Lease")
	}
}

// A writer is alive while its Lease is renewed, gone once it expires, and
// gone at once when it released its Lease.
func TestLeaseLifecycle(t *testing.T) {
	ctx := context.Background()
	kube := k8sfake.NewClientset()
	clk := clocktesting.NewFakeClock(t0)
	writer := newLease(t, kube, clk, "chaosd-once-1")
	reader := newLease(t, kube, clk, "chaosd-0")

	if alive(t, reader, clk, "chaosd-once-1") {
		t.Fatal("alive before its Lease was written")
	}
	if err := writer.Acquire(ctx); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	lease, err := kube.CoordinationV1().Leases(ns).Get(ctx, Name("chaosd-once-1"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Labels[LabelLiveness] != "true" || *lease.Spec.HolderIdentity != "chaosd-once-1" || *lease.Spec.LeaseDurationSeconds != 15 {
		t.Errorf("lease = %+v", lease)
	}
	if !alive(t, reader, clk, "chaosd-once-1") {
		t.Error("not alive right after Acquire")
	}

	// Renewals on the clock keep it alive past one Lease duration.
	renewed := make(chan struct{}, 10)
	kube.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		renewed <- struct{}{}
		return false, nil, nil
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); writer.Run(runCtx) }()
	for range 4 {
		for !clk.HasWaiters() {
			<-time.After(time.Millisecond) // until Run waits on its ticker
		}
		clk.Step(DefaultRenewEvery)
		<-renewed
	}
	stop()
	<-done
	if !alive(t, reader, clk, "chaosd-once-1") {
		t.Error("not alive 20 s after Acquire with renewals every 5 s")
	}

	// Without renewals it expires.
	clk.Step(DefaultDuration - time.Second)
	if !alive(t, reader, clk, "chaosd-once-1") {
		t.Error("expired before its duration")
	}
	clk.Step(2 * time.Second)
	if alive(t, reader, clk, "chaosd-once-1") {
		t.Error("alive after its duration without renewal")
	}

	// A restarted process of the same identity takes the Lease over.
	if err := newLease(t, kube, clk, "chaosd-once-1").Acquire(ctx); err != nil {
		t.Fatalf("Acquire after restart: %v", err)
	}
	if !alive(t, reader, clk, "chaosd-once-1") {
		t.Error("not alive after a restart took the Lease over")
	}
	if err := writer.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if alive(t, reader, clk, "chaosd-once-1") {
		t.Error("alive after Release")
	}
	if err := writer.Release(ctx); err != nil {
		t.Errorf("second Release: %v", err)
	}
}

func TestAliveChecksTheHolder(t *testing.T) {
	now := metav1.NewMicroTime(t0)
	foreign := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: Name("chaosd-1")},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To("someone-else"), LeaseDurationSeconds: ptr.To(int32(30)), RenewTime: &now},
	}
	kube := k8sfake.NewClientset(foreign)
	clk := clocktesting.NewFakeClock(t0)
	reader := newLease(t, kube, clk, "chaosd-0")
	if alive(t, reader, clk, "chaosd-1") {
		t.Error("a Lease held by another identity counts as chaosd-1's")
	}
}

func TestAliveReportsReadErrors(t *testing.T) {
	kube := k8sfake.NewClientset()
	kube.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(coordinationv1.Resource("leases"), "x", nil)
	})
	reader := newLease(t, kube, clocktesting.NewFakeClock(t0), "chaosd-0")
	if until, err := reader.AliveUntil(context.Background(), "chaosd-1"); !until.IsZero() || !apierrors.IsForbidden(err) {
		t.Errorf("AliveUntil = %v, %v; want zero and the forbidden error", until, err)
	}
}

func TestNewRefusesRenewalsSlowerThanTheLease(t *testing.T) {
	_, err := New(Options{Kube: k8sfake.NewClientset(), Namespace: ns, Identity: "x", Duration: 10 * time.Second, RenewEvery: 10 * time.Second})
	if err == nil {
		t.Error("want an error")
	}
}
