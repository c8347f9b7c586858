package experiments

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
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

// optimisticUpdates makes the fake's Updates of gvr behave as the API
// server's do (the fake's tracker does neither): an Update carrying a
// resourceVersion other than the stored one is a conflict, and each applied
// Update stores a new resourceVersion. apply is that Update, for a test to
// deliver a write late.
func optimisticUpdates(fake *k8stesting.Fake, tracker k8stesting.ObjectTracker, gvr schema.GroupVersionResource) (apply func(obj runtime.Object, ns string) error) {
	var mu sync.Mutex
	version := 100
	apply = func(obj runtime.Object, ns string) error {
		mu.Lock()
		defer mu.Unlock()
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		stored, err := tracker.Get(gvr, ns, m.GetName())
		if err != nil {
			return err
		}
		if sm, _ := meta.Accessor(stored); sm.GetResourceVersion() != m.GetResourceVersion() {
			return apierrors.NewConflict(gvr.GroupResource(), m.GetName(), fmt.Errorf("resourceVersion %q, stored %q", m.GetResourceVersion(), sm.GetResourceVersion()))
		}
		version++
		obj = obj.DeepCopyObject()
		m, _ = meta.Accessor(obj)
		m.SetResourceVersion(strconv.Itoa(version))
		return tracker.Update(gvr, obj, ns)
	}
	fake.PrependReactor("update", gvr.Resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		m, _ := meta.Accessor(u.GetObject())
		if err := apply(u.GetObject(), u.GetNamespace()); err != nil {
			return true, nil, err
		}
		obj, err := tracker.Get(gvr, u.GetNamespace(), m.GetName())
		return true, obj, err
	})
	return apply
}

// heldWrite holds the first Update of gvr: it cancels the run and reports
// context.Canceled without applying it, as when a proxy or a slow link
// holds a request the client has given up on. The held Update is returned
// through *held, for the test to deliver after chaosd's check.
func heldWrite(fake *k8stesting.Fake, gvr schema.GroupVersionResource, cancel context.CancelFunc, held *k8stesting.UpdateAction) {
	calls := 0
	fake.PrependReactor("update", gvr.Resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		if calls++; calls > 1 {
			return false, nil, nil
		}
		u := a.(k8stesting.UpdateAction)
		*held = u
		cancel()
		return true, nil, fmt.Errorf("Put %q: %w", "https://apiserver/"+gvr.Resource, context.Canceled)
	})
}

// A write the run cancelled may reach the API server after chaosd checked
// whether it landed (TestExperimentsNoFaultOutlivesHaltDuringInject met
// this on a loaded machine): the check must fence it out, so that when it
// arrives the API server refuses it, and nothing of the fence may stay.
func TestInjectFencesOutAWriteThatLandsAfterTheCheck(t *testing.T) {
	vsGVR := istiov1.SchemeGroupVersion.WithResource("virtualservices")
	nodesGVR := schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	tests := []struct {
		name   string
		action config.Action
		target targets.Target
		istio  bool
		marked func(t *testing.T, f *fixture) bool // the object carries chaosd's fault, intent or fence
	}{
		{
			name: "virtualservice", action: config.Action{Type: config.ActionHTTPAbort, Status: 500}, target: vsTarget("shop", "cart"), istio: true,
			marked: func(t *testing.T, f *fixture) bool {
				vs := getVS(t, f, "shop", "cart")
				_, fenced := vs.Annotations[AnnotationFence]
				return vs.Spec.Http[0].Fault != nil || hasIntentMarks(vs) || fenced
			},
		},
		{
			name: "node cordon", action: config.Action{Type: config.ActionNodeCordon}, target: nodeTarget("n1"),
			marked: func(t *testing.T, f *fixture) bool {
				n := getNode(t, f, "n1")
				_, fenced := n.Annotations[AnnotationFence]
				return n.Spec.Unschedulable || hasIntentMarks(n) || fenced
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false)}, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
			fake, tracker, gvr, ns := &f.kube.Fake, f.kube.Tracker(), nodesGVR, ""
			if tt.istio {
				fake, tracker, gvr, ns = &f.istio.Fake, f.istio.Tracker(), vsGVR, "shop"
			}
			deliver := optimisticUpdates(fake, tracker, gvr)
			// Give the object a resourceVersion the API server would have.
			name := tt.target.Name
			if !tt.istio {
				name = "n1"
			}
			stored, err := tracker.Get(gvr, ns, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := deliver(stored, ns); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var held k8stesting.UpdateAction
			heldWrite(fake, gvr, cancel, &held)

			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", tt.action, time.Minute), tt.target)
			if inj != nil || err == nil || len(f.engine.Active()) != 0 {
				t.Fatalf("Inject = %v, %v, active %d; want an error and nothing held (the write had not landed)", inj, err, len(f.engine.Active()))
			}
			if held == nil {
				t.Fatal("the inject's Update never reached the fake")
			}
			err = deliver(held.GetObject(), held.GetNamespace())
			if !apierrors.IsConflict(err) {
				t.Errorf("the held write, delivered after the check: %v; want a conflict (fenced out)", err)
			}
			if tt.marked(t, f) {
				t.Error("the object carries chaosd's fault, intent or fence after the run ended")
			}
		})
	}
}
