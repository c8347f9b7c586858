package experiments

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

func TestNodeCordonInjectRevert(t *testing.T) {
	tests := []struct {
		name             string
		wasUnschedulable bool
		wantAfter        bool
	}{
		{name: "schedulable node is uncordoned on revert", wasUnschedulable: false, wantAfter: false},
		{name: "node cordoned before chaosd stays cordoned", wasUnschedulable: true, wantAfter: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", tt.wasUnschedulable)}, nil)
			ctx := context.Background()
			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Minute), nodeTarget("n1"))
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			n := getNode(t, f, "n1")
			in, found, _ := readIntent(n)
			if !n.Spec.Unschedulable || !found || in.Run != "r1" || n.Labels[LabelInjected] != "true" {
				t.Fatalf("after inject: unschedulable=%v intent=%+v labels=%v", n.Spec.Unschedulable, in, n.Labels)
			}
			if want := mustJSON(nodeOriginal{WasUnschedulable: tt.wasUnschedulable}); string(in.Original) != want {
				t.Errorf("original = %s, want %s", in.Original, want)
			}
			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			n = getNode(t, f, "n1")
			if n.Spec.Unschedulable != tt.wantAfter || hasIntentMarks(n) {
				t.Errorf("after revert: unschedulable=%v marks=%v", n.Spec.Unschedulable, hasIntentMarks(n))
			}
			if n.Labels[config.DefaultZoneLabel] != "zone-a" {
				t.Errorf("own labels lost: %v", n.Labels)
			}
		})
	}
}

func TestNodeRevertLeavesNodeWithoutChaosdIntent(t *testing.T) {
	// After chaosd's revert, a human cordons the node; a second revert (e.g.
	// RevertAll racing the runner) must not uncordon it.
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	ctx := context.Background()
	act := f.engine.actuators[config.ActionNodeCordon]
	s := Spec{Intent: Intent{Run: "r1", Action: config.ActionNodeCordon}, Target: nodeTarget("n1")}
	rec, err := act.Inject(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := act.Revert(ctx, rec); err != nil {
		t.Fatal(err)
	}
	n := getNode(t, f, "n1")
	n.Spec.Unschedulable = true
	if _, err := f.kube.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := act.Revert(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !getNode(t, f, "n1").Spec.Unschedulable {
		t.Error("second revert uncordoned a node chaosd no longer owns")
	}
	if len(out.Notes) == 0 {
		t.Error("no note explaining why the node was left alone")
	}
}

func TestZoneCordonIsOneFault(t *testing.T) {
	zone := targets.Target{Kind: config.TargetZone, Zone: "zone-a", Nodes: []string{"n1", "n2", "n3"}}
	t.Run("all nodes cordoned and uncordoned together", func(t *testing.T) {
		f := newFixture(t, []runtime.Object{node("n1", false), node("n2", true), node("n3", false)}, nil)
		ctx := context.Background()
		inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Minute), zone)
		if err != nil {
			t.Fatalf("Inject: %v", err)
		}
		if got := len(f.engine.Active()); got != 1 {
			t.Errorf("active = %d, want 1 injection for the zone", got)
		}
		for _, name := range zone.Nodes {
			if n := getNode(t, f, name); !n.Spec.Unschedulable || !hasIntentMarks(n) {
				t.Errorf("node %s not cordoned with intent", name)
			}
		}
		if got := len(f.drainEvents()); got != 3 {
			t.Errorf("events = %d, want one %s per node", got, ReasonInjected)
		}
		if err := f.engine.Revert(ctx, inj); err != nil {
			t.Fatalf("Revert: %v", err)
		}
		for name, want := range map[string]bool{"n1": false, "n2": true, "n3": false} {
			if n := getNode(t, f, name); n.Spec.Unschedulable != want || hasIntentMarks(n) {
				t.Errorf("node %s unschedulable=%v marks=%v, want %v", name, n.Spec.Unschedulable, hasIntentMarks(n), want)
			}
		}
	})
	t.Run("a failing node rolls back the nodes already cordoned", func(t *testing.T) {
		busy := node("n3", false)
		busy.Annotations = map[string]string{AnnotationInjection: `{"run":"other"}`}
		f := newFixture(t, []runtime.Object{node("n1", false), node("n2", false), busy}, nil)
		inj, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Minute), zone)
		if !errors.Is(err, ErrAlreadyInjected) || inj != nil {
			t.Fatalf("Inject = %v, %v; want ErrAlreadyInjected and nothing held", inj, err)
		}
		for _, name := range []string{"n1", "n2"} {
			if n := getNode(t, f, name); n.Spec.Unschedulable || hasIntentMarks(n) {
				t.Errorf("node %s not rolled back", name)
			}
		}
		if n := getNode(t, f, "n3"); n.Annotations[AnnotationInjection] != `{"run":"other"}` {
			t.Errorf("other run's intent touched: %v", n.Annotations)
		}
	})
}

func TestNodeCordonRetriesConflicts(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	calls := conflictOnce(&f.kube.Fake, "nodes")
	inj, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", config.Action{Type: config.ActionNodeCordon}, time.Minute), nodeTarget("n1"))
	if err != nil {
		t.Fatalf("Inject: %v", err)
	}
	if *calls != 2 || !getNode(t, f, "n1").Spec.Unschedulable {
		t.Errorf("updates = %d, cordoned = %v", *calls, getNode(t, f, "n1").Spec.Unschedulable)
	}
	if err := f.engine.Revert(context.Background(), inj); err != nil {
		t.Fatal(err)
	}
}
