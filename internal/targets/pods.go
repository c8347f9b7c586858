package targets

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

// podMatch is a pod that matched the experiment's selectors. It is kept
// small (two pointers): a pick may match every one of 100k pods.
type podMatch struct {
	meta *Meta
	own  *ownership // nil for a bare pod
}

// workload returns the pod's workload; a bare pod's is itself.
func (c podMatch) workload() WorkloadRef {
	if c.own == nil {
		return WorkloadRef{Kind: KindPod, Namespace: c.meta.Namespace, Name: c.meta.Name}
	}
	return c.own.ref
}

// pickPods selects from the inventory's PodIndex, reading status only for
// the candidates it visits: a pod's readiness, its workload's replicas
// and pods, its namespace's PDBs, each read once per Pick.
//
//   - one and count:N (unless Exhaustive) draw pods lazily: the selectors
//     and the metadata rules run only on the pods drawn, and the number of
//     matching pods comes from the index's counts, so a pick costs what it
//     draws, not what the cluster holds (see drawPods, podStream);
//   - the other modes, and plans, walk every pod in scope through the
//     selectors and the metadata rules first, then choose.
func (p *Picker) pickPods(ctx context.Context, t config.Target, policy config.Policy, rng *rand.Rand) (Result, error) {
	sel, err := parseSelectors(t)
	if err != nil {
		return Result{}, fmt.Errorf("parse selectors: %w", err)
	}
	nss, err := namespaceIndex(ctx, p.src)
	if err != nil {
		return Result{}, err
	}
	idx, err := p.src.Pods(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("list pods: %w", err)
	}
	pm := &podMatcher{t: t, sel: sel, nss: nss, owners: ownerResolver{src: p.src, memo: map[WorkloadRef]*ownership{}}}
	excluded, now := p.excluded(policy), p.clock.Now()
	rule := func(c podMatch) Reason { return p.podMetaRule(c, nss[c.meta.Namespace], excluded, policy, now) }
	pick := &podPick{
		src:       p.src,
		policy:    policy,
		taken:     p.taken.pods,
		workloads: map[WorkloadRef]*workloadBudget{},
		pdbs:      map[string][]*pdbBudget{},
		matched:   map[int][]*pdbBudget{},
		nodes:     map[int]string{},
	}
	var res Result
	if p.exhaustive || !countIsMinimum(t.Mode) {
		err = p.filterPods(ctx, idx, pm, pick, rule, rng, &res)
	} else {
		err = p.drawPods(ctx, idx, pm, pick, rule, rng, &res)
	}
	return res, err
}

// filterPods walks every pod in scope through the selectors and the
// metadata rules, in namespace/name order, then chooses among the rest.
func (p *Picker) filterPods(ctx context.Context, idx *PodIndex, pm *podMatcher, pick *podPick, rule func(podMatch) Reason, rng *rand.Rand, res *Result) error {
	view := idx.view(nil)
	pick.reservedPods = reservedIn(view, p.taken.pods)
	matched, err := pm.all(ctx, view, view.spans(pm.namespaceFilter()))
	if err != nil {
		return err
	}
	res.Considered = len(matched)
	pick.cands = matched[:0] // filtered in place: matched may hold 100k pods
	for _, c := range matched {
		if why := rule(c); why != "" {
			res.Checked++
			res.reject(podTarget(c.meta), why)
			continue
		}
		pick.cands = append(pick.cands, c)
	}
	return choose(ctx, pick, pm.t.Mode, rng, p.exhaustive, res)
}

// drawPods picks one or count:N pods lazily: it counts the matching pods
// from the index's groups, then draws pods from a podStream, applies the
// metadata rules to each, and visits those that pass until it has enough.
// As in choose, the mode's roll is the first draw from rng.
func (p *Picker) drawPods(ctx context.Context, idx *PodIndex, pm *podMatcher, pick *podPick, rule func(podMatch) Reason, rng *rand.Rand, res *Result) error {
	roll := rng.Float64()
	view, considered, err := pm.count(ctx, idx)
	if err != nil {
		return err
	}
	res.Considered = considered
	want := pm.t.Mode.Count(considered, roll)
	if want == 0 {
		return nil
	}
	pick.reservedPods = reservedIn(view, p.taken.pods)
	stream := newPodStream(pm, view, view.spans(pm.namespaceFilter()), want, considered)
	for len(res.Targets) < want {
		c, ok, err := stream.next(ctx, rng)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if why := rule(c); why != "" {
			res.Checked++
			res.reject(podTarget(c.meta), why)
			continue
		}
		pick.cands = append(pick.cands, c)
		if err := visit(ctx, pick, len(pick.cands)-1, res); err != nil {
			return err
		}
	}
	return nil
}

