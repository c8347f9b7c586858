package experiments

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
)

func TestHTTPFaultInjectRevertRestoresSpecExactly(t *testing.T) {
	abort := config.Action{Type: config.ActionHTTPAbort, Status: 503, Percent: ptr(50.0)}
	tests := []struct {
		name   string
		vs     *istiov1.VirtualService
		action config.Action
		// faulted lists, per route index, whether chaosd's fault must be on it.
		faulted []bool
		check   func(t *testing.T, routes []*networkingv1.HTTPRoute)
	}{
		{
			name:    "abort on all routes",
			vs:      virtualService("shop", "cart", route("a", "cart", "v1"), route("", "cart", "v2")),
			action:  abort,
			faulted: []bool{true, true},
		},
		{
			name:    "delay at 100 percent",
			vs:      virtualService("shop", "cart", route("a", "cart", "")),
			action:  config.Action{Type: config.ActionHTTPDelay, Delay: 3 * time.Second, Percent: ptr(100.0)},
			faulted: []bool{true},
			check: func(t *testing.T, routes []*networkingv1.HTTPRoute) {
				d := routes[0].Fault.GetDelay()
				if d.GetFixedDelay().AsDuration() != 3*time.Second || d.GetPercentage().GetValue() != 100 {
					t.Errorf("delay = %v", d)
				}
			},
		},
		{
			name: "http-fault with abort and delay on the matching subset only",
			vs:   virtualService("shop", "cart", route("v1", "cart.shop.svc.cluster.local", "v1"), route("v2", "cart", "v2"), route("other", "pay", "v2")),
			action: config.Action{Type: config.ActionHTTPFault, Route: &config.RouteSelector{Host: "cart", Subset: "v2"},
				Abort: &config.AbortSpec{Status: 500, Percent: 10}, FixedDelay: &config.DelaySpec{Delay: time.Second, Percent: 20}},
			faulted: []bool{false, true, false},
			check: func(t *testing.T, routes []*networkingv1.HTTPRoute) {
				f := routes[1].Fault
				if f.GetAbort().GetHttpStatus() != 500 || f.GetDelay().GetFixedDelay().AsDuration() != time.Second {
					t.Errorf("fault = %v", f)
				}
			},
		},
		{
			name:    "route selector with a fully qualified host",
			vs:      virtualService("shop", "cart", route("v1", "cart", "v1"), route("pay", "pay", "")),
			action:  config.Action{Type: config.ActionHTTPAbort, Status: 500, Percent: ptr(100.0), Route: &config.RouteSelector{Host: "cart.shop.svc.cluster.local"}},
			faulted: []bool{true, false},
		},
		{
			name:    "route with its own delay keeps it under chaosd's abort, and gets it back",
			vs:      virtualService("shop", "cart", withDelay(route("slow", "cart", ""), 2*time.Second, 5), withFault(route("", "cart", "v2"), 418, 1)),
			action:  abort,
			faulted: []bool{true, true},
			check: func(t *testing.T, routes []*networkingv1.HTTPRoute) {
				if routes[0].Fault.GetDelay().GetFixedDelay().AsDuration() != 2*time.Second {
					t.Errorf("existing delay lost: %v", routes[0].Fault)
				}
				if routes[1].Fault.GetAbort().GetHttpStatus() != 503 {
					t.Errorf("abort not replaced: %v", routes[1].Fault)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, []runtime.Object{tt.vs})
			ctx := context.Background()
			before := getVS(t, f, "shop", "cart")
			beforeJSON := specJSON(t, before)

			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", tt.action, time.Minute), vsTarget("shop", "cart"))
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			during := getVS(t, f, "shop", "cart")
			in, found, err := readIntent(during)
			if err != nil || !found || in.Run != "r1" || in.By != "chaosd-0" || !in.ExpiresAt.Equal(t0.Add(2*time.Minute)) {
				t.Fatalf("intent = %+v found=%v err=%v", in, found, err)
			}
			if during.Labels[LabelInjected] != "true" {
				t.Errorf("label %s missing: %v", LabelInjected, during.Labels)
			}
			for i, want := range tt.faulted {
				got := !proto.Equal(during.Spec.Http[i].Fault, before.Spec.Http[i].Fault)
				if got != want {
					t.Errorf("route %d faulted = %v, want %v (%v)", i, got, want, during.Spec.Http[i].Fault)
				}
			}
			if tt.check != nil {
				tt.check(t, during.Spec.Http)
			}

			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			after := getVS(t, f, "shop", "cart")
			if got := specJSON(t, after); got != beforeJSON {
				t.Errorf("spec after revert differs\n got: %s\nwant: %s", got, beforeJSON)
			}
			if hasIntentMarks(after) {
				t.Errorf("intent marks left: %v %v", after.Labels, after.Annotations)
			}
			if after.Labels["app"] != "cart" {
				t.Errorf("own labels lost: %v", after.Labels)
			}
		})
	}
}

