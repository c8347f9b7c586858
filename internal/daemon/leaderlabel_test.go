package daemon

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
)

// Only the leader carries the leader label, which chaosd's Service selects:
// Alertmanager's webhook pushes and `kubectl port-forward svc/chaosd` must
// never land on a standby. A label left by a crashed leader on its
// restarted pod is removed before that pod serves again.
func TestOnlyTheLeaderCarriesTheLeaderLabel(t *testing.T) {
	tests := []struct {
		name  string
		stale bool // the pod still carries the label from before a crash
	}{
		{name: "fresh pod"},
		{name: "restarted after a crash while leading", stale: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "chaosd-0", Labels: map[string]string{"app": "chaosd"}}}
			if tt.stale {
				pod.Labels[LabelLeader] = "true"
			}
			kube := fake.NewClientset(pod)
			w, err := kube.CoreV1().Pods(testNamespace).Watch(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			d, _ := testDaemon(t, inScope, kube, nil, false)
			d.o.PodName = "chaosd-0"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			d.clearLeaderLabel(ctx) // what run does before it serves or campaigns
			if leaderLabel(t, kube) {
				t.Fatal("a replica that does not lead carries the leader label")
			}
			led := make(chan struct{})
			go func() { defer close(led); d.lead(ctx) }()
			waitForLabel(t, w, true)
			cancel()
			<-led
			if leaderLabel(t, kube) {
				t.Error("the leader label outlived leadership")
			}
		})
	}
}

// Without a pod name (chaosd outside a pod) nothing is labelled.
func TestLeaderLabelNeedsAPod(t *testing.T) {
	kube := fake.NewClientset()
	d, _ := testDaemon(t, inScope, kube, nil, false)
	d.clearLeaderLabel(context.Background())
	if err := d.setLeaderLabel(context.Background(), true); err != nil {
		t.Errorf("setLeaderLabel without a pod name: %v, want nothing done", err)
	}
	if n := len(kube.Actions()); n != 0 {
		t.Errorf("%d API calls without a pod to label: %v", n, kube.Actions())
	}
}

func leaderLabel(t *testing.T, kube *fake.Clientset) bool {
	t.Helper()
	p, err := kube.CoreV1().Pods(testNamespace).Get(context.Background(), "chaosd-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Labels[LabelLeader] == "true"
}

// waitForLabel waits for a change of the pod that sets the leader label to
// want; the deadline only bounds a failure.
func waitForLabel(t *testing.T, w watch.Interface, want bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-w.ResultChan():
			if p, ok := ev.Object.(*corev1.Pod); ok && (p.Labels[LabelLeader] == "true") == want {
				return
			}
		case <-deadline:
			t.Fatalf("the pod's leader label never became %v", want)
		}
	}
}
