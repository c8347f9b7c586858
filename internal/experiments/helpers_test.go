package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	istiofake "istio.io/client-go/pkg/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/liveness"
	"github.com/chaosd/chaosd/internal/targets"
)

const chaosdNS = "chaosd"

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// fixture is an Engine on fake clients, a fake clock, a fake recorder, a
// private registry and an observed logger.
type fixture struct {
	kube     *k8sfake.Clientset
	liveness *liveness.Lease // reads the liveness Leases in kube
	istio    *istiofake.Clientset
	clock    *clocktesting.FakeClock
	events   *events.FakeRecorder
	reg      *prometheus.Registry
	logs     *observer.ObservedLogs
	engine   *Engine
}

func newFixture(t *testing.T, kubeObjs []runtime.Object, istioObjs []runtime.Object) *fixture {
	t.Helper()
	f := &fixture{
		kube:   k8sfake.NewClientset(kubeObjs...),
		istio:  istiofake.NewSimpleClientset(istioObjs...),
		clock:  clocktesting.NewFakeClock(t0),
		events: events.NewFakeRecorder(100),
		reg:    prometheus.NewRegistry(),
	}
	// The Eviction API is served (drain checks discovery).
	f.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{{
		GroupVersion: "v1",
		APIResources: []metav1.APIResource{{Name: "pods/eviction", Kind: "Eviction", Group: "policy", Version: "v1"}},
	}}
	core, logs := observer.New(zap.DebugLevel)
	f.logs = logs
	var err error
	if f.liveness, err = liveness.New(liveness.Options{Kube: f.kube, Namespace: chaosdNS, Identity: "chaosd-0", Clock: f.clock}); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(Options{
		Kube: f.kube, Istio: f.istio, Namespace: chaosdNS, Identity: "chaosd-0", Liveness: f.liveness,
		Clock: f.clock, Logger: zap.New(core), Registerer: f.reg, Recorder: f.events,
		ExpiryMargin: time.Minute, DrainRetryDelay: time.Millisecond,
		ConflictBackoff: wait.Backoff{Steps: 5},
		RevertBackoff:   wait.Backoff{Duration: time.Second, Factor: 2, Steps: 4},
	})
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	t.Cleanup(e.Close) // stops background revert retries
	f.engine = e
	return f
}

// drainEvents returns the events recorded so far.
func (f *fixture) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-f.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// counter sums the samples of a metric whose labels match labels.
func (f *fixture) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			if m.GetCounter() != nil {
				sum += m.GetCounter().GetValue()
			} else {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// writeVerbs lists the mutating calls a fake clientset received.
func writeVerbs(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete", "deletecollection", "apply":
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource+"/"+a.GetSubresource())
		}
	}
	return out
}

// driveClock steps the fake clock whenever someone waits on it, until stop
// is closed: revert backoffs and replacement polls run without real sleeps.
func driveClock(c *clocktesting.FakeClock, step time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			default:
			}
			if c.HasWaiters() {
				c.Step(step)
			}
			time.Sleep(50 * time.Microsecond) // yield; the clock, not this, paces the code under test
		}
	}()
	return func() { close(done); <-finished }
}

func experiment(name string, a config.Action, d time.Duration) config.Experiment {
	return config.Experiment{Name: name, Action: a, Duration: d}
}

func run(id string) Run { return Run{ID: id, Experiment: "exp"} }

func ptr[T any](v T) *T { return &v }

// ---- VirtualServices

func route(name, host, subset string) *networkingv1.HTTPRoute {
	return &networkingv1.HTTPRoute{
		Name:  name,
		Route: []*networkingv1.HTTPRouteDestination{{Destination: &networkingv1.Destination{Host: host, Subset: subset}, Weight: 100}},
	}
}

func withFault(r *networkingv1.HTTPRoute, status int32, pct float64) *networkingv1.HTTPRoute {
	r.Fault = &networkingv1.HTTPFaultInjection{Abort: &networkingv1.HTTPFaultInjection_Abort{
		ErrorType:  &networkingv1.HTTPFaultInjection_Abort_HttpStatus{HttpStatus: status},
		Percentage: &networkingv1.Percent{Value: pct},
	}}
	return r
}

func withDelay(r *networkingv1.HTTPRoute, d time.Duration, pct float64) *networkingv1.HTTPRoute {
	r.Fault = &networkingv1.HTTPFaultInjection{Delay: &networkingv1.HTTPFaultInjection_Delay{
		HttpDelayType: &networkingv1.HTTPFaultInjection_Delay_FixedDelay{FixedDelay: durationpb.New(d)},
		Percentage:    &networkingv1.Percent{Value: pct},
	}}
	return r
}

func virtualService(ns, name string, routes ...*networkingv1.HTTPRoute) *istiov1.VirtualService {
	vs := &istiov1.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name),
		Labels: map[string]string{"app": name}}}
	vs.Spec.Hosts = []string{name}
	vs.Spec.Http = routes
	return vs
}

func getVS(t *testing.T, f *fixture, ns, name string) *istiov1.VirtualService {
	t.Helper()
	vs, err := f.istio.NetworkingV1().VirtualServices(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get virtualservice: %v", err)
	}
	return vs
}

func specJSON(t *testing.T, vs *istiov1.VirtualService) string {
	t.Helper()
	b, err := (&vs.Spec).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func vsTarget(ns, name string) targets.Target {
	return targets.Target{Kind: config.TargetVirtualService, Namespace: ns, Name: name}
}

// ---- Nodes and pods

func node(name string, unschedulable bool) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), ResourceVersion: "7",
			Labels: map[string]string{config.DefaultZoneLabel: "zone-a"}},
		Spec:   corev1.NodeSpec{Unschedulable: unschedulable, ProviderID: "kwok://" + name},
		Status: corev1.NodeStatus{Phase: corev1.NodeRunning},
	}
}

func getNode(t *testing.T, f *fixture, name string) *corev1.Node {
	t.Helper()
	n, err := f.kube.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get node: %v", err)
	}
	return n
}

func nodeTarget(name string) targets.Target {
	return targets.Target{Kind: config.TargetNode, Name: name}
}

func replicaSetRef(name string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name, UID: types.UID("uid-" + name), Controller: ptr(true)}
}

func pod(ns, name, nodeName string, owner *metav1.OwnerReference, ready bool) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{NodeName: nodeName},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	if ready {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

// intentJSON encodes an intent as "another chaosd process" would have.
func intentJSON(t *testing.T, in Intent, original any) string {
	t.Helper()
	if original != nil {
		raw, err := json.Marshal(original)
		if err != nil {
			t.Fatal(err)
		}
		in.Original = raw
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hasEvent(evs []string, parts ...string) bool {
	for _, e := range evs {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(e, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(b)
}