func TestHTTPFaultRevertKeepsConcurrentEdits(t *testing.T) {
	abort := config.Action{Type: config.ActionHTTPAbort, Status: 503, Percent: ptr(50.0)}
	tests := []struct {
		name  string
		vs    *istiov1.VirtualService
		edit  func(vs *istiov1.VirtualService)
		check func(t *testing.T, vs *istiov1.VirtualService)
		notes string // a revert note that must appear
		left  string // a ChaosFaultLeft Warning that must appear
	}{
		{
			name: "other fields and labels changed",
			vs:   virtualService("shop", "cart", route("a", "cart", "")),
			edit: func(vs *istiov1.VirtualService) {
				vs.Spec.Hosts = append(vs.Spec.Hosts, "cart.example.com")
				vs.Labels["team"] = "payments"
			},
			check: func(t *testing.T, vs *istiov1.VirtualService) {
				if len(vs.Spec.Hosts) != 2 || vs.Labels["team"] != "payments" {
					t.Errorf("edit lost: hosts=%v labels=%v", vs.Spec.Hosts, vs.Labels)
				}
				if vs.Spec.Http[0].Fault != nil {
					t.Errorf("chaosd fault left: %v", vs.Spec.Http[0].Fault)
				}
			},
		},
		{
			name: "unnamed route inserted in front and one appended",
			vs:   virtualService("shop", "cart", route("", "cart", "v1"), route("", "cart", "v2")),
			edit: func(vs *istiov1.VirtualService) {
				vs.Spec.Http = append([]*networkingv1.HTTPRoute{route("", "canary", "")}, vs.Spec.Http...)
				vs.Spec.Http = append(vs.Spec.Http, route("", "tail", ""))
			},
			check: func(t *testing.T, vs *istiov1.VirtualService) {
				if len(vs.Spec.Http) != 4 {
					t.Fatalf("routes = %d, want 4", len(vs.Spec.Http))
				}
				for i, r := range vs.Spec.Http {
					if r.Fault != nil {
						t.Errorf("route %d still has a fault: %v", i, r.Fault)
					}
				}
			},
		},
		{
			name: "unnamed route inserted in front and the faulted one edited",
			vs:   virtualService("shop", "cart", route("", "cart", "")),
			edit: func(vs *istiov1.VirtualService) {
				vs.Spec.Http[0].Timeout = durationpb.New(7 * time.Second)
				vs.Spec.Http = append([]*networkingv1.HTTPRoute{route("", "canary", "")}, vs.Spec.Http...)
			},
			check: func(t *testing.T, vs *istiov1.VirtualService) {
				if len(vs.Spec.Http) != 2 || vs.Spec.Http[1].Timeout.AsDuration() != 7*time.Second {
					t.Fatalf("edit lost: %v", vs.Spec.Http)
				}
				for i, r := range vs.Spec.Http {
					if r.Fault != nil {
						t.Errorf("route %d still has a fault: %v", i, r.Fault)
					}
				}
			},
		},
		{
			name: "someone replaced chaosd's fault on one route",
			vs:   virtualService("shop", "cart", route("a", "cart", "v1"), route("b", "cart", "v2")),
			edit: func(vs *istiov1.VirtualService) {
				withFault(vs.Spec.Http[1], 429, 7)
			},
			check: func(t *testing.T, vs *istiov1.VirtualService) {
				if vs.Spec.Http[0].Fault != nil {
					t.Errorf("route a still faulted: %v", vs.Spec.Http[0].Fault)
				}
				if vs.Spec.Http[1].Fault.GetAbort().GetHttpStatus() != 429 {
					t.Errorf("their fault on route b lost: %v", vs.Spec.Http[1].Fault)
				}
			},
			left: `fault left in place on route "b" of virtualservice/shop/cart (abort): changed by an unknown writer`,
		},
		{
			name: "named route removed",
			vs:   virtualService("shop", "cart", route("a", "cart", "v1"), route("b", "cart", "v2")),
			edit: func(vs *istiov1.VirtualService) {
				vs.Spec.Http = vs.Spec.Http[1:]
			},
			check: func(t *testing.T, vs *istiov1.VirtualService) {
				if len(vs.Spec.Http) != 1 || vs.Spec.Http[0].Name != "b" || vs.Spec.Http[0].Fault != nil {
					t.Errorf("routes = %v", vs.Spec.Http)
				}
			},
			notes: `route "a" no longer carries chaosd's fault`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, []runtime.Object{tt.vs})
			ctx := context.Background()
			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", abort, time.Minute), vsTarget("shop", "cart"))
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			vs := getVS(t, f, "shop", "cart")
			tt.edit(vs)
			if _, err := f.istio.NetworkingV1().VirtualServices("shop").Update(ctx, vs, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			after := getVS(t, f, "shop", "cart")
			tt.check(t, after)
			if hasIntentMarks(after) {
				t.Errorf("intent marks left: %v", after.Annotations)
			}
			evs := f.drainEvents()
			if tt.notes != "" && !hasEvent(evs, ReasonReverted, tt.notes) {
				t.Errorf("no %s event noting %q", ReasonReverted, tt.notes)
			}
			if tt.left != "" && !hasEvent(evs, "Warning", ReasonFaultLeft, tt.left) {
				t.Errorf("no %s Warning event saying %q: %q", ReasonFaultLeft, tt.left, evs)
			}
		})
	}
}

