package experiments

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

func podTarget(ns, name string) targets.Target {
	return targets.Target{Kind: config.TargetPod, Namespace: ns, Name: name, Owner: "Deployment/web"}
}

func TestPodKill(t *testing.T) {
	rs := replicaSetRef("web-1")
	tests := []struct {
		name      string
		action    config.Action
		blocked   bool
		wantVerb  string
		wantGrace *int64
		wantErr   error
	}{
		{name: "delete with the pod's own grace period", action: config.Action{Type: config.ActionPodKill, Method: config.PodKillDelete}, wantVerb: "delete pods/"},
		{name: "delete with a grace period", action: config.Action{Type: config.ActionPodKill, Method: config.PodKillDelete, GracePeriod: ptr(5 * time.Second)}, wantVerb: "delete pods/", wantGrace: ptr(int64(5))},
		{name: "delete immediately", action: config.Action{Type: config.ActionPodKill, Method: config.PodKillDelete, GracePeriod: ptr(time.Duration(0))}, wantVerb: "delete pods/", wantGrace: ptr(int64(0))},
		{name: "evict", action: config.Action{Type: config.ActionPodKill, Method: config.PodKillEvict}, wantVerb: "create pods/eviction"},
		{name: "evict refused by a PDB", action: config.Action{Type: config.ActionPodKill, Method: config.PodKillEvict}, blocked: true, wantVerb: "create pods/eviction", wantErr: ErrBlockedByPDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, []runtime.Object{replicaSetSelecting("web-1", "web"),
				labelled(pod("shop", "web-a", "n1", &rs, true), "app", "web"), labelled(pod("shop", "web-b", "n1", &rs, true), "app", "web")}, nil)
			var blocked []string
			if tt.blocked {
				blocked = []string{"web-a"}
			}
			evictions(f, blocked...)
			inj, err := f.engine.Inject(context.Background(), run("r1"), experiment("exp", tt.action, 0), podTarget("shop", "web-a"))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Inject error = %v, want %v", err, tt.wantErr)
			}
			var opts *metav1.DeleteOptions
			var verbs []string
			for _, a := range f.kube.Actions() {
				switch a := a.(type) {
				case k8stesting.DeleteAction:
					opts = ptr(a.GetDeleteOptions())
				case k8stesting.CreateAction:
					if ev, ok := a.GetObject().(*policyv1.Eviction); ok {
						opts = ev.DeleteOptions
					}
				}
			}
			verbs = writeVerbs(f.kube.Actions())
			if len(verbs) != 1 || verbs[0] != tt.wantVerb {
				t.Fatalf("writes = %v, want [%s]", verbs, tt.wantVerb)
			}
			if opts == nil || opts.Preconditions == nil || *opts.Preconditions.UID != "uid-web-a" {
				t.Errorf("kill not pinned to the picked pod's UID: %+v", opts)
			}
			if got := opts.GracePeriodSeconds; (got == nil) != (tt.wantGrace == nil) || (got != nil && *got != *tt.wantGrace) {
				t.Errorf("grace period = %v, want %v", got, tt.wantGrace)
			}
			if tt.wantErr != nil {
				if inj != nil {
					t.Error("a refused eviction returned an injection")
				}
				return
			}
			kill := inj.Detail.(*PodKill)
			if kill.Owner != "ReplicaSet/web-1" || kill.OwnerUID != "uid-web-1" || !kill.KilledAt.Equal(t0) || len(kill.Siblings) != 2 {
				t.Errorf("kill record = %+v", kill)
			}
			if inj.Reversible || len(f.engine.Active()) != 0 {
				t.Error("pod-kill has nothing to revert and must not be held")
			}
		})
	}
}

func TestWaitReplacement(t *testing.T) {
	rs := replicaSetRef("web-1")
	other := replicaSetRef("api-1")
	kill := &PodKill{Namespace: "shop", Pod: "web-a", UID: "uid-web-a", Owner: "ReplicaSet/web-1", OwnerUID: "uid-web-1",
		KilledAt: t0, Selector: "app=web", Siblings: []types.UID{"uid-web-a", "uid-web-b"}}
	web := func(p *corev1.Pod) *corev1.Pod { return labelled(p, "app", "web") }
	readyAt := func(p *corev1.Pod, at time.Time) *corev1.Pod {
		p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(at)
		return p
	}
	tests := []struct {
		name     string
		existing []runtime.Object
		now      time.Duration // clock offset from the kill when waiting starts
		later    *corev1.Pod   // created after the first poll
		want     Replacement
		wantErr  error
	}{
		{
			name:     "new ready pod of the same owner",
			existing: []runtime.Object{web(pod("shop", "web-b", "n1", &rs, true)), web(readyAt(pod("shop", "web-c", "n2", &rs, true), t0.Add(7*time.Second)))},
			now:      10 * time.Second,
			want:     Replacement{Pod: "web-c", ReadyAt: t0.Add(7 * time.Second), After: 7 * time.Second},
		},
		{
			name:     "siblings, other owners and unready pods are not replacements; no transition time means seen now",
			existing: []runtime.Object{web(pod("shop", "web-b", "n1", &rs, true)), web(pod("shop", "api-x", "n1", &other, true)), web(pod("shop", "web-c", "n1", &rs, false))},
			later:    web(pod("shop", "web-d", "n2", &rs, true)),
			want:     Replacement{Pod: "web-d", ReadyAt: t0.Add(time.Second), After: time.Second}, // second poll
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.existing, nil)
			f.clock.Step(tt.now)
			if tt.later != nil {
				polls := 0
				f.kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
					if polls++; polls == 2 {
						if err := f.kube.Tracker().Add(tt.later); err != nil {
							t.Error(err)
						}
					}
					return false, nil, nil
				})
			}
			stop := driveClock(f.clock, time.Second)
			defer stop()
			got, err := f.engine.WaitReplacement(context.Background(), kill, time.Second)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("WaitReplacement = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	t.Run("bare pod has no replacement", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		if _, err := f.engine.WaitReplacement(context.Background(), &PodKill{Namespace: "shop", Pod: "bare"}, time.Second); !errors.Is(err, ErrNoOwner) {
			t.Errorf("err = %v, want ErrNoOwner", err)
		}
	})
	t.Run("a controller whose pods no selector finds is not looked for", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		unlabelled := *kill
		unlabelled.Selector = ""
		if _, err := f.engine.WaitReplacement(context.Background(), &unlabelled, time.Second); !errors.Is(err, errNoSelector) {
			t.Errorf("err = %v, want errNoSelector", err)
		}
		if n := len(f.kube.Actions()); n != 0 {
			t.Errorf("%d API calls, want none", n)
		}
	})
	t.Run("gives up when the context ends", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := f.engine.WaitReplacement(ctx, kill, time.Second); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
