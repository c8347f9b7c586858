package experiments

import (
	"context"
	"fmt"
	"testing"
	"time"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

// lostResponse applies the first update of resource but reports a timeout,
// as when the apiserver commits a write and the connection drops.
func lostResponse(fake *k8stesting.Fake, tracker k8stesting.ObjectTracker, gvr schema.GroupVersionResource) {
	landedThenFailed(fake, tracker, gvr, func() error { return apierrors.NewTimeoutError("response lost", 1) })
}

// landedThenFailed applies the first update of resource to the tracker, then
// answers it with fail()'s error: the write landed, its caller never knew.
func landedThenFailed(fake *k8stesting.Fake, tracker k8stesting.ObjectTracker, gvr schema.GroupVersionResource, fail func() error) {
	calls := 0
	fake.PrependReactor("update", gvr.Resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		if calls++; calls > 1 {
			return false, nil, nil
		}
		u := a.(k8stesting.UpdateAction)
		if err := tracker.Update(gvr, u.GetObject(), u.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, nil, fail()
	})
}

func TestInjectHoldsWritesWhoseResponseWasLost(t *testing.T) {
	tests := []struct {
		name   string
		action config.Action
		target targets.Target
		setup  func(f *fixture)
		check  func(t *testing.T, f *fixture)
	}{
		{
			name:   "virtualservice",
			action: config.Action{Type: config.ActionHTTPAbort, Status: 500},
			target: vsTarget("shop", "cart"),
			setup: func(f *fixture) {
				lostResponse(&f.istio.Fake, f.istio.Tracker(), istiov1.SchemeGroupVersion.WithResource("virtualservices"))
			},
			check: func(t *testing.T, f *fixture) {
				if vs := getVS(t, f, "shop", "cart"); vs.Spec.Http[0].Fault != nil || hasIntentMarks(vs) {
					t.Error("virtualservice not reverted")
				}
			},
		},
		{
			name:   "node",
			action: config.Action{Type: config.ActionNodeCordon},
			target: nodeTarget("n1"),
			setup: func(f *fixture) {
				lostResponse(&f.kube.Fake, f.kube.Tracker(), schema.GroupVersionResource{Version: "v1", Resource: "nodes"})
			},
			check: func(t *testing.T, f *fixture) {
				if n := getNode(t, f, "n1"); n.Spec.Unschedulable || hasIntentMarks(n) {
					t.Error("node not reverted")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false)}, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
			tt.setup(f)
			inj, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", tt.action, time.Minute), tt.target)
			if err != nil || inj == nil || len(f.engine.Active()) != 1 {
				t.Fatalf("Inject = %v, %v; want the landed write held", inj, err)
			}
			if err := f.engine.Revert(context.Background(), inj); err != nil {
				t.Fatal(err)
			}
			tt.check(t, f)
		})
	}
}

// cancelledWrite applies the first update of resource, then cancels the run
// (a halt, SIGTERM or lost lease arriving while the write is in flight) and
// reports what client-go reports then: context.Canceled.
func cancelledWrite(fake *k8stesting.Fake, tracker k8stesting.ObjectTracker, gvr schema.GroupVersionResource, cancel context.CancelFunc) {
	landedThenFailed(fake, tracker, gvr, func() error {
		cancel()
		return fmt.Errorf("Put %q: %w", "https://apiserver/"+gvr.Resource, context.Canceled)
	})
}

func TestInjectHoldsWritesThatLandWhileTheRunIsCancelled(t *testing.T) {
	nodesGVR := schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	zone := targets.Target{Kind: config.TargetZone, Zone: "zone-a", Nodes: []string{"n1", "n2"}}
	rs := replicaSetRef("web-1")
	tests := []struct {
		name       string
		action     config.Action
		target     targets.Target
		istio      bool
		untouched  []string // nodes the cancelled injection must not reach
		checkClean func(t *testing.T, f *fixture)
	}{
		{
			name: "virtualservice", action: config.Action{Type: config.ActionHTTPAbort, Status: 500}, target: vsTarget("shop", "cart"), istio: true,
			checkClean: func(t *testing.T, f *fixture) {
				if vs := getVS(t, f, "shop", "cart"); vs.Spec.Http[0].Fault != nil || hasIntentMarks(vs) {
					t.Error("virtualservice not reverted")
				}
			},
		},
		{name: "node cordon", action: config.Action{Type: config.ActionNodeCordon}, target: nodeTarget("n1")},
		{name: "first node of a zone cordon", action: config.Action{Type: config.ActionNodeCordon}, target: zone, untouched: []string{"n2"}},
		{name: "node drain's cordon", action: drainAction(time.Minute), target: nodeTarget("n1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false), node("n2", false), pod("shop", "web-a", "n1", &rs, true)},
				[]runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
			evictions(f)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.istio {
				cancelledWrite(&f.istio.Fake, f.istio.Tracker(), istiov1.SchemeGroupVersion.WithResource("virtualservices"), cancel)
			} else {
				cancelledWrite(&f.kube.Fake, f.kube.Tracker(), nodesGVR, cancel)
			}
			inj, _ := f.engine.Inject(ctx, run("r1"), experiment("exp", tt.action, time.Minute), tt.target)
			if inj == nil || len(f.engine.Active()) != 1 {
				t.Fatalf("Inject = %v, active %d; want the write that landed during the cancel held", inj, len(f.engine.Active()))
			}
			for _, name := range tt.untouched {
				if n := getNode(t, f, name); n.Spec.Unschedulable || hasIntentMarks(n) {
					t.Errorf("node %s cordoned after the run was cancelled", name)
				}
			}
			if _, err := f.kube.CoreV1().Pods("shop").Get(context.Background(), "web-a", metav1.GetOptions{}); err != nil {
				t.Errorf("pod evicted after the run was cancelled: %v", err)
			}
			if err := f.engine.Revert(context.Background(), inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if tt.checkClean != nil {
				tt.checkClean(t, f)
				return
			}
			for _, name := range []string{"n1", "n2"} {
				if n := getNode(t, f, name); n.Spec.Unschedulable || hasIntentMarks(n) {
					t.Errorf("node %s not reverted", name)
				}
			}
		})
	}
}
