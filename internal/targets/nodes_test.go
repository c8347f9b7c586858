package targets

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/chaosd/chaosd/internal/config"
)

func TestPickNodesRules(t *testing.T) {
	all := mode("all")
	workers := func(names ...string) []runtime.Object {
		var out []runtime.Object
		for _, n := range names {
			out = append(out, node(n))
		}
		return out
	}
	tests := []ruleCase{
		{
			name:       "control-plane nodes are never picked by default",
			objs:       cluster(node("cp-1", controlPlaneOpt), node("cp-2", withLabels(labelLegacyMaster, "")), node("w-1")),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			want:       []string{"node/w-1"},
			considered: 3,
			rejected:   map[Reason]int{ReasonControlPlane: 2},
		},
		{
			name:       "control-plane nodes when the policy allows them",
			objs:       cluster(node("cp-1", controlPlaneOpt), node("w-1")),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			policy:     config.Policy{AllowControlPlane: true},
			want:       []string{"node/cp-1", "node/w-1"},
			considered: 2,
		},
		{
			name:       "cordoned, not ready and deleting nodes are skipped",
			objs:       cluster(node("cordoned", cordoned()), node("sick", notReady()), node("leaving", deleting()), node("w-1")),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			want:       []string{"node/w-1"},
			considered: 4,
			rejected:   map[Reason]int{ReasonUnschedulable: 1, ReasonNotReady: 1, ReasonTerminating: 1},
		},
		{
			name:       "held nodes, opted-out nodes and chaosd's node are skipped",
			objs:       cluster(node("drained", injectedOpt), node("booked"), node("precious", optedOutOpt), node("home"), node("w-1")),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			opts:       Options{Held: heldSet{"node//booked": true}, OwnNodeName: "home"},
			want:       []string{"node/w-1"},
			considered: 5,
			rejected:   map[Reason]int{ReasonHeld: 2, ReasonOptedOut: 1, ReasonOwnNode: 1},
		},
		{
			name:       "minReadyNodes counts every Ready schedulable node and this call's picks",
			objs:       cluster(workers("w-1", "w-2", "w-3", "w-4"), node("cp", controlPlaneOpt), node("off", cordoned())),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			policy:     config.Policy{MinReadyNodes: 3},
			picks:      2, // 5 ready schedulable (cp included) - 2 = 3
			pool:       []string{"node/w-1", "node/w-2", "node/w-3", "node/w-4"},
			considered: 6,
			rejected:   map[Reason]int{ReasonControlPlane: 1, ReasonUnschedulable: 1, ReasonMinReadyNodes: 2},
		},
		{
			name: "minReadyNodes counts no node that workloads cannot be scheduled on",
			objs: cluster(workers("w-1", "w-2"), node("cp", controlPlaneOpt, tainted(LabelControlPlane, corev1.TaintEffectNoSchedule)),
				node("dedicated", tainted("dedicated", corev1.TaintEffectNoExecute))),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			policy:     config.Policy{MinReadyNodes: 2},
			want:       []string{"node/dedicated"}, // taking it leaves both workers
			considered: 4,
			rejected:   map[Reason]int{ReasonControlPlane: 1, ReasonMinReadyNodes: 2},
		},
		{
			name:       "a PreferNoSchedule taint still counts towards minReadyNodes",
			objs:       cluster(workers("w-1"), node("soft", tainted("spot", corev1.TaintEffectPreferNoSchedule))),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			policy:     config.Policy{MinReadyNodes: 1},
			picks:      1,
			pool:       []string{"node/soft", "node/w-1"},
			considered: 2,
			rejected:   map[Reason]int{ReasonMinReadyNodes: 1},
		},
		{
			name:       "minReadyNodes can block every node",
			objs:       cluster(workers("w-1", "w-2")),
			target:     config.Target{Kind: config.TargetNode},
			policy:     config.Policy{MinReadyNodes: 2},
			considered: 2,
			rejected:   map[Reason]int{ReasonMinReadyNodes: 2},
		},
		{
			name: "selector, optIn and podNamespace combine",
			objs: cluster(node("a", withLabels("pool", "gp"), optedInOpt), node("b", withLabels("pool", "gp"), optedInOpt),
				node("c", withLabels("pool", "gp")), node("d", withLabels("pool", "gpu"), optedInOpt),
				pod("shop", "on-a", onNode("a")), pod("shop", "on-c", onNode("c")), pod("other", "on-b", onNode("b"))),
			target:     config.Target{Kind: config.TargetNode, Mode: all, Selector: "pool=gp", OptIn: true, PodNamespace: "shop"},
			want:       []string{"node/a"},
			considered: 1,
		},
	}
	runRuleCases(t, tests, 3)
}

