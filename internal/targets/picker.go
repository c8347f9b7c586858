package targets

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
)

// Options configures a Picker.
type Options struct {
	// Source is the cluster inventory: a *ClusterSource in the daemon.
	Source Source
	// OwnNamespace is chaosd's namespace: excluded unless a policy allows
	// it, and where chaosd's own pods live.
	OwnNamespace string
	// OwnPodSelector and OwnPodName identify chaosd's own pods in
	// OwnNamespace; they are never picked, whatever the policy allows.
	OwnPodSelector labels.Selector
	OwnPodName     string
	// OwnNodeName is the node chaosd runs on: never a node target, so a
	// node fault cannot take down the process that must revert it.
	OwnNodeName string
	// Held reports targets another experiment holds; may be nil.
	Held Held
	// Reserved lists the targets of concurrent runs picked but perhaps not
	// yet visible in the cluster (a Ledger); may be nil.
	Reserved Reservations
	// Clock is read for minPodAge; nil means the real clock.
	Clock clock.PassiveClock
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
	// Exhaustive checks every candidate even when the mode needs only a
	// few, so Result.Eligible is exact (for plans); it costs a status read
	// per candidate workload.
	Exhaustive bool
}

// Picker decides which targets an experiment hits right now. Each Pick:
//
//   - finds the candidates of the target kind that match the experiment's
//     selectors (namespaces, namespace selector, label selector, owner
//     kinds, optIn, podNamespace), from the Source's inventory; for pods in
//     modes one and count:N it only counts them and draws them lazily (see
//     pickPods), so a pick costs what it draws, not what the cluster holds;
//   - rejects, recording why, those the policy forbids on their own:
//     excluded namespace, opted out, chaosd's own, held by another fault,
//     terminating, too young, control plane, unschedulable;
//   - visits the rest in uniformly random order, reading status only for
//     those it visits (ready, PDB and workload budgets), and takes each
//     eligible one unless this call's earlier picks used up a shared budget
//     (maxUnavailablePerWorkload, PDB disruptions, minReadyNodes, the last
//     zone), until the mode's count is reached;
//   - counts the targets concurrent runs reserved (Options.Reserved) as
//     held and as already taken from those budgets, since their faults may
//     not show in the cluster yet.
//
// A Picker never changes the cluster and holds no state between picks.
type Picker struct {
	src          Source
	ownNS        string
	ownPod       OwnPod
	ownNode      string
	held         Held
	reservations Reservations
	clock        clock.PassiveClock
	log          *zap.Logger
	exhaustive   bool

	// taken is one Pick's snapshot of the reservations (see Pick).
	taken reserved
}

// NewPicker returns a Picker reading from o.Source.
func NewPicker(o Options) *Picker {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return &Picker{
		src:          o.Source,
		ownNS:        o.OwnNamespace,
		ownPod:       OwnPod{Namespace: o.OwnNamespace, Selector: o.OwnPodSelector, Name: o.OwnPodName},
		ownNode:      o.OwnNodeName,
		held:         o.Held,
		reservations: o.Reserved,
		clock:        o.Clock,
		log:          o.Logger,
		exhaustive:   o.Exhaustive,
	}
}

// errNoSource is returned by a Picker built without a Source.
var errNoSource = errors.New("picker has no source")

// Pick chooses the targets of one run of exp under policy, drawing every
// random number from rng (the caller logs its seed).
func (p *Picker) Pick(ctx context.Context, exp config.Experiment, policy config.Policy, rng *rand.Rand) (Result, error) {
	if p.src == nil && exp.Target.Kind != config.TargetURL {
		return Result{}, errNoSource
	}
	p = p.withReservations()
	var (
		res Result
		err error
	)
	switch k := exp.Target.Kind; k {
	case config.TargetPod:
		res, err = p.pickPods(ctx, exp.Target, policy, rng)
	case config.TargetVirtualService:
		res, err = p.pickVirtualServices(ctx, exp.Target, policy, rng)
	case config.TargetNode:
		res, err = p.pickNodes(ctx, exp.Target, policy, rng)
	case config.TargetZone:
		res, err = p.pickZones(ctx, exp.Target, policy, rng)
	case config.TargetURL:
		res = p.pickURL(exp.Target)
	default:
		err = fmt.Errorf("unknown target kind %q", k)
	}
	if err != nil {
		return Result{}, fmt.Errorf("pick %s targets for %s: %w", exp.Target.Kind, exp.Name, err)
	}
	p.log.Debug("picked targets",
		zap.String("experiment", exp.Name),
		zap.Int("considered", res.Considered),
		zap.Int("eligible", res.Eligible),
		zap.Int("picked", len(res.Targets)))
	return res, nil
}

// withReservations returns a copy of p for one Pick that sees the targets
// reserved right now as held, and keeps them for the budgets.
func (p *Picker) withReservations() *Picker {
	pp := *p
	pp.taken = snapshotReservations(p.reservations)
	pp.held = anyHeld{p.held, pp.taken}
	return &pp
}

// pickURL returns the experiment's one endpoint unless a load burst already
// holds it.
func (p *Picker) pickURL(t config.Target) Result {
	res := Result{Considered: 1, Checked: 1}
	target := Target{Kind: config.TargetURL, URL: t.URL}
	if isHeld(p.held, config.TargetURL, "", t.URL, Marks{}) {
		res.reject(target, ReasonHeld)
		return res
	}
	res.Eligible = 1
	res.Targets = []Target{target}
	return res
}

// excluded returns the namespaces policy keeps chaosd away from.
func (p *Picker) excluded(policy config.Policy) sets.Set[string] {
	return ExcludedNamespaces(policy, p.ownNS)
}

// namespaceIndex indexes the inventory's namespaces by name.
func namespaceIndex(ctx context.Context, src NamespaceSource) (map[string]*Meta, error) {
	list, err := src.Namespaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	out := make(map[string]*Meta, len(list))
	for _, ns := range list {
		out[ns.Name] = ns
	}
	return out, nil
}
