package targets

import (
	"context"
	"math/rand/v2"
)

// podStream yields the pods of a view that match the selectors, in a
// uniformly random order, one at a time:
//
//   - it draws positions of the spans in scope without replacement
//     (sparsePerm) and skips the pods that do not match, which leaves the
//     matching ones in a uniformly random order, and costs what is drawn;
//   - when the matches are sparse (the expected draws for the picks wanted
//     exceed a limit, or the draws reach it), it collects the matches among
//     the positions not drawn yet in one pass and goes on drawing from those.
//     Conditioned on what was drawn, the rest comes in a uniformly random
//     order either way, so the switch keeps the choice uniform; it only
//     bounds the cost at one pass, as a full filter would cost.
type podStream struct {
	pm    *podMatcher
	view  podView
	set   spanSet
	perm  sparsePerm
	limit int // draws before collecting the rest

	rest     []podMatch
	restPerm *sparsePerm // set once the rest is collected
}

// lazyDrawLimit bounds the draws of a stream over n positions: a draw costs
// a few map operations, a pass over the rest about one comparison per pod.
func lazyDrawLimit(n int) int { return max(256, n/64) }

// newPodStream returns a stream over set; want and matching (the number of
// matching pods) tell it whether drawing is worth starting.
func newPodStream(pm *podMatcher, view podView, set spanSet, want, matching int) *podStream {
	s := &podStream{pm: pm, view: view, set: set, perm: sparsePerm{n: set.Len()}, limit: lazyDrawLimit(set.Len())}
	if matching > 0 && want*set.Len()/matching > s.limit {
		s.limit = 0 // expected draws beyond the limit: collect at once
	}
	return s
}

// next returns the next matching pod, or false when none is left.
func (s *podStream) next(ctx context.Context, rng *rand.Rand) (podMatch, bool, error) {
	for {
		if s.restPerm != nil {
			i, ok := s.restPerm.next(rng)
			if !ok {
				return podMatch{}, false, nil
			}
			return s.rest[i], true, nil
		}
		if s.perm.drawn >= s.limit {
			if err := s.collect(ctx); err != nil {
				return podMatch{}, false, err
			}
			continue
		}
		pos, ok := s.perm.next(rng)
		if !ok {
			return podMatch{}, false, nil
		}
		c, ok, err := s.pm.match(ctx, s.view.pods[s.set.at(pos)])
		if err != nil || ok {
			return c, ok, err
		}
	}
}

// collect gathers the matches among the positions not drawn yet.
func (s *podStream) collect(ctx context.Context) error {
	for j := s.perm.drawn; j < s.perm.n; j++ {
		c, ok, err := s.pm.match(ctx, s.view.pods[s.set.at(s.perm.at(j))])
		if err != nil {
			return err
		}
		if ok {
			s.rest = append(s.rest, c)
		}
	}
	s.restPerm = &sparsePerm{n: len(s.rest)}
	return nil
}
