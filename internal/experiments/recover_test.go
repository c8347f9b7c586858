package experiments

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/liveness"
	"github.com/chaosd/chaosd/internal/targets"
)

// crashedEngine injects through a second Engine on the same clients, as a
// previous chaosd leader would have before dying (it holds no liveness
// Lease).
func crashedEngine(t *testing.T, f *fixture) *Engine {
	t.Helper()
	return otherEngine(t, f, "chaosd-old")
}

// otherEngine is another chaosd process on the same clients.
func otherEngine(t *testing.T, f *fixture, identity string) *Engine {
	t.Helper()
	e, err := NewEngine(Options{Kube: f.kube, Istio: f.istio, Namespace: chaosdNS, Identity: identity, Clock: f.clock,
		Logger: zap.NewNop(), ConflictBackoff: wait.Backoff{Steps: 5}, Liveness: f.liveness})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// holdLease writes the liveness Lease of identity, as a running chaosd
// process does.
func holdLease(t *testing.T, f *fixture, identity string) *liveness.Lease {
	t.Helper()
	l, err := liveness.New(liveness.Options{Kube: f.kube, Namespace: chaosdNS, Identity: identity, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRecoverRevertsOrphans(t *testing.T) {
	unreadable := node("n4", false)
	unreadable.Spec.Unschedulable = true
	unreadable.Labels[LabelInjected] = "true"
	unreadable.Annotations = map[string]string{AnnotationInjection: "{not json"}
	misplaced := node("n7", false)
	misplaced.Labels[LabelInjected] = "true"
	misplaced.Annotations = map[string]string{AnnotationInjection: `{"run":"dead","action":"http-abort"}`}
	evidence := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: chaosdNS, Name: "chaosd-injection-old-n9", Labels: map[string]string{LabelSnapshot: "true"}}}
	f := newFixture(t,
		[]runtime.Object{node("n1", false), node("n2", false), node("n3", true), unreadable, node("n5", false), node("n6", false), misplaced, evidence},
		[]runtime.Object{virtualService("shop", "cart", route("a", "cart", ""), withFault(route("b", "cart", ""), 418, 3))})
	ctx := context.Background()
	vsBefore := specJSON(t, getVS(t, f, "shop", "cart"))
	old := crashedEngine(t, f)
	holdLease(t, f, "chaosd-once")
	once := otherEngine(t, f, "chaosd-once") // a live chaosd once
	inject := func(e *Engine, runID string, a config.Action, d time.Duration, tgt interface{}) {
		t.Helper()
		var err error
		switch tgt := tgt.(type) {
		case string:
			_, err = e.Inject(ctx, run(runID), experiment("exp", a, d), nodeTarget(tgt))
		default:
			_, err = e.Inject(ctx, run(runID), experiment("exp", a, d), vsTarget("shop", "cart"))
		}
		if err != nil {
			t.Fatalf("inject %v: %v", tgt, err)
		}
	}
	cordon := config.Action{Type: config.ActionNodeCordon}
	inject(old, "dead", config.Action{Type: config.ActionHTTPAbort, Status: 503}, time.Hour, nil)
	inject(old, "dead", cordon, time.Hour, "n1")
	inject(once, "live", cordon, time.Hour, "n2")
	inject(once, "live", cordon, time.Second, "n3") // expires first
	inject(old, "dead", config.Action{Type: config.ActionNodeDelete, Restore: true}, time.Hour, "n5")
	inject(f.engine, "mine", cordon, time.Second, "n6") // this engine's own, expired below
	f.clock.Step(10 * time.Minute)                      // past n3's and n6's expiry (duration + margin)
	holdLease(t, f, "chaosd-once")                      // renewed
	f.kube.ClearActions()
	f.istio.ClearActions()

	rep, err := f.engine.Recover(ctx)
	if err == nil {
		t.Error("want an error for the unreadable intent")
	}
	if rep.Found != 8 || len(rep.Reverted) != 5 || len(rep.Kept) != 1 || len(rep.Failed) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Kept[0].Object != "node/n2" || rep.Failed[0].Object != "node/n4" || rep.Failed[1].Object != "node/n7" {
		t.Errorf("kept = %+v, failed = %+v", rep.Kept, rep.Failed)
	}
	reasons := map[string]string{}
	for _, r := range rep.Reverted {
		reasons[r.Object] = r.Reason
	}
	want := map[string]string{"virtualservice/shop/cart": "orphaned", "node/n1": "orphaned", "node/n3": "expired", "node/n5": "orphaned", "node/n6": "expired"}
	for obj, reason := range want {
		if reasons[obj] != reason {
			t.Errorf("%s reverted as %q, want %q", obj, reasons[obj], reason)
		}
	}

	for _, a := range append(f.kube.Actions(), f.istio.Actions()...) {
		if l, ok := a.(k8stesting.ListAction); ok && l.GetListRestrictions().Labels.String() != injectedSelector {
			t.Errorf("recovery listed %s without the %s selector", a.GetResource().Resource, injectedSelector)
		}
	}
	if got := specJSON(t, getVS(t, f, "shop", "cart")); got != vsBefore {
		t.Errorf("virtualservice spec = %s, want %s", got, vsBefore)
	}
	for name, want := range map[string]bool{"n1": false, "n2": true, "n3": true, "n4": true, "n5": false, "n6": false} {
		n := getNode(t, f, name)
		if n.Spec.Unschedulable != want {
			t.Errorf("node %s unschedulable = %v, want %v", name, n.Spec.Unschedulable, want)
		}
		if marked := hasIntentMarks(n); marked != (name == "n2" || name == "n4") {
			t.Errorf("node %s intent marks = %v", name, marked)
		}
	}
	cms, _ := f.kube.CoreV1().ConfigMaps(chaosdNS).List(ctx, metav1.ListOptions{})
	if len(cms.Items) != 1 || cms.Items[0].Name != evidence.Name {
		t.Errorf("configmaps left = %v, want only the evidence snapshot", cms.Items)
	}
	if len(f.engine.Active()) != 0 {
		t.Error("this engine's recovered injection is still active")
	}
	if got := f.counter(t, "chaosd_reverts_total", map[string]string{"result": resultSuccess}); got != 5 {
		t.Errorf("reverts{result=success} = %v, want 5", got)
	}
}

func TestRecoverNothingToDo(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	rep, err := f.engine.Recover(context.Background())
	if err != nil || rep.Found != 0 {
		t.Errorf("Recover = %+v, %v", rep, err)
	}
	if w := writeVerbs(f.kube.Actions()); len(w) != 0 {
		t.Errorf("writes = %v", w)
	}
}

// In namespaced mode recovery reads only what the Roles allow: the watched
// namespaces' VirtualServices and chaosd's own ConfigMaps, never nodes. A
// node snapshot it finds is reported as unrestorable, not restored, and is
// no error of the pass (the daemon reports it once, not every minute).
func TestRecoverNamespaced(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false), node("n5", false)}, []runtime.Object{
		virtualService("shop", "cart", route("a", "cart", "")),
		virtualService("other", "api", route("a", "api", "")),
	})
	ctx := context.Background()
	old := crashedEngine(t, f)
	abort := config.Action{Type: config.ActionHTTPAbort, Status: 503}
	for _, tgt := range []targets.Target{vsTarget("shop", "cart"), vsTarget("other", "api")} {
		if _, err := old.Inject(ctx, run("dead"), experiment("exp", abort, time.Hour), tgt); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []config.Action{{Type: config.ActionNodeCordon}, {Type: config.ActionNodeDelete, Restore: true}} {
		name := map[config.ActionType]string{config.ActionNodeCordon: "n1", config.ActionNodeDelete: "n5"}[a.Type]
		if _, err := old.Inject(ctx, run("dead"), experiment("exp", a, time.Hour), nodeTarget(name)); err != nil {
			t.Fatal(err)
		}
	}
	f.kube.ClearActions()
	f.istio.ClearActions()

	e, err := NewEngine(Options{Kube: f.kube, Istio: f.istio, Namespace: chaosdNS, Namespaces: []string{"shop"}, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Recover(ctx)
	if err != nil {
		t.Errorf("err = %v; a node snapshot it cannot restore is no error of the pass", err)
	}
	if rep.Found != 2 || len(rep.Reverted) != 1 || rep.Reverted[0].Object != "virtualservice/shop/cart" || len(rep.Failed) != 0 ||
		len(rep.Unrestorable) != 1 || rep.Unrestorable[0].Object != "node/n5" || !strings.Contains(rep.Unrestorable[0].Err, "cannot be restored in namespaced mode") {
		t.Errorf("report = %+v, want shop/cart reverted and node/n5 unrestorable", rep)
	}
	for _, a := range append(f.kube.Actions(), f.istio.Actions()...) {
		if ns := a.GetNamespace(); ns != "shop" && ns != chaosdNS {
			t.Errorf("%s %s in namespace %q, want only shop and %s", a.GetVerb(), a.GetResource().Resource, ns, chaosdNS)
		}
	}
	if hasIntentMarks(getVS(t, f, "shop", "cart")) || !hasIntentMarks(getVS(t, f, "other", "api")) {
		t.Error("want shop/cart reverted and other/api left alone")
	}
	if !getNode(t, f, "n1").Spec.Unschedulable {
		t.Error("n1 was uncordoned: recovery touched a node")
	}
}
