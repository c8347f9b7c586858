package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
)

func TestNodeDeleteSnapshotAndRestore(t *testing.T) {
	tests := []struct {
		name           string
		restore        bool
		wantReversible bool
	}{
		{name: "restore re-creates the node", restore: true, wantReversible: true},
		{name: "without restore the snapshot is evidence only", restore: false, wantReversible: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := node("n1", false)
			n.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
			n.CreationTimestamp = metav1.NewTime(t0.Add(-time.Hour))
			f := newFixture(t, []runtime.Object{n}, nil)
			ctx := context.Background()
			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeDelete, Restore: tt.restore}, time.Minute), nodeTarget("n1"))
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if inj.Reversible != tt.wantReversible || len(f.engine.Active()) != map[bool]int{true: 1}[tt.wantReversible] {
				t.Errorf("reversible = %v, active = %d", inj.Reversible, len(f.engine.Active()))
			}
			if w := writeVerbs(f.kube.Actions()); len(w) != 2 || w[0] != "create configmaps/" || w[1] != "delete nodes/" {
				t.Errorf("writes = %v, want the snapshot created before the node is deleted", w)
			}
			if _, err := f.kube.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("node still there: %v", err)
			}
			cm, err := f.kube.CoreV1().ConfigMaps(chaosdNS).Get(ctx, snapshotName("r1", "n1"), metav1.GetOptions{})
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			if (cm.Labels[LabelInjected] == "true") != tt.restore || cm.Labels[LabelSnapshot] != "true" {
				t.Errorf("snapshot labels = %v", cm.Labels)
			}
			var snap corev1.Node
			if err := json.Unmarshal([]byte(cm.Data[snapshotKey]), &snap); err != nil {
				t.Fatal(err)
			}
			if snap.ResourceVersion != "" || snap.UID != "" || !snap.CreationTimestamp.IsZero() || snap.ManagedFields != nil {
				t.Errorf("snapshot not cleaned: %+v", snap.ObjectMeta)
			}
			if snap.Spec.ProviderID != "kwok://n1" || snap.Labels[config.DefaultZoneLabel] != "zone-a" {
				t.Errorf("snapshot lost the node's spec or labels: %+v", snap)
			}

			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			_, err = f.kube.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
			if restored := err == nil; restored != tt.restore {
				t.Errorf("node restored = %v, want %v (%v)", restored, tt.restore, err)
			}
			_, err = f.kube.CoreV1().ConfigMaps(chaosdNS).Get(ctx, cm.Name, metav1.GetOptions{})
			if kept := err == nil; kept == tt.restore {
				t.Errorf("snapshot kept = %v after revert, want %v", kept, !tt.restore)
			}
		})
	}
}

func TestNodeDeleteFailureRemovesSnapshot(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	f.kube.PrependReactor("delete", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("nodes"), "n1", errors.New("rbac"))
	})
	inj, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", config.Action{Type: config.ActionNodeDelete, Restore: true}, time.Minute), nodeTarget("n1"))
	if err == nil || inj != nil {
		t.Fatalf("Inject = %v, %v; want error and nothing held", inj, err)
	}
	cms, _ := f.kube.CoreV1().ConfigMaps(chaosdNS).List(context.Background(), metav1.ListOptions{})
	if len(cms.Items) != 0 {
		t.Errorf("unused snapshot left: %v", cms.Items[0].Name)
	}
}

func TestNodeDeleteRevertWhenNodeReregistered(t *testing.T) {
	f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
	ctx := context.Background()
	inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeDelete, Restore: true}, time.Minute), nodeTarget("n1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.kube.CoreV1().Nodes().Create(ctx, node("n1", false), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.Revert(ctx, inj); err != nil {
		t.Fatalf("Revert: %v", err)
	}
	if !hasEvent(f.drainEvents(), ReasonReverted, "re-registered") {
		t.Error("no event noting the node came back by itself")
	}
}

func TestSnapshotName(t *testing.T) {
	tests := []struct {
		name, run, node, want string
	}{
		{name: "plain", run: "exp-20260302-1000", node: "n1", want: "chaosd-injection-exp-20260302-1000-n1"},
		{name: "odd characters", run: "Exp_1/x", node: "n1", want: "chaosd-injection-exp-1-x-n1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := snapshotName(tt.run, tt.node); got != tt.want {
				t.Errorf("snapshotName = %q, want %q", got, tt.want)
			}
		})
	}
	for name, node := range map[string]string{"overlong": strings.Repeat("n", 300), "nothing valid left": "___"} {
		t.Run(name+" names are hashed", func(t *testing.T) {
			got := snapshotName("r", node)
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("%q: %v", got, errs)
			}
		})
	}
}

// deleteLost applies the first delete of a node, then fails the call with
// err, as when the API server commits the delete and the response is lost,
// or the run is cancelled while the delete is in flight.
func deleteLost(f *fixture, err error) {
	calls := 0
	f.kube.PrependReactor("delete", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if calls++; calls > 1 {
			return false, nil, nil
		}
		if derr := f.kube.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("nodes"), "", a.(k8stesting.DeleteAction).GetName()); derr != nil {
			return true, nil, derr
		}
		return true, nil, err
	})
}

func TestNodeDeleteHoldsADeleteWhoseResponseWasLost(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		restore bool
	}{
		{name: "timeout, restore", err: apierrors.NewTimeoutError("response lost", 1), restore: true},
		{name: "connection reset, restore", err: errors.New("read tcp: connection reset by peer"), restore: true},
		{name: "run cancelled, restore", err: context.Canceled, restore: true},
		{name: "timeout, evidence only", err: apierrors.NewTimeoutError("response lost", 1), restore: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
			deleteLost(f, tt.err)
			ctx := context.Background()
			inj, _ := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeDelete, Restore: tt.restore}, time.Minute), nodeTarget("n1"))
			if inj == nil || inj.Reversible != tt.restore {
				t.Fatalf("Inject = %+v; want the applied delete held (reversible %v)", inj, tt.restore)
			}
			cmName := snapshotName("r1", "n1")
			if _, err := f.kube.CoreV1().ConfigMaps(chaosdNS).Get(ctx, cmName, metav1.GetOptions{}); err != nil {
				t.Fatalf("snapshot of the deleted node removed: %v", err)
			}
			if !tt.restore {
				return
			}
			if err := f.engine.Revert(ctx, inj); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if _, err := f.kube.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{}); err != nil {
				t.Errorf("node not re-created: %v", err)
			}
		})
	}
}

func TestNodeDeleteRevertWithoutSnapshot(t *testing.T) {
	tests := []struct {
		name     string
		nodeBack bool // the node exists when the revert runs
		wantErr  string
	}{
		{name: "node exists: already restored", nodeBack: true},
		{name: "node missing too: the node is lost", nodeBack: false, wantErr: "lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{node("n1", false)}, nil)
			ctx := context.Background()
			inj, err := f.engine.Inject(ctx, run("r1"), experiment("exp", config.Action{Type: config.ActionNodeDelete, Restore: true}, time.Minute), nodeTarget("n1"))
			if err != nil {
				t.Fatal(err)
			}
			// Someone (a racing recovery, a human) removed the snapshot.
			if err := f.kube.CoreV1().ConfigMaps(chaosdNS).Delete(ctx, snapshotName("r1", "n1"), metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if tt.nodeBack {
				if _, err := f.kube.CoreV1().Nodes().Create(ctx, node("n1", false), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			err = f.engine.Revert(ctx, inj)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Revert: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Revert = %v, want an error saying the node is %s", err, tt.wantErr)
			}
		})
	}
}