func TestPickZonesRules(t *testing.T) {
	tests := []struct {
		name       string
		objs       []runtime.Object
		target     config.Target
		policy     config.Policy
		opts       Options
		want       []Target
		pool       []string // zone picked at random from these
		considered int
		rejected   map[Reason]int
	}{
		{
			name:       "a zone outage takes the zone's worker nodes",
			objs:       cluster(node("a-1", inZone("a")), node("a-2", inZone("a")), node("a-cp", inZone("a"), controlPlaneOpt), node("b-1", inZone("b"))),
			target:     config.Target{Kind: config.TargetZone, Selector: "", Label: config.DefaultZoneLabel, Mode: mode("one")},
			policy:     config.Policy{},
			pool:       []string{"zone/a", "zone/b"},
			considered: 2,
		},
		{
			name:       "never the last zone with Ready nodes",
			objs:       cluster(node("a-1", inZone("a")), node("b-1", inZone("b"), notReady()), node("c-1", inZone("c"), cordoned())),
			target:     config.Target{Kind: config.TargetZone},
			opts:       Options{Exhaustive: true}, // else a is not visited once b is picked
			want:       []Target{{Kind: config.TargetZone, Name: "b", Zone: "b", Nodes: []string{"b-1"}}},
			considered: 3,
			rejected:   map[Reason]int{ReasonLastZone: 1, ReasonNoEligibleNodes: 1},
		},
		{
			name:       "a single zone is always the last",
			objs:       cluster(node("a-1", inZone("a")), node("a-2", inZone("a")), node("unlabelled")),
			target:     config.Target{Kind: config.TargetZone},
			considered: 1,
			rejected:   map[Reason]int{ReasonLastZone: 1},
		},
		{
			name: "minReadyNodes counts the zone's Ready members",
			objs: cluster(node("a-1", inZone("a")), node("a-2", inZone("a")), node("a-3", inZone("a")),
				node("b-1", inZone("b"))),
			target:     config.Target{Kind: config.TargetZone},
			policy:     config.Policy{MinReadyNodes: 2},
			opts:       Options{Exhaustive: true},
			want:       []Target{{Kind: config.TargetZone, Name: "b", Zone: "b", Nodes: []string{"b-1"}}},
			considered: 2,
			rejected:   map[Reason]int{ReasonMinReadyNodes: 1},
		},
		{
			name: "a zone with a held node or held itself is skipped",
			objs: cluster(node("a-1", inZone("a"), injectedOpt), node("a-2", inZone("a")), node("b-1", inZone("b")),
				node("c-1", inZone("c")), node("d-1", inZone("d"))),
			target:     config.Target{Kind: config.TargetZone},
			opts:       Options{Held: heldSet{"zone//b": true, "node//c-1": true}},
			want:       []Target{{Kind: config.TargetZone, Name: "d", Zone: "d", Nodes: []string{"d-1"}}},
			considered: 4,
			rejected:   map[Reason]int{ReasonHeld: 3},
		},
		{
			name: "selectors limit the nodes; opted-out and cordoned nodes stay up",
			objs: cluster(node("a-1", inZone("a"), withLabels("pool", "gp")), node("a-2", inZone("a"), withLabels("pool", "gpu")),
				node("a-3", inZone("a"), withLabels("pool", "gp"), optedOutOpt), node("a-4", inZone("a"), withLabels("pool", "gp"), cordoned()),
				node("a-5", inZone("a"), withLabels("pool", "gp")), node("b-1", inZone("b"), withLabels("pool", "gpu")),
				pod("shop", "x", onNode("a-1")), pod("shop", "y", onNode("a-3")), pod("shop", "z", onNode("a-4")), pod("shop", "w", onNode("b-1"))),
			target:     config.Target{Kind: config.TargetZone, Selector: "pool=gp", PodNamespace: "shop"},
			want:       []Target{{Kind: config.TargetZone, Name: "a", Zone: "a", Nodes: []string{"a-1"}}},
			considered: 1,
		},
		{
			name:       "a zone of tainted control-plane nodes keeps no workload alive",
			objs:       cluster(node("a-1", inZone("a")), node("c-cp", inZone("c"), controlPlaneOpt, tainted(LabelControlPlane, corev1.TaintEffectNoSchedule))),
			target:     config.Target{Kind: config.TargetZone},
			opts:       Options{Exhaustive: true},
			considered: 2,
			rejected:   map[Reason]int{ReasonLastZone: 1, ReasonNoEligibleNodes: 1},
		},
		{
			name: "minReadyNodes does not count a zone's tainted nodes",
			objs: cluster(node("a-1", inZone("a")), node("a-2", inZone("a"), tainted("dedicated", corev1.TaintEffectNoSchedule)),
				node("b-1", inZone("b")), node("b-2", inZone("b"), tainted("dedicated", corev1.TaintEffectNoSchedule))),
			target:     config.Target{Kind: config.TargetZone},
			policy:     config.Policy{MinReadyNodes: 2},
			opts:       Options{Exhaustive: true},
			considered: 2,
			rejected:   map[Reason]int{ReasonMinReadyNodes: 2},
		},
		{
			name:       "a custom zone label",
			objs:       cluster(node("r1", withLabels("rack", "1")), node("r2", withLabels("rack", "2"), notReady())),
			target:     config.Target{Kind: config.TargetZone, Label: "rack"},
			opts:       Options{Exhaustive: true},
			want:       []Target{{Kind: config.TargetZone, Name: "2", Zone: "2", Nodes: []string{"r2"}}},
			considered: 2,
			rejected:   map[Reason]int{ReasonLastZone: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := pickBoth(t, tc.objs, experiment(tc.target), tc.policy, tc.opts, 5)
			if tc.pool != nil {
				checkPicked(t, names(res), nil, 1, tc.pool)
			} else if !reflect.DeepEqual(res.Targets, tc.want) {
				t.Errorf("picked %+v, want %+v", res.Targets, tc.want)
			}
			checkCounts(t, res, tc.considered, tc.rejected)
		})
	}
}

