package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	istiofake "istio.io/client-go/pkg/clientset/versioned/fake"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/liveness"
	"github.com/chaosd/chaosd/internal/targets"
)

func TestOnceIdentityIsUniquePerProcess(t *testing.T) {
	a, b := onceIdentity("chaosd-0"), onceIdentity("chaosd-0")
	if a == b || !strings.HasPrefix(a, "chaosd-0-once-") {
		t.Errorf("onceIdentity = %q, %q; want two distinct chaosd-0-once-… names", a, b)
	}
	if got := liveness.Name(a); got != "chaosd-alive-"+a {
		t.Errorf("Lease name of %q = %q, want it unchanged", a, got)
	}
}

// A chaosd once dies holding a fault while the daemon recovers: the daemon
// keeps the fault while the once process's Lease is alive and reverts it
// as soon as the Lease runs out, not at the next periodic pass.
func TestRecoverLoopRevertsADeadOnceProcesssFaultWhenItsLeaseRunsOut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(t0)
	kube := fake.NewClientset()
	vs := &istiov1.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart"}}
	vs.Spec.Http = []*networkingv1.HTTPRoute{{Name: "a", Route: []*networkingv1.HTTPRouteDestination{{Destination: &networkingv1.Destination{Host: "cart"}}}}}
	istio := istiofake.NewSimpleClientset(vs)
	engine := func(identity string, live experiments.WriterLiveness, log *zap.Logger) *experiments.Engine {
		t.Helper()
		e, err := experiments.NewEngine(experiments.Options{Kube: kube, Istio: istio, Namespace: "chaosd", Identity: identity,
			Liveness: live, Clock: clk, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	lease := func(identity string) *liveness.Lease {
		t.Helper()
		l, err := liveness.New(liveness.Options{Kube: kube, Namespace: "chaosd", Identity: identity, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	onceLease := lease("chaosd-0-once-1")
	if err := onceLease.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	exp := config.Experiment{Name: "abort", Action: config.Action{Type: config.ActionHTTPAbort, Status: 503}, Duration: time.Hour}
	tgt := targets.Target{Kind: config.TargetVirtualService, Namespace: "shop", Name: "cart"}
	if _, err := engine("chaosd-0-once-1", nil, zap.NewNop()).Inject(ctx, experiments.Run{ID: "once-run"}, exp, tgt); err != nil {
		t.Fatalf("Inject: %v", err)
	}

	recovered := make(chan struct{}, 1)
	core, _ := observer.New(zap.InfoLevel)
	log := zap.New(core, zap.Hooks(func(e zapcore.Entry) error {
		if e.Message == "recovered orphaned faults" {
			recovered <- struct{}{}
		}
		return nil
	}))
	d := &daemon{o: Options{Clock: clk, RecoverEvery: time.Minute}, log: log, engine: engine("chaosd-0", lease("chaosd-0"), log)}
	recheckAt := d.recover(ctx)
	if !faulted(t, istio) {
		t.Fatal("the daemon reverted the live once process's fault")
	}
	if want := t0.Add(liveness.DefaultDuration); !recheckAt.Equal(want) {
		t.Fatalf("recheck at %v, want %v", recheckAt, want)
	}

	done := make(chan struct{})
	go func() { defer close(done); d.recoverLoop(ctx, recheckAt) }()
	for clk.Waiters() < 2 { // the periodic ticker and the recheck timer
		<-time.After(time.Millisecond)
	}
	clk.Step(liveness.DefaultDuration + recheckSlack) // no renewal: the once process died
	select {
	case <-recovered:
	case <-time.After(time.Minute): // a safety net against a hang, not a pace
		t.Fatal("no recovery pass when the once process's Lease ran out")
	}
	if faulted(t, istio) {
		t.Error("the dead once process's fault is still there")
	}
	cancel()
	<-done
}

func faulted(t *testing.T, istio *istiofake.Clientset) bool {
	t.Helper()
	vs, err := istio.NetworkingV1().VirtualServices("shop").Get(context.Background(), "cart", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return vs.Spec.Http[0].Fault != nil
}

func TestHoldLiveness(t *testing.T) {
	tests := []struct {
		name      string
		createErr error
		wantErr   bool
		wantLease bool
	}{
		{name: "held, then released", wantLease: true},
		{name: "refused", createErr: apierrors.NewForbidden(coordinationv1.Resource("leases"), "x", nil), wantErr: true},
		{name: "chaosd's namespace missing: no daemon to protect from",
			createErr: apierrors.NewNotFound(corev1.Resource("namespaces"), "chaosd")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset()
			if tt.createErr != nil {
				kube.PrependReactor("create", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tt.createErr
				})
			}
			clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			l, err := liveness.New(liveness.Options{Kube: kube, Namespace: "chaosd", Identity: "chaosd-0-once-1", Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			d := &daemon{o: Options{Namespace: "chaosd"}, log: zap.NewNop(), alive: l}
			if err := d.holdLiveness(context.Background()); (err != nil) != tt.wantErr {
				t.Fatalf("holdLiveness = %v, want error %v", err, tt.wantErr)
			}
			leases, _ := kube.CoordinationV1().Leases("chaosd").List(context.Background(), metav1.ListOptions{})
			if got := len(leases.Items) == 1; got != tt.wantLease {
				t.Errorf("lease held = %v, want %v", got, tt.wantLease)
			}
			d.releaseLiveness()
			if leases, _ = kube.CoordinationV1().Leases("chaosd").List(context.Background(), metav1.ListOptions{}); len(leases.Items) != 0 {
				t.Errorf("leases after release: %v", leases.Items)
			}
		})
	}
}
