package targets

import (
	"context"
	"math/rand/v2"

	"github.com/chaosd/chaosd/internal/config"
)

// candidates is what one target kind hands to the sampling loop: a list of
// candidates that already match the experiment's selectors and passed the
// cheap rules, and the rules that remain.
type candidates interface {
	Len() int
	// check applies every rule that concerns candidate i on its own, with
	// budgets as they stood before this call. It may read the cluster.
	check(ctx context.Context, i int) (Reason, error)
	// admit applies the budgets shared between the picks of this call.
	admit(i int) Reason
	// take records candidate i as picked and returns it as a Target.
	take(i int) Target
	// describe names candidate i for a rejection sample.
	describe(i int) Target
}

// choose samples without replacement, uniformly, from the candidates that
// pass every rule, and picks as many as mode says.
//
//   - The mode's roll (for maxPercent) is always the first draw from rng, then
//     the candidate order, so a logged seed replays the same choice.
//   - Candidates are visited in a uniformly random order, and each eligible
//     one is taken unless this call's earlier picks exhausted a shared budget.
//     Visiting in random order and taking the first that fit is what keeps
//     the choice uniform among the eligible ones.
//   - one and count:N need only N picks, so candidates are checked lazily
//     until enough are taken: a pick touches few pods however many match.
//   - all, percent and maxPercent need the eligible count first, so every
//     candidate is checked before any is taken; so is every mode when
//     exhaustive is set.
func choose(ctx context.Context, c candidates, mode config.Mode, rng *rand.Rand, exhaustive bool, res *Result) error {
	roll := rng.Float64()
	n := c.Len()
	if n == 0 {
		return nil
	}
	if exhaustive || !countIsMinimum(mode) {
		return chooseAll(ctx, c, mode, roll, rng, res)
	}
	want := mode.Count(n, roll) // = min(N, n) for one and count:N
	perm := sparsePerm{n: n}
	for len(res.Targets) < want {
		i, ok := perm.next(rng)
		if !ok {
			break
		}
		if err := visit(ctx, c, i, res); err != nil {
			return err
		}
	}
	return nil
}

// chooseAll checks every candidate, then picks mode.Count of the eligible.
func chooseAll(ctx context.Context, c candidates, mode config.Mode, roll float64, rng *rand.Rand, res *Result) error {
	var eligible []int
	for _, i := range rng.Perm(c.Len()) {
		res.Checked++
		why, err := c.check(ctx, i)
		if err != nil {
			return err
		}
		if why != "" {
			res.reject(c.describe(i), why)
			continue
		}
		eligible = append(eligible, i)
	}
	res.Eligible += len(eligible)
	want := mode.Count(len(eligible), roll)
	for _, i := range eligible {
		if len(res.Targets) == want {
			break
		}
		if why := c.admit(i); why != "" {
			res.reject(c.describe(i), why)
			continue
		}
		res.Targets = append(res.Targets, c.take(i))
	}
	return nil
}

// visit checks one candidate and takes it if it fits.
func visit(ctx context.Context, c candidates, i int, res *Result) error {
	res.Checked++
	why, err := c.check(ctx, i)
	if err != nil {
		return err
	}
	if why == "" {
		res.Eligible++
		why = c.admit(i)
	}
	if why != "" {
		res.reject(c.describe(i), why)
		return nil
	}
	res.Targets = append(res.Targets, c.take(i))
	return nil
}

// countIsMinimum reports whether mode.Count(n) is min(N, n), so the number
// to pick is known without counting the eligible candidates first.
func countIsMinimum(m config.Mode) bool {
	switch m.Kind {
	case "", config.ModeOne, config.ModeCount:
		return true
	}
	return false
}

// sparsePerm draws a uniformly random permutation of 0..n-1 one element at
// a time (Fisher-Yates), remembering only the positions it swapped: drawing
// k of 100k candidates costs O(k), not O(n).
type sparsePerm struct {
	n, drawn int
	moved    map[int]int // position -> value, where it differs from the identity
}

func (p *sparsePerm) next(rng *rand.Rand) (int, bool) {
	if p.drawn >= p.n {
		return 0, false
	}
	j := p.drawn + rng.IntN(p.n-p.drawn)
	v := p.at(j)
	if p.moved == nil {
		p.moved = map[int]int{}
	}
	p.moved[j] = p.at(p.drawn)
	delete(p.moved, p.drawn) // never read again
	p.drawn++
	return v, true
}

func (p *sparsePerm) at(pos int) int {
	if v, ok := p.moved[pos]; ok {
		return v
	}
	return pos
}