func TestPickVirtualServicesRules(t *testing.T) {
	all := mode("all")
	tests := []struct {
		name       string
		objs       []runtime.Object
		target     config.Target
		policy     config.Policy
		opts       Options
		want       []string
		considered int
		rejected   map[Reason]int
	}{
		{
			name: "exclusions, opt-out, held and deleting",
			objs: cluster(virtualService("kube-system", "sys"), virtualService("shop", "out", optedOutOpt),
				namespace("quiet", optedOutOpt), virtualService("quiet", "vs"),
				virtualService("shop", "faulted", injectedOpt), virtualService("shop", "booked"),
				virtualService("shop", "gone", deleting()), virtualService("shop", "cart")),
			target:     config.Target{Kind: config.TargetVirtualService, Mode: all},
			opts:       Options{Held: heldSet{"virtualservice/shop/booked": true}},
			want:       []string{"virtualservice/shop/cart"},
			considered: 7,
			rejected:   map[Reason]int{ReasonNamespaceExcluded: 1, ReasonOptedOut: 2, ReasonHeld: 2, ReasonTerminating: 1},
		},
		{
			name: "namespaces, selectors and optIn combine",
			objs: cluster(namespace("a", withLabels("mesh", "on")), namespace("b", withLabels("mesh", "on"), optedInOpt), namespace("c"),
				virtualService("a", "in", withLabels("tier", "edge"), optedInOpt), virtualService("a", "plain", withLabels("tier", "edge")),
				virtualService("b", "via-ns", withLabels("tier", "edge")), virtualService("b", "other-tier", withLabels("tier", "core")),
				virtualService("c", "no-mesh", withLabels("tier", "edge"), optedInOpt)),
			target:     config.Target{Kind: config.TargetVirtualService, Mode: all, Namespaces: []string{"a", "b", "c"}, NamespaceSelector: "mesh=on", Selector: "tier=edge", OptIn: true},
			want:       []string{"virtualservice/a/in", "virtualservice/b/via-ns"},
			considered: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := pickBoth(t, tc.objs, experiment(tc.target), tc.policy, tc.opts, 9)
			got := names(res)
			slices.Sort(got)
			checkPicked(t, got, tc.want, 0, nil)
			checkCounts(t, res, tc.considered, tc.rejected)
		})
	}
}

func TestPickURL(t *testing.T) {
	const url = "https://shop.example.com/health"
	tests := []struct {
		name     string
		held     Held
		want     []string
		rejected map[Reason]int
	}{
		{name: "the one endpoint", want: []string{url}},
		{name: "not while another burst holds it", held: heldSet{"url//" + url: true}, rejected: map[Reason]int{ReasonHeld: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp := experiment(config.Target{Kind: config.TargetURL, URL: url})
			res := pickBoth(t, nil, exp, config.Policy{}, Options{Held: tc.held}, 1)
			checkPicked(t, names(res), tc.want, 0, nil)
			if res.Considered != 1 || (tc.rejected != nil && !reflect.DeepEqual(res.Rejected, tc.rejected)) {
				t.Errorf("got %+v", res)
			}
		})
	}
}
