package daemon

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeobj "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/targets"
)

// A one-shot run whose revert failed keeps retrying before it exits, and
// reports ErrFaultsHeld if the fault outlives the wait.
func TestOnceAwaitsFailedReverts(t *testing.T) {
	tests := []struct {
		name     string
		heals    bool // the API server lets the revert through later
		wantHeld bool
	}{
		{name: "retry succeeds", heals: true},
		{name: "revert keeps failing", wantHeld: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
			kube := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
			engine, err := experiments.NewEngine(experiments.Options{Kube: kube, Namespace: "chaosd", Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			defer engine.Close()
			d := &daemon{log: zap.NewNop(), engine: engine}
			ctx := context.Background()
			inj, err := engine.Inject(ctx, experiments.Run{ID: "r1"}, config.Experiment{Name: "exp", Action: config.Action{Type: config.ActionNodeCordon}, Duration: time.Hour},
				targets.Target{Kind: config.TargetNode, Name: "n1"})
			if err != nil {
				t.Fatal(err)
			}
			var refused atomic.Bool
			refused.Store(true)
			kube.PrependReactor("update", "nodes", func(k8stesting.Action) (bool, runtimeobj.Object, error) {
				if refused.Load() { // not transient: Revert gives up at once
					return true, nil, apierrors.NewForbidden(corev1.Resource("nodes"), "n1", errors.New("rbac"))
				}
				return false, nil, nil
			})
			if err := engine.Revert(ctx, inj); err == nil {
				t.Fatal("Revert succeeded; the test needs it to fail")
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second) // real time: a guard
			defer cancel()
			if !tt.heals {
				cancel() // the wait is over at once
			} else {
				refused.Store(false) // RBAC fixed
				for !clk.HasWaiters() {
					runtime.Gosched()
				}
				clk.Step(time.Minute) // the retrier's next attempt
			}
			err = d.awaitReverts(wctx)
			if held := errors.Is(err, ErrFaultsHeld); held != tt.wantHeld {
				t.Fatalf("awaitReverts = %v, want held %v", err, tt.wantHeld)
			}
		})
	}
}
