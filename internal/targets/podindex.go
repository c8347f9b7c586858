package targets

import (
	"cmp"
	"slices"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
)

// PodIndex is the pod inventory as a pick reads it, kept up to date by the
// inventory's writes (the informer's event handlers) rather than rebuilt
// per pick:
//
//   - every pod's Meta, sorted by namespace/name, so a namespace is one
//     contiguous range, a pick draws random positions without sorting or
//     copying anything, and a logged seed replays the same choice;
//   - the number of pods per group of pods that look alike to the selectors
//     (same namespace, labels, controller and opt-in mark: usually one
//     group per ReplicaSet), so a pick counts the pods its selectors match
//     from the groups instead of from every pod;
//   - the number of pods per namespace that a label selector matches, for
//     the selectors picks asked about lately, updated by every write: the
//     common pick (a label selector, maybe namespaces) counts its matches
//     in time proportional to the namespaces, and looks at the groups only
//     the first time;
//   - copy-on-write: a pick holds a view that later writes leave alone; the
//     first write after a view copies the slice once;
//   - buffered: adds and deletes wait in small maps and are merged in one
//     pass, so an initial list arriving in any order (a streamed list does)
//     costs one sort, not a memmove per pod.
//
// It is safe for concurrent use. The zero value is empty and ready.
type PodIndex struct {
	mu     sync.Mutex
	sorted []*Meta
	shared bool                // a view holds sorted: copy before writing
	adds   map[nsName]*Meta    // not yet merged into sorted
	dels   map[nsName]struct{} // in sorted, to drop at the next merge
	groups map[podGroup]int    // pods per group, pending writes included
	// counts holds the per-namespace counts of the selectors picks used
	// lately, by selector string; uses orders them for eviction.
	counts map[string]*selectorCount
	uses   uint64
}

// selectorCount is how many pods a label selector matches, per namespace.
type selectorCount struct {
	sel     labels.Selector
	byNS    map[string]int
	lastUse uint64
}

// maxSelectorCounts bounds the selectors counted: each costs a selector
// match per write. Experiments come from config, so a handful is typical;
// the least recently used goes first.
const maxSelectorCounts = 32

// podGroup is what the selectors can tell apart about a pod: pods with the
// same podGroup match the same experiments.
type podGroup struct {
	namespace string
	labels    Labels
	owner     Owner
	optIn     bool
}

func groupOf(m *Meta) podGroup {
	return podGroup{namespace: m.Namespace, labels: m.Labels, owner: m.Owner, optIn: m.Marks.OptIn}
}

// meta is a stand-in pod of the group, for the selectors.
func (g podGroup) meta() Meta {
	return Meta{Namespace: g.namespace, Labels: g.labels, Owner: g.owner, Marks: Marks{OptIn: g.optIn}}
}

// minPending is how many buffered writes may wait before a merge, at least.
const minPending = 256

// Upsert adds a pod or replaces the one with its namespace and name.
func (x *PodIndex) Upsert(m *Meta) {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := nsName{m.Namespace, m.Name}
	if old, ok := x.adds[k]; ok {
		x.count(old, -1)
		x.adds[k] = m
		x.count(m, 1)
		return
	}
	if i, ok := x.search(k); ok {
		if _, deleted := x.dels[k]; deleted {
			delete(x.dels, k)
		} else {
			x.count(x.sorted[i], -1)
		}
		x.own()
		x.sorted[i] = m
		x.count(m, 1)
		return
	}
	if x.adds == nil {
		x.adds = map[nsName]*Meta{}
	}
	x.adds[k] = m
	x.count(m, 1)
	x.mergeIfFull()
}

// Delete removes a pod; a pod it does not hold is ignored.
func (x *PodIndex) Delete(namespace, name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := nsName{namespace, name}
	if old, ok := x.adds[k]; ok {
		delete(x.adds, k)
		x.count(old, -1)
		return
	}
	i, ok := x.search(k)
	if _, deleted := x.dels[k]; !ok || deleted {
		return
	}
	if x.dels == nil {
		x.dels = map[nsName]struct{}{}
	}
	x.dels[k] = struct{}{}
	x.count(x.sorted[i], -1)
	x.mergeIfFull()
}

// Len is how many pods the index holds, pending writes included.
func (x *PodIndex) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, pods := range x.groups {
		n += pods
	}
	return n
}

// view merges the pending writes and returns the sorted pods, which stay
// valid and unchanged however the index changes afterwards. With groups
// set, it first calls groups with every group and its pod count, under the
// index's lock so that the counts agree with the pods returned.
func (x *PodIndex) view(groups func(g podGroup, pods int)) podView {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.merge()
	if groups != nil {
		for g, n := range x.groups {
			groups(g, n)
		}
	}
	x.shared = true
	return podView{pods: x.sorted}
}

func (x *PodIndex) count(m *Meta, d int) {
	if x.groups == nil {
		x.groups = map[podGroup]int{}
	}
	add(x.groups, groupOf(m), d)
	for _, c := range x.counts {
		if c.sel.Matches(m.Labels) {
			add(c.byNS, m.Namespace, d)
		}
	}
}

