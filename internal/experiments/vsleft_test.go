package experiments

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	networkingv1 "istio.io/api/networking/v1"
	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/chaosd/chaosd/internal/config"
)

// The policy for a held fault another writer changed: chaosd reverts the
// parts of it (abort, delay) still exactly as it injected them, leaves the
// parts someone changed, and reports what it left (Outcome.Left, a Warning
// Event naming the writer from managedFields, chaosd_faults_left_total).
func TestHTTPFaultRevertTellsChaosdsPartApart(t *testing.T) {
	abort := config.Action{Type: config.ActionHTTPAbort, Status: 503, Percent: ptr(50.0)}
	both := config.Action{Type: config.ActionHTTPFault, Abort: &config.AbortSpec{Status: 500, Percent: 10},
		FixedDelay: &config.DelaySpec{Delay: time.Second, Percent: 20}}
	nudge := func(vs *istiov1.VirtualService) { vs.Spec.Http[0].Fault.Abort.Percentage.Value = 75 }
	tests := []struct {
		name     string
		vs       *istiov1.VirtualService
		action   config.Action
		edit     func(vs *istiov1.VirtualService)
		want     *networkingv1.HTTPFaultInjection // route 0's fault after the revert
		wantLeft []string                         // parts left
	}{
		{
			name: "abort percentage nudged on a named route: left",
			vs:   virtualService("shop", "cart", route("a", "cart", "")), action: abort, edit: nudge,
			want:     withFault(route("", "", ""), 503, 75).Fault,
			wantLeft: []string{"abort"},
		},
		{
			name: "abort percentage nudged on an unnamed route: found in place, left",
			vs:   virtualService("shop", "cart", route("", "cart", "")), action: abort, edit: nudge,
			want:     withFault(route("", "", ""), 503, 75).Fault,
			wantLeft: []string{"abort"},
		},
		{
			name: "abort nudged under http-fault: chaosd's delay reverted, the abort left",
			vs:   virtualService("shop", "cart", route("a", "cart", "")), action: both, edit: nudge,
			want:     withFault(route("", "", ""), 500, 75).Fault,
			wantLeft: []string{"abort"},
		},
		{
			name: "abort nudged on a route with its own delay: the delay comes back",
			vs:   virtualService("shop", "cart", withDelay(route("a", "cart", ""), 3*time.Second, 5)), action: both, edit: nudge,
			want: func() *networkingv1.HTTPFaultInjection {
				f := withDelay(route("", "", ""), 3*time.Second, 5).Fault
				f.Abort = withFault(route("", "", ""), 500, 75).Fault.Abort
				return f
			}(),
			wantLeft: []string{"abort"},
		},
		{
			name: "a delay added next to chaosd's abort: the abort reverted, their delay kept, nothing left",
			vs:   virtualService("shop", "cart", route("a", "cart", "")), action: abort,
			edit: func(vs *istiov1.VirtualService) {
				vs.Spec.Http[0].Fault.Delay = withDelay(route("", "", ""), 2*time.Second, 1).Fault.Delay
			},
			want: withDelay(route("", "", ""), 2*time.Second, 1).Fault,
		},
		{
			name: "fault removed by someone: nothing of chaosd's left",
			vs:   virtualService("shop", "cart", route("a", "cart", "")), action: abort,
			edit: func(vs *istiov1.VirtualService) { vs.Spec.Http[0].Fault = nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, []runtime.Object{tt.vs})
			ctx := context.Background()
			exp := experiment("exp", tt.action, time.Minute)
			inj, err := f.engine.Inject(ctx, run("r1"), exp, vsTarget("shop", "cart"))
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			vs := getVS(t, f, "shop", "cart")
			tt.edit(vs)
			// What the API server records for an Update by kubectl edit.
			vs.ManagedFields = []metav1.ManagedFieldsEntry{
				{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: t0.Add(2 * time.Second)},
					FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{}}}`)}},
				{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: t0.Add(time.Second)},
					FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:http":{}}}`)}},
				{Manager: "old-writer", Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: t0},
					FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:http":{}}}`)}},
			}
			if _, err := f.istio.NetworkingV1().VirtualServices("shop").Update(ctx, vs, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			after := getVS(t, f, "shop", "cart")
			if got := after.Spec.Http[0].Fault; !proto.Equal(got, tt.want) {
				t.Errorf("fault after revert = %v, want %v", got, tt.want)
			}
			if hasIntentMarks(after) {
				t.Errorf("intent marks left: %v", after.Annotations)
			}
			left := inj.FaultsLeft()
			n := f.counter(t, "chaosd_faults_left_total", map[string]string{"experiment": "exp", "action": string(tt.action.Type)})
			evs := f.drainEvents()
			if len(tt.wantLeft) == 0 {
				if len(left) != 0 || n != 0 || hasEvent(evs, ReasonFaultLeft) {
					t.Errorf("left %v, counter %v, events %q; want nothing left", left, n, evs)
				}
				return
			}
			if len(left) != 1 || !slices.Equal(left[0].Parts, tt.wantLeft) || left[0].ChangedBy != "kubectl-edit" || left[0].Object != "virtualservice/shop/cart" {
				t.Fatalf("FaultsLeft = %+v, want parts %v changed by kubectl-edit", left, tt.wantLeft)
			}
			if n != 1 {
				t.Errorf("chaosd_faults_left_total = %v, want 1", n)
			}
			if !hasEvent(evs, "Warning", ReasonFaultLeft, "fault left in place on route", "changed by kubectl-edit") {
				t.Errorf("no %s Warning event: %q", ReasonFaultLeft, evs)
			}
		})
	}
}
