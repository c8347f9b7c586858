package targets

import (
	"sync"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

// Ledger remembers the targets that live runs picked, from the moment of the
// pick until the run releases them. Concurrent runs share one Ledger: the
// Picker counts reserved targets against the blast radius (held targets,
// minReadyNodes, the last zone, maxUnavailablePerWorkload, PDB allowances,
// load-burst URLs) even before their fault shows in the cluster, because an
// injection in flight, an informer and a PDB's status all lag the pick.
//
// It holds no lock across a pick: the caller serialises pick-and-reserve
// (the runner does), so that no two picks read the same budget.
type Ledger struct {
	mu   sync.Mutex
	next uint64
	held map[uint64][]Target
}

// NewLedger returns an empty Ledger.
func NewLedger() *Ledger { return &Ledger{held: map[uint64][]Target{}} }

var _ Reservations = (*Ledger)(nil)

// Reserve holds ts until release is called; release may be called more
// than once.
func (l *Ledger) Reserve(ts []Target) (release func()) {
	if len(ts) == 0 {
		return func() {}
	}
	l.mu.Lock()
	id := l.next
	l.next++
	l.held[id] = append([]Target(nil), ts...)
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, id)
			l.mu.Unlock()
		})
	}
}

// Reserved lists every target held now.
func (l *Ledger) Reserved() []Target {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Target
	for _, ts := range l.held {
		out = append(out, ts...)
	}
	return out
}

// Reservations lists the targets live runs picked and still hold.
type Reservations interface {
	Reserved() []Target
}

// reserved is one Pick's snapshot of the Reservations, indexed.
type reserved struct {
	pods  sets.Set[nsName]
	nodes sets.Set[string] // node targets' names and zone targets' nodes
	zones sets.Set[string]
	urls  sets.Set[string]
	vss   sets.Set[nsName]
}

// nsName names a namespaced object.
type nsName struct{ namespace, name string }

func snapshotReservations(r Reservations) reserved {
	out := reserved{pods: sets.New[nsName](), nodes: sets.New[string](), zones: sets.New[string](),
		urls: sets.New[string](), vss: sets.New[nsName]()}
	if r == nil {
		return out
	}
	for _, t := range r.Reserved() {
		switch t.Kind {
		case config.TargetPod:
			out.pods.Insert(nsName{t.Namespace, t.Name})
		case config.TargetNode:
			out.nodes.Insert(t.Name)
		case config.TargetZone:
			out.zones.Insert(t.Zone)
			out.nodes.Insert(t.Nodes...)
		case config.TargetURL:
			out.urls.Insert(t.URL)
		case config.TargetVirtualService:
			out.vss.Insert(nsName{t.Namespace, t.Name})
		}
	}
	return out
}

// IsHeld implements Held: a reserved target is held by the run that
// reserved it.
func (r reserved) IsHeld(kind config.TargetKind, namespace, name string) bool {
	switch kind {
	case config.TargetPod:
		return r.pods.Has(nsName{namespace, name})
	case config.TargetNode:
		return r.nodes.Has(name)
	case config.TargetZone:
		return r.zones.Has(name)
	case config.TargetURL:
		return r.urls.Has(name)
	case config.TargetVirtualService:
		return r.vss.Has(nsName{namespace, name})
	}
	return false
}

// anyHeld is a Held that holds what any of its members holds.
type anyHeld []Held

func (a anyHeld) IsHeld(kind config.TargetKind, namespace, name string) bool {
	for _, h := range a {
		if h != nil && h.IsHeld(kind, namespace, name) {
			return true
		}
	}
	return false
}
