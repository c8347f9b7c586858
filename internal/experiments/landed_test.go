package experiments

import (
	"context"
	"testing"
	"time"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

// lostResponse applies the first update of resource but reports a timeout,
// as when the apiserver commits a write and the connection drops.
func lostResponse(fake *k8stesting.Fake, tracker k8stesting.ObjectTracker, gvr schema.GroupVersionResource) {
	calls := 0
	fake.PrependReactor("update", gvr.Resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		if calls++; calls > 1 {
			return false, nil, nil
		}
		u := a.(k8stesting.UpdateAction)
		if err := tracker.Update(gvr, u.GetObject(), u.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, nil, apierrors.NewTimeoutError("response lost", 1)
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