func TestHTTPFaultInjectRefusals(t *testing.T) {
	tests := []struct {
		name    string
		vs      *istiov1.VirtualService
		action  config.Action
		wantErr error
	}{
		{
			name:    "no route matches the selector",
			vs:      virtualService("shop", "cart", route("a", "cart", "v1")),
			action:  config.Action{Type: config.ActionHTTPAbort, Status: 500, Route: &config.RouteSelector{Host: "cart", Subset: "v9"}},
			wantErr: ErrNoMatchingRoute,
		},
		{
			name: "already injected by another run",
			vs: func() *istiov1.VirtualService {
				vs := virtualService("shop", "cart", route("a", "cart", ""))
				vs.Annotations = map[string]string{AnnotationInjection: `{"run":"other"}`}
				return vs
			}(),
			action:  config.Action{Type: config.ActionHTTPAbort, Status: 500},
			wantErr: ErrAlreadyInjected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, []runtime.Object{tt.vs})
			inj, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", tt.action, time.Minute), vsTarget("shop", "cart"))
			if !errors.Is(err, tt.wantErr) || inj != nil {
				t.Fatalf("Inject = %v, %v; want %v", inj, err, tt.wantErr)
			}
			if w := writeVerbs(f.istio.Actions()); len(w) != 0 {
				t.Errorf("writes = %v, want none", w)
			}
			if got := f.counter(t, "chaosd_injections_total", map[string]string{"result": resultFailed}); got != 1 {
				t.Errorf("failed injections = %v, want 1", got)
			}
		})
	}
}

