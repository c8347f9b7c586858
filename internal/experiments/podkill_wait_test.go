package experiments

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// labelled sets a pod's labels.
func labelled(p *corev1.Pod, kv ...string) *corev1.Pod {
	p.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Labels[kv[i]] = kv[i+1]
	}
	return p
}

// replicaSetSelecting is a ReplicaSet of shop whose pods carry app=app.
func replicaSetSelecting(name, app string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID("uid-" + name)},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}
}

// podLists records the label selector of every LIST of pods.
type podLists struct {
	mu        sync.Mutex
	selectors []string
}

func (l *podLists) record(a k8stesting.Action) (bool, runtime.Object, error) {
	if la, ok := a.(k8stesting.ListAction); ok {
		l.mu.Lock()
		l.selectors = append(l.selectors, la.GetListRestrictions().Labels.String())
		l.mu.Unlock()
	}
	return false, nil, nil
}

// TestPodKillReadsOnlyTheOwnersPods: killing a pod and waiting for its
// replacement lists the pods of the killed pod's controller, by its
// selector, never every pod of the namespace, however long the wait.
func TestPodKillReadsOnlyTheOwnersPods(t *testing.T) {
	rs := replicaSetRef("web-1")
	api := replicaSetRef("api-1")
	tests := []struct {
		name  string
		polls int // the replacement turns Ready at this poll
	}{
		{name: "replacement ready at the first poll", polls: 1},
		{name: "replacement ready after several polls", polls: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{
				replicaSetSelecting("web-1", "web"),
				labelled(pod("shop", "web-a", "n1", &rs, true), "app", "web"),
				labelled(pod("shop", "web-b", "n1", &rs, true), "app", "web"),
				labelled(pod("shop", "api-x", "n1", &api, true), "app", "api"),
			}, nil)
			lists := &podLists{}
			f.kube.PrependReactor("list", "pods", lists.record)
			inj, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", config.Action{Type: config.ActionPodKill}, 0), podTarget("shop", "web-a"))
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			kill := inj.Detail.(*PodKill)
			if len(kill.Siblings) != 2 {
				t.Errorf("siblings = %v, want web-a and web-b", kill.Siblings)
			}
			polls := 0
			f.kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
				if polls++; polls == tt.polls {
					if err := f.kube.Tracker().Add(labelled(pod("shop", "web-c", "n2", &rs, true), "app", "web")); err != nil {
						t.Error(err)
					}
				}
				return false, nil, nil
			})
			stop := driveClock(f.clock, time.Second)
			defer stop()
			got, err := f.engine.WaitReplacement(context.Background(), kill, time.Second)
			if err != nil || got.Pod != "web-c" {
				t.Fatalf("WaitReplacement = %+v, %v; want web-c", got, err)
			}
			lists.mu.Lock()
			defer lists.mu.Unlock()
			if len(lists.selectors) != 1+tt.polls {
				t.Errorf("%d pod lists, want one for the siblings and one per poll (%d)", len(lists.selectors), tt.polls)
			}
			for i, sel := range lists.selectors {
				if sel != "app=web" {
					t.Errorf("pod list %d has label selector %q, want the ReplicaSet's app=web", i+1, sel)
				}
			}
		})
	}
}

// TestReplacementSelector: the apps/v1 workloads are read for their
// selector; any other controller's pods are found by the killed pod's
// labels; a pod without labels under such a controller is not looked for.
func TestReplacementSelector(t *testing.T) {
	rs := replicaSetRef("web-1")
	job := metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job", Name: "nightly", UID: "uid-nightly", Controller: ptr(true)}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		ref     metav1.OwnerReference
		want    string
		wantErr error
	}{
		{name: "a ReplicaSet's spec.selector", pod: labelled(pod("shop", "web-a", "n1", &rs, true), "app", "web", "extra", "x"), ref: rs, want: "app=web"},
		{name: "another controller: the pod's labels", pod: labelled(pod("shop", "nightly-x", "n1", &job, true), "job-name", "nightly"), ref: job, want: "job-name=nightly"},
		{name: "another controller and no labels", pod: pod("shop", "nightly-y", "n1", &job, true), ref: job, wantErr: errNoSelector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{replicaSetSelecting("web-1", "web")}, nil)
			got, err := replacementSelector(context.Background(), f.kube, tt.pod, &tt.ref)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("replacementSelector = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
