package targets

import (
	"testing"

	"github.com/chaosd/chaosd/internal/config"
)

// reservedBy returns a Ledger holding ts, as a concurrent run that picked
// them and has not finished would.
func reservedBy(ts ...Target) *Ledger {
	l := NewLedger()
	l.Reserve(ts)
	return l
}

// TestPickCountsReservations: what a concurrent run reserved is held, and
// is taken from every budget it uses, even while the cluster does not show
// its fault yet; what the cluster already shows is not counted twice.
func TestPickCountsReservations(t *testing.T) {
	all := mode("all")
	nodeT := func(n string) Target { return Target{Kind: config.TargetNode, Name: n} }
	podT := func(ns, n string) Target { return Target{Kind: config.TargetPod, Namespace: ns, Name: n} }
	tests := []ruleCase{
		{
			name:       "a reserved node still schedulable leaves the floor",
			objs:       cluster(node("w-1"), node("w-2"), node("w-3")),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			policy:     config.Policy{MinReadyNodes: 2},
			opts:       Options{Reserved: reservedBy(nodeT("w-1"))},
			considered: 3,
			rejected:   map[Reason]int{ReasonHeld: 1, ReasonMinReadyNodes: 2},
		},
		{
			name:       "a reserved node already cordoned is not subtracted twice",
			objs:       cluster(node("w-1", cordoned()), node("w-2"), node("w-3"), node("w-4")),
			target:     config.Target{Kind: config.TargetNode, Mode: all},
			policy:     config.Policy{MinReadyNodes: 2},
			opts:       Options{Reserved: reservedBy(nodeT("w-1"))},
			picks:      1,
			pool:       []string{"node/w-2", "node/w-3", "node/w-4"},
			considered: 4,
			rejected:   map[Reason]int{ReasonHeld: 1, ReasonMinReadyNodes: 2},
		},
		{
			name:       "a zone whose node is reserved is held and keeps no other zone alive",
			objs:       cluster(node("a-1", inZone("a")), node("b-1", inZone("b"))),
			target:     config.Target{Kind: config.TargetZone},
			opts:       Options{Reserved: reservedBy(nodeT("a-1")), Exhaustive: true},
			considered: 2,
			rejected:   map[Reason]int{ReasonHeld: 1, ReasonLastZone: 1},
		},
		{
			name:       "a reserved zone takes its nodes from the floor",
			objs:       cluster(node("a-1", inZone("a")), node("b-1", inZone("b")), node("c-1", inZone("c"))),
			target:     config.Target{Kind: config.TargetZone},
			policy:     config.Policy{MinReadyNodes: 2},
			opts:       Options{Reserved: reservedBy(Target{Kind: config.TargetZone, Name: "a", Zone: "a", Nodes: []string{"a-1"}}), Exhaustive: true},
			considered: 3,
			rejected:   map[Reason]int{ReasonHeld: 1, ReasonMinReadyNodes: 2},
		},
		{
			name:       "a reserved pod still running counts against maxUnavailablePerWorkload",
			objs:       cluster(deployment("shop", "web", 4, nil)),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			policy:     config.Policy{MaxUnavailablePerWorkload: intOrPercent("1")},
			opts:       Options{Reserved: reservedBy(podT("shop", "web-7d9f-0"))},
			considered: 4,
			rejected:   map[Reason]int{ReasonHeld: 1, ReasonWorkloadBudget: 3},
		},
		{
			name:       "a reserved pod counts against its PDB's allowance",
			objs:       cluster(podsOf("shop", "db", "db", 3, nil), pdb("shop", "db", "db", 1)),
			target:     config.Target{Kind: config.TargetPod, Mode: all},
			opts:       Options{Reserved: reservedBy(podT("shop", "db-0"))},
			considered: 3,
			rejected:   map[Reason]int{ReasonHeld: 1, ReasonPDB: 2},
		},
		{
			name:       "a reserved VirtualService is held",
			objs:       cluster(virtualService("shop", "cart"), virtualService("shop", "pay")),
			target:     config.Target{Kind: config.TargetVirtualService, Mode: all},
			opts:       Options{Reserved: reservedBy(Target{Kind: config.TargetVirtualService, Namespace: "shop", Name: "cart"})},
			want:       []string{"virtualservice/shop/pay"},
			considered: 2,
			rejected:   map[Reason]int{ReasonHeld: 1},
		},
		{
			name:       "a reserved load-burst URL is held",
			target:     config.Target{Kind: config.TargetURL, URL: "http://shop/checkout"},
			opts:       Options{Reserved: reservedBy(Target{Kind: config.TargetURL, URL: "http://shop/checkout"})},
			considered: 1,
			rejected:   map[Reason]int{ReasonHeld: 1},
		},
	}
	runRuleCases(t, tests, 7)
}

func TestLedgerReleases(t *testing.T) {
	l := NewLedger()
	a := Target{Kind: config.TargetNode, Name: "a"}
	b := Target{Kind: config.TargetNode, Name: "b"}
	releaseA := l.Reserve([]Target{a})
	releaseB := l.Reserve([]Target{b})
	releaseA()
	releaseA() // twice is harmless
	if got := l.Reserved(); len(got) != 1 || got[0].Name != "b" {
		t.Fatalf("reserved %v after releasing a, want [b]", got)
	}
	releaseB()
	if got := l.Reserved(); len(got) != 0 {
		t.Fatalf("reserved %v after releasing both", got)
	}
	l.Reserve(nil)() // nothing picked, nothing held
}
