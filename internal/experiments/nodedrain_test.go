package experiments

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// evictions makes the fake serve the Eviction API: pods named in blocked are
// refused with 429 as a PodDisruptionBudget would; others are deleted.
func evictions(f *fixture, blocked ...string) {
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		ev := a.(k8stesting.CreateAction).GetObject().(*policyv1.Eviction)
		for _, b := range blocked {
			if ev.Name == b {
				return true, nil, apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
			}
		}
		return true, nil, f.kube.Tracker().Delete(podsGVR, ev.Namespace, ev.Name)
	})
}

func drainAction(timeout time.Duration) config.Action {
	return config.Action{Type: config.ActionNodeDrain, Timeout: timeout, IgnoreDaemonSets: ptr(true)}
}

func TestNodeDrainEvictsAndUncordons(t *testing.T) {
	rs := replicaSetRef("web-1")
	tests := []struct {
		name   string
		target targets.Target
		nodes  []string
	}{
		{name: "one node", target: nodeTarget("n1"), nodes: []string{"n1"}},
		{name: "zone outage", target: targets.Target{Kind: config.TargetZone, Zone: "zone-a", Nodes: []string{"n1", "n2"}}, nodes: []string{"n1", "n2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := []runtime.Object{node("n1", false), node("n2", false), pod("shop", "web-a", "n1", &rs, true)}
			if len(tt.nodes) == 2 {
				objs = append(objs, pod("shop", "web-b", "n2", &rs, true))
			}
			f := newFixture(t, objs, nil)
			evictions(f)
			ctx := context.Background()
			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", drainAction(time.Second), time.Minute), tt.target)
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			report := inj.Detail.(*NodeReport)
			if len(report.Evicted) != len(tt.nodes) || len(report.BlockedByPDB) != 0 {
				t.Errorf("report = %+v", report)
			}
			if !inj.ExpiresAt.Equal(t0.Add(time.Minute + time.Second + time.Minute)) {
				t.Errorf("expiry = %v, want duration + drain timeout + margin", inj.ExpiresAt)
			}
			for _, n := range tt.nodes {
				if !getNode(t, f, n).Spec.Unschedulable {
					t.Errorf("node %s not cordoned", n)
				}
			}
			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			for _, n := range tt.nodes {
				if node := getNode(t, f, n); node.Spec.Unschedulable || hasIntentMarks(node) {
					t.Errorf("node %s not reverted", n)
				}
			}
		})
	}
}

func TestNodeDrainBlockedByPDB(t *testing.T) {
	rs := replicaSetRef("web-1")
	f := newFixture(t, []runtime.Object{node("n1", false), pod("shop", "web-a", "n1", &rs, true), pod("shop", "db-0", "n1", &rs, true)}, nil)
	evictions(f, "db-0")
	ctx := context.Background()
	inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", drainAction(50*time.Millisecond), time.Minute), nodeTarget("n1"))
	if !errors.Is(err, ErrBlockedByPDB) {
		t.Fatalf("Inject error = %v, want ErrBlockedByPDB", err)
	}
	if !strings.Contains(err.Error(), "blocked by PodDisruptionBudget") || !strings.Contains(err.Error(), "shop/db-0") {
		t.Errorf("error %q does not name the PDB and the pod", err)
	}
	if inj == nil {
		t.Fatal("no injection returned: the cordoned node would never be reverted")
	}
	report := inj.Detail.(*NodeReport)
	if strings.Join(report.Evicted, ",") != "shop/web-a" || strings.Join(report.BlockedByPDB, ",") != "shop/db-0" {
		t.Errorf("report = %+v", report)
	}
	if got := f.counter(t, "chaosd_injections_total", map[string]string{"result": resultBlocked}); got != 1 {
		t.Errorf("injections{result=blocked} = %v, want 1", got)
	}
	if len(f.engine.Active()) != 1 || !getNode(t, f, "n1").Spec.Unschedulable {
		t.Fatal("blocked drain must stay held (cordoned) until reverted")
	}
	if err := f.engine.Revert(ctx, inj); err != nil {
		t.Fatalf("Revert: %v", err)
	}
	if getNode(t, f, "n1").Spec.Unschedulable {
		t.Error("node still cordoned after revert")
	}
}

func TestNodeDrainBarePodFailsButStaysRevertible(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false), pod("shop", "bare", "n1", nil, true)}, nil)
	evictions(f)
	ctx := context.Background()
	inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", drainAction(time.Second), time.Minute), nodeTarget("n1"))
	if err == nil || inj == nil {
		t.Fatalf("Inject = %v, %v; want an error and a held injection", inj, err)
	}
	if _, err := f.kube.CoreV1().Pods("shop").Get(ctx, "bare", metav1.GetOptions{}); err != nil {
		t.Errorf("bare pod was removed: %v", err)
	}
	if err := f.engine.Revert(ctx, inj); err != nil || getNode(t, f, "n1").Spec.Unschedulable {
		t.Errorf("Revert = %v, node still cordoned = %v", err, getNode(t, f, "n1").Spec.Unschedulable)
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := &lineWriter{log: func(l string) { got = append(got, l) }}
	for _, chunk := range []string{"evicting pod a\nevict", "ing pod b\n", "\n", "partial"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, "|") != "evicting pod a|evicting pod b" {
		t.Errorf("lines = %q", got)
	}
}
