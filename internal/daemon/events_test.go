package daemon

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestSyncRecorderWritesBeforeReturning(t *testing.T) {
	kube := fake.NewClientset()
	r := &syncRecorder{kube: kube, clock: clocktesting.NewFakePassiveClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)), identity: "ci", log: zap.NewNop()}
	tests := []struct {
		name      string
		regarding *corev1.ObjectReference
		wantNS    string
	}{
		{name: "namespaced object", regarding: &corev1.ObjectReference{Kind: "ConfigMap", APIVersion: "v1", Namespace: "chaosd", Name: "chaosd-config"}, wantNS: "chaosd"},
		{name: "cluster-scoped object", regarding: &corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: "kwok-node-0"}, wantNS: "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.Eventf(tt.regarding, nil, "Warning", "ChaosRunWeakness", "Run", "run %s: %s", "r1", "weakness")
			list, err := kube.EventsV1().Events(tt.wantNS).List(context.Background(), metav1.ListOptions{})
			if err != nil || len(list.Items) != 1 {
				t.Fatalf("events in %s = %v (%v), want exactly one written synchronously", tt.wantNS, list, err)
			}
			ev := list.Items[0]
			if ev.Reason != "ChaosRunWeakness" || ev.Note != "run r1: weakness" || ev.Regarding.Name != tt.regarding.Name || ev.ReportingController != "chaosd" {
				t.Fatalf("event = %+v", ev)
			}
		})
	}
}

// TestSyncRecorderOneEventPerCall: repeats with the same reason, even within
// one clock tick, are separate Events each with its own note; client-go's
// recorder would merge them into a series that keeps only the first note.
func TestSyncRecorderOneEventPerCall(t *testing.T) {
	kube := fake.NewClientset()
	r := &syncRecorder{kube: kube, clock: clocktesting.NewFakePassiveClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)), identity: "ci", log: zap.NewNop()}
	cm := &corev1.ObjectReference{Kind: "ConfigMap", APIVersion: "v1", Namespace: "chaosd", Name: "chaosd-config"}
	for _, run := range []string{"r1", "r2", "r3"} {
		r.Eventf(cm, nil, "Normal", "ChaosRunPassed", "Run", "run %s: passed", run)
	}
	list, err := kube.EventsV1().Events("chaosd").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]bool{}
	for _, ev := range list.Items {
		notes[ev.Note] = true
	}
	if len(list.Items) != 3 || !notes["run r1: passed"] || !notes["run r2: passed"] || !notes["run r3: passed"] {
		t.Fatalf("events %d with notes %v, want one per run", len(list.Items), notes)
	}
}
