package experiments

import (
	"cmp"
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	istionetv1 "istio.io/client-go/pkg/clientset/versioned/typed/networking/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/liveness"
	"github.com/chaosd/chaosd/internal/targets"
)

// The fake clientsets hold their lock while reactors run, so a reactor
// cannot call back into the same clientset. These wrappers run a hook after
// a write has been applied and before its response reaches the actuator:
// the intent is in the cluster, the inject has not returned.

type hookedIstio struct {
	istioclient.Interface
	afterWrite func()
}

func (h hookedIstio) NetworkingV1() istionetv1.NetworkingV1Interface {
	return hookedNetworking{h.Interface.NetworkingV1(), h.afterWrite}
}

type hookedNetworking struct {
	istionetv1.NetworkingV1Interface
	afterWrite func()
}

func (h hookedNetworking) VirtualServices(ns string) istionetv1.VirtualServiceInterface {
	return hookedVirtualServices{h.NetworkingV1Interface.VirtualServices(ns), h.afterWrite}
}

type hookedVirtualServices struct {
	istionetv1.VirtualServiceInterface
	afterWrite func()
}

func (h hookedVirtualServices) Update(ctx context.Context, vs *istiov1.VirtualService, o metav1.UpdateOptions) (*istiov1.VirtualService, error) {
	out, err := h.VirtualServiceInterface.Update(ctx, vs, o)
	h.afterWrite()
	return out, err
}

type hookedKube struct {
	kubernetes.Interface
	afterWrite func()
}

func (h hookedKube) CoreV1() corev1client.CoreV1Interface {
	return hookedCore{h.Interface.CoreV1(), h.afterWrite}
}

type hookedCore struct {
	corev1client.CoreV1Interface
	afterWrite func()
}

func (h hookedCore) Nodes() corev1client.NodeInterface {
	return hookedNodes{h.CoreV1Interface.Nodes(), h.afterWrite}
}

func (h hookedCore) ConfigMaps(ns string) corev1client.ConfigMapInterface {
	return hookedConfigMaps{h.CoreV1Interface.ConfigMaps(ns), h.afterWrite}
}

type hookedNodes struct {
	corev1client.NodeInterface
	afterWrite func()
}

func (h hookedNodes) Update(ctx context.Context, n *corev1.Node, o metav1.UpdateOptions) (*corev1.Node, error) {
	out, err := h.NodeInterface.Update(ctx, n, o)
	h.afterWrite()
	return out, err
}

type hookedConfigMaps struct {
	corev1client.ConfigMapInterface
	afterWrite func()
}

func (h hookedConfigMaps) Create(ctx context.Context, cm *corev1.ConfigMap, o metav1.CreateOptions) (*corev1.ConfigMap, error) {
	out, err := h.ConfigMapInterface.Create(ctx, cm, o)
	h.afterWrite()
	return out, err
}

