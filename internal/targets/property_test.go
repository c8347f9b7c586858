package targets

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// TestPickProperties picks from thousands of random clusters and checks
// every pick against an oracle that reads the typed objects directly: no
// pick breaks a rule, the count is exactly what the mode asks for unless
// the budgets make every further pick impossible, and the reported numbers
// add up. The first worlds also run through the fake-backed ClusterSource,
// which must agree with the plain-slice source.
func TestPickProperties(t *testing.T) {
	worlds, crossChecked := 3000, 40
	if testing.Short() {
		worlds, crossChecked = 300, 5
	}
	for seed := range uint64(worlds) {
		r := newRand(seed)
		w := genWorld(r)
		target, policy, held := genTarget(r), genPolicy(r), genHeld(r, w)
		opts := Options{
			OwnNamespace:   ownNS,
			OwnPodSelector: labels.SelectorFromSet(labels.Set{"app": "chaosd"}),
			Held:           held,
			Exhaustive:     chance(r, 0.3),
		}
		if chance(r, 0.3) {
			opts.OwnNodeName = "n-0"
		}
		exp := experiment(target)
		name := fmt.Sprintf("seed %d: %s %s", seed, target.Kind, target.Mode)

		var res Result
		if seed < uint64(crossChecked) {
			t.Run(name, func(t *testing.T) { res = pickBoth(t, w.objs, exp, policy, opts, seed) })
		} else {
			opts.Source = staticFrom(w.objs)
			opts.Clock = clocktesting.NewFakePassiveClock(testNow)
			var err error
			if res, err = NewPicker(opts).Pick(context.Background(), exp, policy, newRand(seed)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		o := &oracle{w: w, t: target, policy: policy, opts: opts, roll: newRand(seed).Float64()}
		for _, problem := range o.check(res) {
			t.Errorf("%s: %s\n  target %+v\n  policy %+v\n  result %+v", name, problem, target, policy, res)
		}
	}
}

// oracle restates every rule over typed objects.
type oracle struct {
	w      *world
	t      config.Target
	policy config.Policy
	opts   Options
	roll   float64
}

// candidate is one thing the experiment could hit, as the oracle sees it.
type candidate struct {
	target   Target
	eligible bool
	// budgets lists the shared budgets a pick of it spends: key -> allowed.
	budgets map[string]int
}

func (o *oracle) check(res Result) []string {
	cands, fits := o.candidates()
	var problems []string
	fail := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }

	byName := map[string]candidate{}
	eligible := 0
	for _, c := range cands {
		byName[c.target.String()] = c
		if c.eligible {
			eligible++
		}
	}
	want := o.t.Mode.Count(eligible, o.roll)
	if res.Considered != len(cands) {
		fail("considered %d, oracle %d", res.Considered, len(cands))
	}
	exhaustive := o.opts.Exhaustive || !countIsMinimum(o.t.Mode)
	if exhaustive && res.Checked != res.Considered {
		fail("checked %d of %d candidates in an exhaustive pick", res.Checked, res.Considered)
	}
	if res.Checked == res.Considered && res.Eligible != eligible {
		fail("eligible %d, oracle %d", res.Eligible, eligible)
	}
	if n := min(MaxRejectionSamples, res.RejectedTotal()); len(res.Samples) != n {
		fail("%d samples of %d rejections", len(res.Samples), res.RejectedTotal())
	}

	var picked []candidate
	seen := map[string]bool{}
	for _, tg := range res.Targets {
		c, ok := byName[tg.String()]
		switch {
		case !ok:
			fail("picked %s, which does not match the selectors", tg)
		case !c.eligible:
			fail("picked %s, which breaks a rule", tg)
		case seen[tg.String()]:
			fail("picked %s twice", tg)
		case !equalTargets(tg, c.target):
			fail("picked %+v, oracle describes it as %+v", tg, c.target)
		}
		seen[tg.String()] = true
		picked = append(picked, c)
	}
	if !fits(picked) {
		fail("picks %v together break a budget", names(res))
	}
	if len(picked) > want {
		fail("picked %d, mode %s of %d eligible wants %d", len(picked), o.t.Mode, eligible, want)
	}
	if len(picked) < want {
		for _, c := range cands {
			if c.eligible && !seen[c.target.String()] && fits(append(slices.Clone(picked), c)) {
				fail("picked %d of %d wanted, yet %s still fits", len(picked), want, c.target)
				break
			}
		}
	}
	return problems
}

func equalTargets(a, b Target) bool {
	return a.Kind == b.Kind && a.Namespace == b.Namespace && a.Name == b.Name && a.Owner == b.Owner &&
		a.Node == b.Node && a.Zone == b.Zone && slices.Equal(a.Nodes, b.Nodes)
}

// candidates lists what matches the selectors, and fits reports whether a
// set of picks stays within every shared budget.
func (o *oracle) candidates() ([]candidate, func([]candidate) bool) {
	switch o.t.Kind {
	case config.TargetPod:
		return o.pods(), fitsBudgets
	case config.TargetNode:
		return o.nodeCandidates()
	case config.TargetZone:
		return o.zones()
	case config.TargetVirtualService:
		return o.virtualServices(), fitsBudgets
	}
	panic("unknown kind")
}

// fitsBudgets checks that no budget is spent beyond what it allows.
func fitsBudgets(picks []candidate) bool {
	spent, allowed := map[string]int{}, map[string]int{}
	for _, c := range picks {
		for k, a := range c.budgets {
			spent[k]++
			allowed[k] = a
		}
	}
	for k, n := range spent {
		if n > allowed[k] {
			return false
		}
	}
	return true
}

func annotatedTrue(obj metav1.Object, key string) bool {
	return obj != nil && obj.GetAnnotations()[key] == "true"
}

func anyAnnotated(key string, objs ...metav1.Object) bool {
	for _, o := range objs {
		if o != nil && annotatedTrue(o, key) {
			return true
		}
	}
	return false
}

func (o *oracle) held(kind config.TargetKind, ns, name string, obj metav1.Object) bool {
	if obj != nil {
		if _, ok := obj.GetAnnotations()[AnnotationInjection]; ok {
			return true
		}
	}
	return o.opts.Held.IsHeld(kind, ns, name)
}

func (o *oracle) excluded(ns string) bool {
	return ExcludedNamespaces(o.policy, o.opts.OwnNamespace).Has(ns)
}

// namespaceSelected applies the namespace list and namespace selector.
func (o *oracle) namespaceSelected(ns string) bool {
	if len(o.t.Namespaces) > 0 && !slices.Contains(o.t.Namespaces, ns) {
		return false
	}
	if o.t.NamespaceSelector != "" {
		sel, _ := labels.Parse(o.t.NamespaceSelector)
		return sel.Matches(labels.Set(o.w.namespaces[ns].Labels))
	}
	return true
}

func podUp(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podWorkload returns a pod's workload kind and name, and the objects whose
// annotations speak for it.
func (o *oracle) podWorkload(p *corev1.Pod) (kind, name string, owners []metav1.Object) {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return KindPod, p.Name, nil
	}
	ctrl := o.w.workloads[wkey(ref.Kind, p.Namespace, ref.Name)]
	if ctrl == nil {
		return ref.Kind, ref.Name, nil
	}
	if up := metav1.GetControllerOf(ctrl); ref.Kind == KindReplicaSet && up != nil && up.Kind == KindDeployment {
		return KindDeployment, up.Name, []metav1.Object{ctrl, o.w.workloads[wkey(KindDeployment, p.Namespace, up.Name)]}
	}
	return ref.Kind, ref.Name, []metav1.Object{ctrl}
}

func (o *oracle) pods() []candidate {
	sel, _ := labels.Parse(o.t.Selector)
	// Each budgeted workload's allowance, counted from its pods.
	available := map[string]int{}
	for _, p := range o.w.pods {
		if kind, name, _ := o.podWorkload(p); podUp(p) {
			available[wkey(kind, p.Namespace, name)]++
		}
	}
	var out []candidate
	for _, p := range o.w.pods {
		ns := o.w.namespaces[p.Namespace]
		kind, name, owners := o.podWorkload(p)
		all := append([]metav1.Object{p, ns}, owners...)
		if !o.namespaceSelected(p.Namespace) || !sel.Matches(labels.Set(p.Labels)) ||
			(len(o.t.OwnerKinds) > 0 && !slices.Contains(o.t.OwnerKinds, kind)) || slices.Contains(o.t.ExcludeOwnerKinds, kind) ||
			(o.t.OptIn && !anyAnnotated(AnnotationEnabled, all...)) {
			continue
		}
		c := candidate{
			target:  Target{Kind: config.TargetPod, Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName},
			budgets: map[string]int{},
		}
		if kind != KindPod {
			c.target.Owner = kind + "/" + name
		}
		c.eligible = !o.excluded(p.Namespace) &&
			!anyAnnotated(AnnotationExclude, all...) &&
			!(p.Namespace == ownNS && p.Labels["app"] == "chaosd") &&
			!o.held(config.TargetPod, p.Namespace, p.Name, p) &&
			!(o.policy.MinPodAge > 0 && testNow.Sub(p.CreationTimestamp.Time) < o.policy.MinPodAge) &&
			podUp(p)
		if key := wkey(kind, p.Namespace, name); (WorkloadRef{Kind: kind}).budgeted() {
			desired := o.w.desired[key]
			c.budgets[key] = o.policy.MaxUnavailablePerWorkload.Of(desired) - max(0, desired-available[key])
		}
		if o.policy.RespectsPDBs() {
			for _, b := range o.w.pdbs {
				bs, _ := metav1.LabelSelectorAsSelector(b.Spec.Selector)
				if b.Namespace == p.Namespace && bs.Matches(labels.Set(p.Labels)) {
					c.budgets["pdb/"+b.Namespace+"/"+b.Name] = int(b.Status.DisruptionsAllowed)
				}
			}
		}
		for _, allowed := range c.budgets {
			c.eligible = c.eligible && allowed > 0
		}
		out = append(out, c)
	}
	return out
}

func nodeUp(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue && !n.Spec.Unschedulable
		}
	}
	return false
}