// add adds d to a count, dropping it at zero.
func add[K comparable](m map[K]int, k K, d int) {
	if n := m[k] + d; n > 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

// viewMatching returns a view, as view does, and how many of its pods sel
// matches in the namespaces keep accepts (nil: every namespace). The first
// call for a selector counts it over the groups; later calls read the
// counts the writes kept current.
func (x *PodIndex) viewMatching(sel labels.Selector, keep func(namespace string) bool) (podView, int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.merge()
	x.uses++
	key := sel.String()
	c, ok := x.counts[key]
	if !ok {
		c = &selectorCount{sel: sel, byNS: map[string]int{}}
		for g, n := range x.groups {
			if sel.Matches(g.labels) {
				add(c.byNS, g.namespace, n)
			}
		}
		if len(x.counts) >= maxSelectorCounts {
			x.evictOldestCount()
		}
		if x.counts == nil {
			x.counts = map[string]*selectorCount{}
		}
		x.counts[key] = c
	}
	c.lastUse = x.uses
	n := 0
	for ns, k := range c.byNS {
		if keep == nil || keep(ns) {
			n += k
		}
	}
	x.shared = true
	return podView{pods: x.sorted}, n
}

func (x *PodIndex) evictOldestCount() {
	var oldest string
	for k, c := range x.counts {
		if oldest == "" || c.lastUse < x.counts[oldest].lastUse {
			oldest = k
		}
	}
	delete(x.counts, oldest)
}

// search finds a key in sorted.
func (x *PodIndex) search(k nsName) (int, bool) {
	return slices.BinarySearchFunc(x.sorted, k, compareKey)
}

func compareKey(m *Meta, k nsName) int {
	return cmp.Or(cmp.Compare(m.Namespace, k.namespace), cmp.Compare(m.Name, k.name))
}

func compareMeta(a, b *Meta) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// own makes sorted safe to write in place.
func (x *PodIndex) own() {
	if x.shared {
		x.sorted = slices.Clone(x.sorted)
		x.shared = false
	}
}

// mergeIfFull merges once the buffered writes reach a sixteenth of the
// index: merging costs a pass over every pod, so it is amortised over as
// many writes.
func (x *PodIndex) mergeIfFull() {
	if n := len(x.adds) + len(x.dels); n >= max(minPending, len(x.sorted)/16) {
		x.merge()
	}
}

// merge folds the buffered adds and deletes into a new sorted slice.
func (x *PodIndex) merge() {
	if len(x.adds) == 0 && len(x.dels) == 0 {
		return
	}
	adds := make([]*Meta, 0, len(x.adds))
	for _, m := range x.adds {
		adds = append(adds, m)
	}
	slices.SortFunc(adds, compareMeta)
	out := make([]*Meta, 0, len(x.sorted)-len(x.dels)+len(adds))
	i := 0
	for _, m := range x.sorted {
		if _, deleted := x.dels[nsName{m.Namespace, m.Name}]; deleted {
			continue
		}
		for i < len(adds) && compareMeta(adds[i], m) < 0 {
			out = append(out, adds[i])
			i++
		}
		out = append(out, m)
	}
	out = append(out, adds[i:]...)
	// New maps rather than clear: after an initial list the old ones hold
	// buckets for every pod.
	x.sorted, x.shared, x.adds, x.dels = out, false, nil, nil
}

// podView is a pick's consistent, read-only view of the sorted pods.
type podView struct {
	pods []*Meta
}

// find returns a pod's Meta, or nil.
func (v podView) find(namespace, name string) *Meta {
	if i, ok := slices.BinarySearchFunc(v.pods, nsName{namespace, name}, compareKey); ok {
		return v.pods[i]
	}
	return nil
}

// inNamespace returns the pods of one namespace: a contiguous range of the
// sorted pods, found by binary search.
func (v podView) inNamespace(namespace string) []*Meta {
	from, _ := slices.BinarySearchFunc(v.pods, nsName{namespace, ""}, compareKey)
	to := from + sort.Search(len(v.pods)-from, func(d int) bool { return v.pods[from+d].Namespace > namespace })
	return v.pods[from:to]
}

// span is the positions [from, to) of the sorted pods.
type span struct{ from, to int }

// spans returns the ranges of the namespaces keep accepts (every pod when
// keep is nil), in order, visiting each namespace once: a binary search per
// namespace, not a pass over the pods.
func (v podView) spans(keep func(namespace string) bool) spanSet {
	if keep == nil {
		return newSpanSet([]span{{0, len(v.pods)}})
	}
	var out []span
	for i := 0; i < len(v.pods); {
		ns := v.pods[i].Namespace
		j := i + sort.Search(len(v.pods)-i, func(d int) bool { return v.pods[i+d].Namespace > ns })
		if keep(ns) {
			if n := len(out); n > 0 && out[n-1].to == i {
				out[n-1].to = j
			} else {
				out = append(out, span{i, j})
			}
		}
		i = j
	}
	return newSpanSet(out)
}

// spanSet numbers the positions of its spans 0..Len()-1, in order.
type spanSet struct {
	spans []span
	ends  []int // ends[i]: positions in spans[0..i]
}

func newSpanSet(spans []span) spanSet {
	s := spanSet{spans: spans, ends: make([]int, len(spans))}
	n := 0
	for i, sp := range spans {
		n += sp.to - sp.from
		s.ends[i] = n
	}
	return s
}

func (s spanSet) Len() int {
	if len(s.ends) == 0 {
		return 0
	}
	return s.ends[len(s.ends)-1]
}

// at maps a position of the set to a position of the sorted pods.
func (s spanSet) at(pos int) int {
	i := sort.SearchInts(s.ends, pos+1)
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.spans[i].from + pos - start
}