// A recovery pass that runs while a run's first write is in flight (the
// intent is in the cluster, Inject has not returned) must leave the run's
// fault alone: the run owns it from before the write.
func TestRecoverDuringInjectKeepsTheRunsFault(t *testing.T) {
	tests := []struct {
		name   string
		action config.Action
		target targets.Target
		object string
		// held reports whether the fault is in place after Inject returned.
		held func(t *testing.T, f *fixture) bool
	}{
		{
			name:   "virtualservice abort",
			action: config.Action{Type: config.ActionHTTPAbort, Status: 503},
			target: vsTarget("shop", "cart"),
			object: "virtualservice/shop/cart",
			held: func(t *testing.T, f *fixture) bool {
				vs := getVS(t, f, "shop", "cart")
				return vs.Spec.Http[0].Fault != nil && hasIntentMarks(vs)
			},
		},
		{
			name:   "node cordon",
			action: config.Action{Type: config.ActionNodeCordon},
			target: nodeTarget("n1"),
			object: "node/n1",
			held: func(t *testing.T, f *fixture) bool {
				n := getNode(t, f, "n1")
				return n.Spec.Unschedulable && hasIntentMarks(n)
			},
		},
		{
			name:   "node delete with restore, between snapshot and delete",
			action: config.Action{Type: config.ActionNodeDelete, Restore: true},
			target: nodeTarget("n1"),
			object: "node/n1",
			held: func(t *testing.T, f *fixture) bool {
				_, err := f.kube.CoreV1().ConfigMaps(chaosdNS).Get(context.Background(), snapshotName("r1", "n1"), metav1.GetOptions{})
				return err == nil
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false)},
				[]runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
			ctx := context.Background()
			var e *Engine
			var rep RecoveryReport
			var recErr error
			passes := 0
			during := func() {
				if passes++; passes == 1 {
					rep, recErr = e.Recover(ctx)
				}
			}
			var err error
			e, err = NewEngine(Options{
				Kube: hookedKube{f.kube, during}, Istio: hookedIstio{f.istio, during}, Namespace: chaosdNS, Identity: "chaosd-0",
				Clock: f.clock, Logger: zap.NewNop(), ConflictBackoff: wait.Backoff{Steps: 5},
			})
			if err != nil {
				t.Fatal(err)
			}
			inj, err := e.Inject(ctx, run("r1"), experiment("exp", tt.action, time.Hour), tt.target)
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if passes == 0 {
				t.Fatal("no recovery pass ran during the inject")
			}
			if recErr != nil {
				t.Errorf("Recover: %v", recErr)
			}
			if len(rep.Reverted) != 0 || len(rep.Kept) != 1 || rep.Kept[0].Object != tt.object {
				t.Errorf("recovery during the inject: reverted %+v, kept %+v; want %s kept", rep.Reverted, rep.Kept, tt.object)
			}
			if !tt.held(t, f) {
				t.Error("the run's fault was reverted while its inject was in flight")
			}
			if err := e.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if rep, err := e.Recover(ctx); err != nil || rep.Found != 0 {
				t.Errorf("after the run's revert: Recover = %+v, %v; want nothing left", rep, err)
			}
		})
	}
}