func isCP(n *corev1.Node) bool {
	_, a := n.Labels[LabelControlPlane]
	_, b := n.Labels[labelLegacyMaster]
	return a || b
}

// nodesSelected applies the node selector and podNamespace.
func (o *oracle) nodesSelected() []*corev1.Node {
	sel, _ := labels.Parse(o.t.Selector)
	running := sets.New[string]()
	for _, p := range o.w.pods {
		if p.Namespace == o.t.PodNamespace && p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			running.Insert(p.Spec.NodeName)
		}
	}
	var out []*corev1.Node
	for _, n := range o.w.nodes {
		if sel.Matches(labels.Set(n.Labels)) && (o.t.PodNamespace == "" || running.Has(n.Name)) {
			out = append(out, n)
		}
	}
	return out
}

func (o *oracle) readyNodes() int {
	count := 0
	for _, n := range o.w.nodes {
		if nodeUp(n) {
			count++
		}
	}
	return count
}

func (o *oracle) nodeCandidates() ([]candidate, func([]candidate) bool) {
	ready := o.readyNodes()
	var out []candidate
	for _, n := range o.nodesSelected() {
		if o.t.OptIn && !annotatedTrue(n, AnnotationEnabled) {
			continue
		}
		c := candidate{target: Target{Kind: config.TargetNode, Name: n.Name}}
		c.eligible = !annotatedTrue(n, AnnotationExclude) && (o.policy.AllowControlPlane || !isCP(n)) &&
			n.Name != o.opts.OwnNodeName && !o.held(config.TargetNode, "", n.Name, n) && nodeUp(n) &&
			ready-1 >= o.policy.MinReadyNodes
		out = append(out, c)
	}
	return out, func(picks []candidate) bool { return len(picks) == 0 || ready-len(picks) >= o.policy.MinReadyNodes }
}