// reservedIn returns, by namespace, the pods concurrent runs reserved that
// the inventory lists, for the PDB budgets.
func reservedIn(view podView, taken sets.Set[nsName]) map[string][]*Meta {
	var out map[string][]*Meta
	for k := range taken {
		if m := view.find(k.namespace, k.name); m != nil {
			if out == nil {
				out = map[string][]*Meta{}
			}
			out[k.namespace] = append(out[k.namespace], m)
		}
	}
	return out
}

// podMetaRule applies the rules the metadata inventory can answer.
func (p *Picker) podMetaRule(c podMatch, ns *Meta, excluded sets.Set[string], policy config.Policy, now time.Time) Reason {
	m := c.meta
	switch {
	case excluded.Has(m.Namespace):
		return ReasonNamespaceExcluded
	case optedOut(m, c.own.controllerMeta(), c.own.topMeta(), ns):
		return ReasonOptedOut
	case p.ownPod.matches(m):
		return ReasonOwnPod
	case isHeld(p.held, config.TargetPod, m.Namespace, m.Name, m.Marks):
		return ReasonHeld
	case m.Deleting:
		return ReasonTerminating
	case tooYoung(m.Created, now, policy.MinPodAge):
		return ReasonTooYoung
	}
	return ""
}

func podTarget(m *Meta) Target {
	return Target{Kind: config.TargetPod, Namespace: m.Namespace, Name: m.Name}
}

// ownership is the workload a pod belongs to, with the metadata of its
// controller and, for a Deployment's pods, of the Deployment (nil when the
// inventory does not know them). One is shared by all pods of a controller.
type ownership struct {
	ref        WorkloadRef
	controller *Meta
	top        *Meta
}

func (o *ownership) controllerMeta() *Meta {
	if o == nil {
		return nil
	}
	return o.controller
}

func (o *ownership) topMeta() *Meta {
	if o == nil {
		return nil
	}
	return o.top
}

// ownerResolver resolves controllers to workloads, once per controller.
type ownerResolver struct {
	src  PodSource
	memo map[WorkloadRef]*ownership
}

// resolve returns a pod's ownership, nil for a bare pod.
func (r ownerResolver) resolve(ctx context.Context, pod *Meta) (*ownership, error) {
	o := pod.Owner
	if o.Kind == "" {
		return nil, nil
	}
	key := WorkloadRef{Kind: o.Kind, Namespace: pod.Namespace, Name: o.Name}
	if w, ok := r.memo[key]; ok {
		return w, nil
	}
	w := &ownership{ref: key}
	switch o.Kind {
	case KindReplicaSet, KindStatefulSet, KindDaemonSet:
		ctrl, err := r.src.Workload(ctx, o.Kind, pod.Namespace, o.Name)
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", key, err)
		}
		w.controller = ctrl
		if ctrl != nil && o.Kind == KindReplicaSet && ctrl.Owner.Kind == KindDeployment {
			w.ref = WorkloadRef{Kind: KindDeployment, Namespace: pod.Namespace, Name: ctrl.Owner.Name}
			if w.top, err = r.src.Workload(ctx, KindDeployment, pod.Namespace, ctrl.Owner.Name); err != nil {
				return nil, fmt.Errorf("look up %s: %w", w.ref, err)
			}
		}
	}
	r.memo[key] = w
	return w, nil
}

// podPick holds one Pick's status reads and budgets; it implements candidates.
type podPick struct {
	src    PodSource
	policy config.Policy
	// taken are the pods concurrent runs reserved; reservedPods those of
	// them the inventory lists, by namespace.
	taken        sets.Set[nsName]
	reservedPods map[string][]*Meta
	cands        []podMatch
	workloads    map[WorkloadRef]*workloadBudget
	pdbs         map[string][]*pdbBudget // by namespace
	matched      map[int][]*pdbBudget    // by candidate, once checked
	nodes        map[int]string          // by candidate, once checked
}

