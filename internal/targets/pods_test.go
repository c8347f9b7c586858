package targets

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

func TestPickPodsRules(t *testing.T) {
	all := mode("all")
	tests := []ruleCase{
		{
			name:       "picks a healthy deployment pod and names its workload",
			objs:       cluster(deployment("shop", "web", 1, nil)),
			target:     config.Target{Kind: config.TargetPod},
			want:       []string{"pod/shop/web-7d9f-0"},
			considered: 1,
		},
		{
			name:       "kube-system is excluded by default",
			objs:       cluster(pod("kube-system", "dns"), pod("shop", "a")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			want:       []string{"pod/shop/a"},
			considered: 2,
			rejected:   map[Reason]int{ReasonNamespaceExcluded: 1},
		},
		{
			name:       "policy exclusions and chaosd's namespace are excluded",
			objs:       cluster(pod("chaosd", "x"), pod("payments", "p"), pod("shop", "a")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{ExcludeNamespaces: []string{"payments"}},
			opts:       Options{OwnNamespace: "chaosd"},
			want:       []string{"pod/shop/a"},
			considered: 3,
			rejected:   map[Reason]int{ReasonNamespaceExcluded: 2},
		},
		{
			name: "chaosd's own pods are never picked, even where allowed",
			objs: cluster(pod("chaosd", "chaosd-abc", withLabels("app.kubernetes.io/name", "chaosd")),
				pod("chaosd", "leader"), pod("chaosd", "victim")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{AllowNamespaces: []string{"chaosd"}},
			opts:       Options{OwnNamespace: "chaosd", OwnPodSelector: labels.SelectorFromSet(labels.Set{"app.kubernetes.io/name": "chaosd"}), OwnPodName: "leader"},
			want:       []string{"pod/chaosd/victim"},
			considered: 3,
			rejected:   map[Reason]int{ReasonOwnPod: 2},
		},
		{
			name: "opt-out on the pod, its workload or its namespace wins",
			objs: cluster(pod("shop", "out", optedOutOpt, optedInOpt), deployment("shop", "web", 2, nil, optedOutOpt),
				namespace("legacy", optedOutOpt), pod("legacy", "old"), pod("shop", "in")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			want:       []string{"pod/shop/in"},
			considered: 5,
			rejected:   map[Reason]int{ReasonOptedOut: 4},
		},
		{
			name: "optIn needs the annotation on the pod, its workload or its namespace",
			objs: cluster(pod("shop", "pod-in", optedInOpt), pod("shop", "plain"), deployment("shop", "web", 1, nil, optedInOpt),
				statefulSet("shop", "db", 1, nil), namespace("opted", optedInOpt), pod("opted", "any")),
			target:     config.Target{Kind: config.TargetPod, Mode: all, OptIn: true},
			want:       []string{"pod/opted/any", "pod/shop/pod-in", "pod/shop/web-7d9f-0"},
			considered: 3,
		},
		{
			name: "owner kinds: a Deployment's ReplicaSet counts as Deployment",
			objs: cluster(deployment("shop", "web", 2, nil), replicaSet("shop", "bare-rs", 1, nil), statefulSet("shop", "db", 1, nil),
				daemonSet("shop", "agent", 1, nil), pod("shop", "lonely"), pod("shop", "job-x", controlledBy("Job", "job"))),
			target:     config.Target{Kind: config.TargetPod, Mode: all, OwnerKinds: []string{"Deployment", "Pod"}},
			want:       []string{"pod/shop/lonely", "pod/shop/web-7d9f-0", "pod/shop/web-7d9f-1"},
			considered: 3,
		},
		{
			name: "owner kinds: ReplicaSet means a ReplicaSet of its own",
			objs: cluster(deployment("shop", "web", 2, nil), replicaSet("shop", "bare-rs", 1, nil), statefulSet("shop", "db", 1, nil),
				daemonSet("shop", "agent", 1, nil)),
			target:     config.Target{Kind: config.TargetPod, Mode: all, OwnerKinds: []string{"ReplicaSet", "StatefulSet", "DaemonSet"}},
			want:       []string{"pod/shop/agent-0", "pod/shop/bare-rs-0", "pod/shop/db-0"},
			considered: 3,
		},
		{
			// chaoskube's --kinds=!DaemonSet: every other owner stays in,
			// Jobs, ReplicationControllers and custom controllers included.
			name: "excluded owner kinds leave every other owner in",
			objs: cluster(deployment("shop", "web", 2, nil), daemonSet("shop", "agent", 1, nil), pod("shop", "lonely"),
				pod("shop", "job-x", controlledBy("Job", "job")), pod("shop", "rc-x", controlledBy("ReplicationController", "rc")),
				pod("shop", "custom-x", controlledBy("Rollout", "canary"))),
			target:     config.Target{Kind: config.TargetPod, Mode: all, ExcludeOwnerKinds: []string{"DaemonSet", "Rollout"}},
			want:       []string{"pod/shop/job-x", "pod/shop/lonely", "pod/shop/rc-x", "pod/shop/web-7d9f-0", "pod/shop/web-7d9f-1"},
			considered: 5,
		},
		{
			name: "namespaces, namespace selector and label selector combine",
			objs: cluster(namespace("a", withLabels("team", "x")), namespace("b", withLabels("team", "x")), namespace("c"),
				pod("a", "hit", withLabels("tier", "web")), pod("a", "wrong-label", withLabels("tier", "db")),
				pod("b", "wrong-ns", withLabels("tier", "web")), pod("c", "no-team", withLabels("tier", "web"))),
			target:     config.Target{Kind: config.TargetPod, Mode: all, Namespaces: []string{"a", "c"}, NamespaceSelector: "team=x", Selector: "tier=web"},
			want:       []string{"pod/a/hit"},
			considered: 1,
		},
		{
			name: "only Running and Ready pods",
			objs: cluster(pod("shop", "unready", notReady()), pod("shop", "pending", phase(corev1.PodPending)),
				pod("shop", "done", phase(corev1.PodSucceeded)), pod("shop", "ok")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			want:       []string{"pod/shop/ok"},
			considered: 4,
			rejected:   map[Reason]int{ReasonNotReady: 3},
		},
		{
			name:       "terminating pods are skipped",
			objs:       cluster(pod("shop", "going", deleting()), pod("shop", "ok")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			want:       []string{"pod/shop/ok"},
			considered: 2,
			rejected:   map[Reason]int{ReasonTerminating: 1},
		},
		{
			name:       "pods younger than minPodAge are skipped",
			objs:       cluster(pod("shop", "new", created(testNow.Add(-time.Minute))), pod("shop", "old", created(testNow.Add(-10*time.Minute)))),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{MinPodAge: 5 * time.Minute},
			want:       []string{"pod/shop/old"},
			considered: 2,
			rejected:   map[Reason]int{ReasonTooYoung: 1},
		},
		{
			name:       "held by annotation or by another experiment",
			objs:       cluster(pod("shop", "annotated", injectedOpt), pod("shop", "booked"), pod("shop", "free")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			opts:       Options{Held: heldSet{"pod/shop/booked": true}},
			want:       []string{"pod/shop/free"},
			considered: 3,
			rejected:   map[Reason]int{ReasonHeld: 2},
		},
		{
			name:       "all on 3 replicas with maxUnavailable 34% picks one",
			objs:       cluster(deployment("shop", "web", 3, nil)),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{MaxUnavailablePerWorkload: intOrPercent("34%")},
			picks:      1,
			pool:       []string{"pod/shop/web-7d9f-0", "pod/shop/web-7d9f-1", "pod/shop/web-7d9f-2"},
			considered: 3,
			rejected:   map[Reason]int{ReasonWorkloadBudget: 2},
		},
		{
			name:       "pods already unavailable use up the workload budget",
			objs:       cluster(deployment("shop", "web", 3, [][]opt{{notReady()}})),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{MaxUnavailablePerWorkload: intOrPercent("1")},
			considered: 3,
			rejected:   map[Reason]int{ReasonNotReady: 1, ReasonWorkloadBudget: 2},
		},
		{
			name:       "a missing replica counts as unavailable",
			objs:       cluster(statefulSet("shop", "db", 2, nil)[:2]), // two desired, one pod
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{MaxUnavailablePerWorkload: intOrPercent("1")},
			considered: 1,
			rejected:   map[Reason]int{ReasonWorkloadBudget: 1},
		},
		{
			name:       "DaemonSets budget against desiredNumberScheduled",
			objs:       cluster(daemonSet("shop", "agent", 4, nil)),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{MaxUnavailablePerWorkload: intOrPercent("50%")},
			picks:      2,
			pool:       []string{"pod/shop/agent-0", "pod/shop/agent-1", "pod/shop/agent-2", "pod/shop/agent-3"},
			considered: 4,
			rejected:   map[Reason]int{ReasonWorkloadBudget: 2},
		},
		{
			name:       "a PDB allowing no disruption protects its pods",
			objs:       cluster(deployment("shop", "web", 2, nil), pdb("shop", "web", "web", 0), pod("shop", "free")),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			want:       []string{"pod/shop/free"},
			considered: 3,
			rejected:   map[Reason]int{ReasonPDB: 2},
		},
		{
			name:       "picks under one PDB stay within disruptionsAllowed",
			objs:       cluster(deployment("shop", "web", 4, nil), pdb("shop", "web", "web", 1)),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			picks:      1,
			pool:       []string{"pod/shop/web-7d9f-0", "pod/shop/web-7d9f-1", "pod/shop/web-7d9f-2", "pod/shop/web-7d9f-3"},
			considered: 4,
			rejected:   map[Reason]int{ReasonPDB: 3},
		},
		{
			name:       "PDBs are ignored when the policy says so",
			objs:       cluster(deployment("shop", "web", 2, nil), pdb("shop", "web", "web", 0)),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{RespectPodDisruptionBudgets: new(bool)},
			want:       []string{"pod/shop/web-7d9f-0", "pod/shop/web-7d9f-1"},
			considered: 2,
		},
		{
			name:       "pods of other controllers have no workload budget",
			objs:       cluster(pod("batch", "job-a", controlledBy("Job", "nightly")), pod("batch", "job-b", controlledBy("Job", "nightly"))),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{MaxUnavailablePerWorkload: intOrPercent("0")},
			want:       []string{"pod/batch/job-a", "pod/batch/job-b"},
			considered: 2,
		},
	}
	runRuleCases(t, tests, 1)
}

func TestPickPodsTargetDetails(t *testing.T) {
	objs := cluster(deployment("shop", "web", 1, [][]opt{{onNode("node-7")}}), pod("shop", "bare", onNode("node-2")))
	res := pickBoth(t, objs, experiment(config.Target{Kind: config.TargetPod, Mode: mode("all")}), config.Policy{}, Options{}, 1)
	want := []Target{
		{Kind: config.TargetPod, Namespace: "shop", Name: "bare", Node: "node-2"},
		{Kind: config.TargetPod, Namespace: "shop", Name: "web-7d9f-0", Node: "node-7", Owner: "Deployment/web"},
	}
	got := slices.Clone(res.Targets)
	slices.SortFunc(got, func(a, b Target) int { return compareTargets(a, b) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets = %+v, want %+v", got, want)
	}
	if res.Eligible != 2 || res.Checked != 2 {
		t.Errorf("eligible %d checked %d, want 2 and 2", res.Eligible, res.Checked)
	}
}

// checkPicked compares sorted picks with want, or, when the choice is
// random, checks their number and that they come from pool.
func checkPicked(t *testing.T, got, want []string, picks int, pool []string) {
	t.Helper()
	if pool == nil {
		if !slices.Equal(got, want) {
			t.Errorf("picked %v, want %v", got, want)
		}
		return
	}
	if len(got) != picks {
		t.Errorf("picked %v, want %d of %v", got, picks, pool)
	}
	for _, g := range got {
		if !slices.Contains(pool, g) {
			t.Errorf("picked %s, not among %v", g, pool)
		}
	}
}

func compareTargets(a, b Target) int {
	if a.String() < b.String() {
		return -1
	}
	if a.String() > b.String() {
		return 1
	}
	return 0
}

// A pod the inventory lists but the API no longer has is "gone"; the
// fixtures keep both views consistent, so this one uses a staticSource.
func TestPickPodsGone(t *testing.T) {
	src := staticFrom(cluster(pod("shop", "ghost")))
	delete(src.statuses, "shop/ghost")
	p := NewPicker(Options{Source: src, Clock: clocktesting.NewFakePassiveClock(testNow)})
	res, err := p.Pick(context.Background(), experiment(config.Target{Kind: config.TargetPod}), config.Policy{}, newRand(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 0 || res.Rejected[ReasonGone] != 1 {
		t.Errorf("got %+v, want one rejection as gone", res)
	}
}

// Mode one checks candidates lazily: among 2,000 healthy pods of bare
// pods, a pick reads one pod's status, not all of them.
func TestPickPodsIsLazy(t *testing.T) {
	var objs []any
	for i := range 2000 {
		objs = append(objs, pod("shop", fmt.Sprintf("p-%04d", i)))
	}
	src := staticFrom(cluster(objs...))
	p := NewPicker(Options{Source: src, Clock: clocktesting.NewFakePassiveClock(testNow)})
	res, err := p.Pick(context.Background(), experiment(config.Target{Kind: config.TargetPod, Mode: mode("count:3")}), config.Policy{}, newRand(7))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 3 || res.Considered != 2000 || res.Checked != 3 {
		t.Errorf("picked %d, considered %d, checked %d; want 3, 2000, 3", len(res.Targets), res.Considered, res.Checked)
	}
	if got := src.statusReads.Load(); got != 3 {
		t.Errorf("read %d pod statuses, want 3", got)
	}

	exhaustive := NewPicker(Options{Source: src, Clock: clocktesting.NewFakePassiveClock(testNow), Exhaustive: true})
	res, err = exhaustive.Pick(context.Background(), experiment(config.Target{Kind: config.TargetPod, Mode: mode("count:3")}), config.Policy{}, newRand(7))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 3 || res.Eligible != 2000 || res.Checked != 2000 {
		t.Errorf("exhaustive: picked %d, eligible %d, checked %d; want 3, 2000, 2000", len(res.Targets), res.Eligible, res.Checked)
	}
}

// failingSource fails the live reads a pick needs.
type failingSource struct{ *staticSource }

var errAPI = errors.New("api server unavailable")

func (failingSource) WorkloadPods(context.Context, WorkloadRef) (int, []PodStatus, error) {
	return 0, nil, errAPI
}

func (failingSource) Nodes(context.Context) ([]Node, error) { return nil, errAPI }

func TestPickErrors(t *testing.T) {
	objs := cluster(deployment("shop", "web", 2, nil), node("n"))
	tests := []struct {
		name    string
		src     Source
		kind    config.TargetKind
		wantErr error // nil: any error
	}{
		{name: "no source", kind: config.TargetPod, wantErr: errNoSource},
		{name: "unknown kind", src: staticFrom(objs), kind: "cronjob"},
		{name: "live pod read fails", src: failingSource{staticFrom(objs)}, kind: config.TargetPod, wantErr: errAPI},
		{name: "node list fails", src: failingSource{staticFrom(objs)}, kind: config.TargetNode, wantErr: errAPI},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPicker(Options{Source: tc.src})
			res, err := p.Pick(context.Background(), experiment(config.Target{Kind: tc.kind}), config.Policy{}, newRand(1))
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if len(res.Targets) != 0 {
				t.Errorf("picked %v despite the error", names(res))
			}
		})
	}
}