// conflictOnce makes the first update of resource fail with a Conflict.
func conflictOnce(fake *k8stesting.Fake, resource string) *int {
	calls := 0
	fake.PrependReactor("update", resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		calls++
		if calls == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: resource}, "x", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	return &calls
}

func TestHTTPFaultRetriesConflicts(t *testing.T) {
	// updates counted from the reactor on: conflict, success (, revert).
	for phase, wantUpdates := range map[string]int{"inject": 3, "revert": 2} {
		t.Run(phase, func(t *testing.T) {
			f := newFixture(t, nil, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
			ctx := context.Background()
			before := specJSON(t, getVS(t, f, "shop", "cart"))
			var calls *int
			if phase == "inject" {
				calls = conflictOnce(&f.istio.Fake, "virtualservices")
			}
			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionHTTPAbort, Status: 500}, time.Minute), vsTarget("shop", "cart"))
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if phase == "revert" {
				calls = conflictOnce(&f.istio.Fake, "virtualservices")
			}
			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if *calls != wantUpdates {
				t.Errorf("updates = %d, want %d", *calls, wantUpdates)
			}
			if got := specJSON(t, getVS(t, f, "shop", "cart")); got != before {
				t.Errorf("spec after revert = %s, want %s", got, before)
			}
		})
	}
}

func TestHTTPFaultRevertTargetGone(t *testing.T) {
	f := newFixture(t, nil, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
	ctx := context.Background()
	inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionHTTPAbort, Status: 500}, time.Minute), vsTarget("shop", "cart"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.istio.NetworkingV1().VirtualServices("shop").Delete(ctx, "cart", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.Revert(ctx, inj); err != nil {
		t.Fatalf("Revert of a deleted target: %v", err)
	}
	if len(f.engine.Active()) != 0 {
		t.Error("injection still active")
	}
	if got := f.counter(t, "chaosd_reverts_total", map[string]string{"result": resultGone}); got != 1 {
		t.Errorf("reverts{result=gone} = %v, want 1", got)
	}
	if !hasEvent(f.drainEvents(), ReasonReverted, "target gone") {
		t.Error("no event saying the target is gone")
	}
}

func TestSameHost(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "short and fqdn", a: "cart", b: "cart.shop.svc.cluster.local", want: true},
		{name: "short and namespaced", a: "cart", b: "cart.shop", want: true},
		{name: "svc suffix", a: "cart.shop.svc", b: "cart.shop.svc.cluster.local", want: true},
		{name: "other namespace", a: "cart", b: "cart.other.svc.cluster.local", want: false},
		{name: "external host", a: "api.example.com", b: "api.example.com", want: true},
		{name: "external prefix is not a match", a: "api.example", b: "api.example.com", want: false},
		{name: "case insensitive", a: "Cart", b: "cart", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameHost(tt.a, tt.b, "shop"); got != tt.want {
				t.Errorf("sameHost(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestHTTPFaultPlanShowsTheUpdate(t *testing.T) {
	f := newFixture(t, nil, []runtime.Object{virtualService("shop", "cart", route("a", "cart", ""))})
	act := f.engine.actuators[config.ActionHTTPAbort]
	p, err := act.Plan(context.Background(), Spec{Action: config.Action{Type: config.ActionHTTPAbort, Status: 503, Percent: ptr(25.0)}, Target: vsTarget("shop", "cart"), Intent: Intent{Run: "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Verb != "update" {
		t.Fatalf("plan = %+v", p)
	}
	d := string(p.Changes[0].Diff)
	for _, want := range []string{`"httpStatus":503`, `"value":25`, AnnotationInjection} {
		if !strings.Contains(d, want) {
			t.Errorf("diff %s lacks %s", d, want)
		}
	}
}