// A daemon's recovery leaves alone the faults of a concurrent chaosd once
// while that process is alive (its liveness Lease is renewed), and reverts
// them once its Lease has expired.
func TestRecoverLeavesALiveProcesssFault(t *testing.T) {
	f := newFixture(t, nil, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
	ctx := context.Background()
	holdLease(t, f, "chaosd-0-once-1")
	once := otherEngine(t, f, "chaosd-0-once-1")
	if _, err := once.Inject(ctx, run("once-run"), experiment("exp", config.Action{Type: config.ActionHTTPAbort, Status: 503}, time.Hour), vsTarget("shop", "cart")); err != nil {
		t.Fatalf("Inject: %v", err)
	}

	rep, err := f.engine.Recover(ctx)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if len(rep.Reverted) != 0 || len(rep.Kept) != 1 || rep.Kept[0].By != "chaosd-0-once-1" {
		t.Errorf("while the once process is alive: reverted %+v, kept %+v; want its fault kept", rep.Reverted, rep.Kept)
	}
	if want := t0.Add(liveness.DefaultDuration); !rep.RecheckAt.Equal(want) {
		t.Errorf("RecheckAt = %v, want %v (when the once process's Lease expires unless renewed)", rep.RecheckAt, want)
	}
	if vs := getVS(t, f, "shop", "cart"); vs.Spec.Http[0].Fault == nil || !hasIntentMarks(vs) {
		t.Fatal("the live once process's fault was reverted")
	}

	f.clock.Step(liveness.DefaultDuration) // the once process died: no renewal
	rep, err = f.engine.Recover(ctx)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if len(rep.Reverted) != 1 || rep.Reverted[0].Reason != "orphaned" || rep.Reverted[0].By != "chaosd-0-once-1" {
		t.Errorf("after its Lease expired: reverted %+v, kept %+v; want its fault reverted as orphaned", rep.Reverted, rep.Kept)
	}
	if !rep.RecheckAt.IsZero() {
		t.Errorf("RecheckAt = %v with nothing kept", rep.RecheckAt)
	}
	if vs := getVS(t, f, "shop", "cart"); vs.Spec.Http[0].Fault != nil || hasIntentMarks(vs) {
		t.Error("the dead once process's fault is still there")
	}
}

// Which writer's intents recovery keeps, by what it knows of the writer.
func TestRecoverDecidesByWriterLiveness(t *testing.T) {
	forbidden := func(f *fixture) {
		f.kube.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(coordinationv1.Resource("leases"), "x", nil)
		})
	}
	tests := []struct {
		name string
		by   string
		// before runs after the inject and before recovery.
		before     func(t *testing.T, f *fixture)
		wantReason string // empty: kept
		wantErr    bool
	}{
		{name: "writer alive", by: "chaosd-1", before: func(t *testing.T, f *fixture) { holdLease(t, f, "chaosd-1") }},
		{name: "writer's lease expired", by: "chaosd-1", wantReason: "orphaned", before: func(t *testing.T, f *fixture) {
			holdLease(t, f, "chaosd-1")
			f.clock.Step(liveness.DefaultDuration + time.Second)
		}},
		{name: "writer released its lease", by: "chaosd-1", wantReason: "orphaned", before: func(t *testing.T, f *fixture) {
			if err := holdLease(t, f, "chaosd-1").Release(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "writer never held a lease", by: "chaosd-1", wantReason: "orphaned"},
		{name: "writer alive but the intent expired", by: "chaosd-1", wantReason: "expired", before: func(t *testing.T, f *fixture) {
			f.clock.Step(2 * time.Hour)
			holdLease(t, f, "chaosd-1")
		}},
		{name: "writer's liveness unreadable", by: "chaosd-1", wantErr: true, before: func(t *testing.T, f *fixture) { forbidden(f) }},
		{name: "writer's liveness unreadable and the intent expired", by: "chaosd-1", wantReason: "expired", wantErr: true,
			before: func(t *testing.T, f *fixture) { f.clock.Step(2 * time.Hour); forbidden(f) }},
		{name: "this process, run not held", by: "chaosd-0", wantReason: "orphaned"},
		{name: "older chaosd without writer, run not held", by: "", wantReason: "orphaned",
			before: func(t *testing.T, f *fixture) { holdLease(t, f, "chaosd-1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
			ctx := context.Background()
			// The writer is another process, or an earlier one of this
			// process's identity (a restarted container).
			writer := otherEngine(t, f, cmp.Or(tt.by, "legacy"))
			abort := config.Action{Type: config.ActionHTTPAbort, Status: 503}
			if _, err := writer.Inject(ctx, run("r1"), experiment("exp", abort, time.Hour), vsTarget("shop", "cart")); err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if tt.by == "" {
				stripWriter(t, f, "shop", "cart")
			}
			if tt.before != nil {
				tt.before(t, f)
			}
			rep, err := f.engine.Recover(ctx)
			if (err != nil) != tt.wantErr {
				t.Errorf("Recover error = %v, want error %v", err, tt.wantErr)
			}
			switch {
			case tt.wantReason == "" && (len(rep.Kept) != 1 || len(rep.Reverted) != 0):
				t.Errorf("kept %+v, reverted %+v; want it kept", rep.Kept, rep.Reverted)
			case tt.wantReason != "" && (len(rep.Reverted) != 1 || rep.Reverted[0].Reason != tt.wantReason):
				t.Errorf("kept %+v, reverted %+v; want it reverted as %s", rep.Kept, rep.Reverted, tt.wantReason)
			}
			if got := hasIntentMarks(getVS(t, f, "shop", "cart")); got != (tt.wantReason == "") {
				t.Errorf("intent marks left = %v", got)
			}
		})
	}
}

// stripWriter rewrites the intent on a VirtualService as a chaosd from
// before Intent.By would have written it.
func stripWriter(t *testing.T, f *fixture, ns, name string) {
	t.Helper()
	vs := getVS(t, f, ns, name)
	in, ok, err := readIntent(vs)
	if !ok || err != nil {
		t.Fatalf("read intent: %v, %v", ok, err)
	}
	in.By = ""
	if err := writeIntent(vs, in); err != nil {
		t.Fatal(err)
	}
	if _, err := f.istio.NetworkingV1().VirtualServices(ns).Update(context.Background(), vs, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
