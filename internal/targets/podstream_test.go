package targets

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/chaosd/chaosd/internal/config"
)

// TestPodStreamMatchesExhaustiveFilter checks the lazy sampler against the
// exhaustive filter on random inventories: drained, a podStream yields
// each pod the filter accepts exactly once and nothing else, whether it
// draws throughout, collects the rest early or collects at once; and the
// count a lazy pick reports (running counts, groups or spans) is the
// filter's. The index is then edited at random and checked again, so the
// counts the writes maintain are checked too.
func TestPodStreamMatchesExhaustiveFilter(t *testing.T) {
	worlds := 2000
	if testing.Short() {
		worlds = 200
	}
	ctx := context.Background()
	for seed := range uint64(worlds) {
		r := newRand(seed)
		w := genWorld(r)
		target := genTarget(r)
		target.Kind = config.TargetPod
		src := staticFrom(w.objs)
		name := fmt.Sprintf("seed %d: %+v", seed, target)
		for round := range 2 {
			if round == 1 {
				editAtRandom(r, src)
			}
			sel, err := parseSelectors(target)
			if err != nil {
				t.Fatal(err)
			}
			nss, _ := namespaceIndex(ctx, src)
			newMatcher := func() *podMatcher {
				return &podMatcher{t: target, sel: sel, nss: nss, owners: ownerResolver{src: src, memo: map[WorkloadRef]*ownership{}}}
			}
			view, considered, err := newMatcher().count(ctx, &src.podIndex)
			if err != nil {
				t.Fatal(err)
			}
			pm := newMatcher()
			set := view.spans(pm.namespaceFilter())
			all, err := pm.all(ctx, view, set)
			if err != nil {
				t.Fatal(err)
			}
			want := podKeys(all)
			if considered != len(want) {
				t.Errorf("%s round %d: counted %d matching pods, the filter accepts %d", name, round, considered, len(want))
			}
			for _, limit := range []int{-1, 0, 1, 3} {
				s := newPodStream(newMatcher(), view, set, 1+r.IntN(4), considered)
				if limit >= 0 {
					s.limit = limit
				}
				var got []podMatch
				rng := newRand(seed + 1000)
				for {
					c, ok, err := s.next(ctx, rng)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					got = append(got, c)
				}
				keys := podKeys(got)
				if len(keys) != len(got) {
					t.Errorf("%s round %d limit %d: drew a pod twice: %v", name, round, limit, got)
				}
				if !slices.Equal(slices.Sorted(maps.Keys(keys)), slices.Sorted(maps.Keys(want))) {
					t.Errorf("%s round %d limit %d: stream yields %v, filter accepts %v", name, round, limit, slices.Sorted(maps.Keys(keys)), slices.Sorted(maps.Keys(want)))
				}
			}
		}
	}
}

func podKeys(cs []podMatch) map[string]bool {
	out := map[string]bool{}
	for _, c := range cs {
		out[c.meta.Namespace+"/"+c.meta.Name] = true
	}
	return out
}

// editAtRandom deletes, relabels and re-adds some of a source's pods in
// its index (the live reads keep the old view: only counting and matching
// are checked on the result).
func editAtRandom(r interface{ IntN(int) int }, s *staticSource) {
	for _, m := range s.pods {
		switch r.IntN(4) {
		case 0:
			s.podIndex.Delete(m.Namespace, m.Name)
		case 1:
			relabelled := *m
			relabelled.Labels = NewLabels(map[string]string{"tier": []string{"web", "db"}[r.IntN(2)], "app": "x"})
			s.podIndex.Upsert(&relabelled)
		case 2:
			s.podIndex.Delete(m.Namespace, m.Name)
			s.podIndex.Upsert(m)
		}
	}
	if len(s.pods) > 0 {
		added := *s.pods[0]
		added.Name += "-new"
		added.Labels = NewLabels(map[string]string{"tier": "web"})
		s.podIndex.Upsert(&added)
	}
}

// TestPodIndexAgainstModel applies random writes to a PodIndex and to a
// plain map, merging at random points, and checks that every view is the
// map sorted, that a view taken earlier never changes, and that the
// running counts of a label selector equal a recount.
func TestPodIndexAgainstModel(t *testing.T) {
	r := newRand(7)
	var x PodIndex
	model := map[nsName]*Meta{}
	sel := labels.SelectorFromSet(labels.Set{"tier": "web"})
	type held struct {
		view podView
		want []*Meta
	}
	var views []held
	check := func(step int) {
		view, n := x.viewMatching(sel, nil)
		want := slices.SortedFunc(maps.Values(model), compareMeta)
		if !slices.Equal(view.pods, want) {
			t.Fatalf("step %d: view has %d pods, model %d (or a different order)", step, len(view.pods), len(want))
		}
		if got := x.Len(); got != len(want) {
			t.Fatalf("step %d: Len %d, model %d", step, got, len(want))
		}
		recount := 0
		for _, m := range want {
			if sel.Matches(m.Labels) {
				recount++
			}
		}
		if n != recount {
			t.Fatalf("step %d: running count %d, recount %d", step, n, recount)
		}
		views = append(views, held{view, slices.Clone(want)})
	}
	check(0)
	for step := 1; step <= 20000; step++ {
		k := nsName{fmt.Sprintf("ns-%d", r.IntN(5)), fmt.Sprintf("p-%03d", r.IntN(300))}
		if r.IntN(3) == 0 {
			x.Delete(k.namespace, k.name)
			delete(model, k)
		} else {
			m := &Meta{Namespace: k.namespace, Name: k.name, Labels: NewLabels(map[string]string{"tier": []string{"web", "db"}[r.IntN(2)]})}
			x.Upsert(m)
			model[k] = m
		}
		if r.IntN(500) == 0 {
			check(step)
		}
	}
	check(-1)
	for i, h := range views {
		if !slices.Equal(h.view.pods, h.want) {
			t.Errorf("view %d changed after later writes", i)
		}
	}
}