func (o *oracle) zones() ([]candidate, func([]candidate) bool) {
	label := o.t.Label
	alive, heldZone := map[string]bool{}, map[string]bool{}
	for _, n := range o.w.nodes {
		z := n.Labels[label]
		alive[z] = alive[z] || nodeUp(n)
		heldZone[z] = heldZone[z] || o.held(config.TargetNode, "", n.Name, n) || o.opts.Held.IsHeld(config.TargetZone, "", z)
	}
	members, readyMembers, selected := map[string][]string{}, map[string]int{}, sets.New[string]()
	for _, n := range o.nodesSelected() {
		z := n.Labels[label]
		selected.Insert(z)
		if !annotatedTrue(n, AnnotationExclude) && (o.policy.AllowControlPlane || !isCP(n)) && n.Name != o.opts.OwnNodeName && !n.Spec.Unschedulable {
			members[z] = append(members[z], n.Name)
			if nodeUp(n) {
				readyMembers[z]++
			}
		}
	}
	ready := o.readyNodes()
	// fits: another zone stays alive, and minReadyNodes holds.
	fits := func(picks []candidate) bool {
		if len(picks) == 0 {
			return true
		}
		taken, lost := sets.New[string](), 0
		for _, c := range picks {
			taken.Insert(c.target.Zone)
			lost += readyMembers[c.target.Zone]
		}
		for z, up := range alive {
			if up && !taken.Has(z) {
				return ready-lost >= o.policy.MinReadyNodes
			}
		}
		return false
	}
	var out []candidate
	for _, z := range sets.List(selected) {
		nodes := slices.Sorted(slices.Values(members[z]))
		c := candidate{target: Target{Kind: config.TargetZone, Name: z, Zone: z, Nodes: nodes}}
		c.eligible = !heldZone[z] && len(nodes) > 0 && fits([]candidate{c})
		out = append(out, c)
	}
	return out, fits
}

func (o *oracle) virtualServices() []candidate {
	sel, _ := labels.Parse(o.t.Selector)
	var out []candidate
	for _, vs := range o.w.vss {
		ns := o.w.namespaces[vs.Namespace]
		if !o.namespaceSelected(vs.Namespace) || !sel.Matches(labels.Set(vs.Labels)) ||
			(o.t.OptIn && !anyAnnotated(AnnotationEnabled, vs, ns)) {
			continue
		}
		c := candidate{target: Target{Kind: config.TargetVirtualService, Namespace: vs.Namespace, Name: vs.Name}}
		c.eligible = !o.excluded(vs.Namespace) && !anyAnnotated(AnnotationExclude, vs, ns) &&
			!o.held(config.TargetVirtualService, vs.Namespace, vs.Name, vs) && vs.DeletionTimestamp == nil
		out = append(out, c)
	}
	return out
}