var _ candidates = (*podPick)(nil)

func (pk *podPick) Len() int              { return len(pk.cands) }
func (pk *podPick) describe(i int) Target { return podTarget(pk.cands[i].meta) }

func (pk *podPick) check(ctx context.Context, i int) (Reason, error) {
	c := pk.cands[i]
	st, found, err := pk.status(ctx, c)
	if err != nil {
		return "", err
	}
	switch {
	case !found:
		return ReasonGone, nil
	case st.Terminating:
		return ReasonTerminating, nil
	case !st.Available():
		return ReasonNotReady, nil
	}
	pk.nodes[i] = st.Node
	if pk.policy.RespectsPDBs() {
		pdbs, err := pk.pdbsCovering(ctx, c.meta)
		if err != nil {
			return "", err
		}
		pk.matched[i] = pdbs
		for _, b := range pdbs {
			if b.allowed() <= 0 {
				return ReasonPDB, nil
			}
		}
	}
	if b := pk.workloads[c.workload()]; b != nil && b.allowed <= 0 {
		return ReasonWorkloadBudget, nil
	}
	return "", nil
}

func (pk *podPick) admit(i int) Reason {
	for _, b := range pk.matched[i] {
		if b.left() <= 0 {
			return ReasonPDB
		}
	}
	if b := pk.workloads[pk.cands[i].workload()]; b != nil && b.left() <= 0 {
		return ReasonWorkloadBudget
	}
	return ""
}

func (pk *podPick) take(i int) Target {
	c := pk.cands[i]
	for _, b := range pk.matched[i] {
		b.used++
	}
	t := podTarget(c.meta)
	t.Node = pk.nodes[i]
	if b := pk.workloads[c.workload()]; b != nil {
		b.used++
	}
	if c.own != nil {
		t.Owner = c.own.ref.String()
	}
	return t
}

// status reads a candidate's status: with its whole workload when a
// budget applies (the budget needs every sibling's readiness anyway), else
// with a single read.
func (pk *podPick) status(ctx context.Context, c podMatch) (PodStatus, bool, error) {
	w := c.workload()
	if !w.budgeted() {
		st, found, err := pk.src.PodStatus(ctx, c.meta.Namespace, c.meta.Name)
		if err != nil {
			return st, false, fmt.Errorf("read pod %s/%s: %w", c.meta.Namespace, c.meta.Name, err)
		}
		return st, found, nil
	}
	b, ok := pk.workloads[w]
	if !ok {
		desired, pods, err := pk.src.WorkloadPods(ctx, w)
		if err != nil {
			return PodStatus{}, false, fmt.Errorf("read %s in %s: %w", w, w.Namespace, err)
		}
		b = newWorkloadBudget(pk.policy.MaxUnavailablePerWorkload, desired, pods, func(pod string) bool {
			return pk.taken.Has(nsName{w.Namespace, pod})
		})
		pk.workloads[w] = b
	}
	st, found := b.pods[c.meta.Name]
	return st, found, nil
}

// pdbsCovering returns the budgets of the PDBs selecting a pod.
func (pk *podPick) pdbsCovering(ctx context.Context, pod *Meta) ([]*pdbBudget, error) {
	all, ok := pk.pdbs[pod.Namespace]
	if !ok {
		list, err := pk.src.PDBs(ctx, pod.Namespace)
		if err != nil {
			return nil, fmt.Errorf("list PodDisruptionBudgets in %s: %w", pod.Namespace, err)
		}
		for _, pdb := range list {
			b := &pdbBudget{pdb: pdb}
			for _, m := range pk.reservedPods[pod.Namespace] {
				if pdb.Selector != nil && pdb.Selector.Matches(m.Labels) {
					b.reserved++
				}
			}
			all = append(all, b)
		}
		pk.pdbs[pod.Namespace] = all
	}
	var out []*pdbBudget
	for _, b := range all {
		if b.pdb.Selector != nil && b.pdb.Selector.Matches(pod.Labels) {
			out = append(out, b)
		}
	}
	return out, nil
}
