package targets

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// chiSquare is Pearson's statistic for counts against a uniform expectation.
func chiSquare(counts []int) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	expected := float64(total) / float64(len(counts))
	stat := 0.0
	for _, c := range counts {
		d := float64(c) - expected
		stat += d * d / expected
	}
	return stat
}

// chiSquareCritical001 is the value a chi-square statistic with df degrees
// of freedom exceeds with probability 0.001: exact for df <= 10, else the
// Wilson-Hilferty approximation (within 1% from there on).
func chiSquareCritical001(df int) float64 {
	exact := []float64{0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588}
	if df < len(exact) {
		return exact[df]
	}
	const z = 3.090232 // standard normal quantile at 0.999
	k := float64(df)
	return k * math.Pow(1-2/(9*k)+z*math.Sqrt(2/(9*k)), 3)
}

func TestChiSquareHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"uniform counts", chiSquare([]int{10, 10, 10}), 0},
		{"skewed counts", chiSquare([]int{20, 10, 0}), 20},
		{"critical df 1", chiSquareCritical001(1), 10.828},
		{"critical df 30 (table 59.703)", chiSquareCritical001(30), 59.703},
		{"critical df 100 (table 149.449)", chiSquareCritical001(100), 149.449},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if math.Abs(tc.got-tc.want) > 0.01*math.Max(1, tc.want) {
				t.Errorf("got %.3f, want %.3f", tc.got, tc.want)
			}
		})
	}
}

// assertUniform checks that every outcome occurred and that the counts are
// uniform at p > 0.001.
func assertUniform(t *testing.T, counts map[string]int, outcomes []string) {
	t.Helper()
	var c []int
	for _, o := range outcomes {
		if counts[o] == 0 {
			t.Errorf("%s was never chosen", o)
		}
		c = append(c, counts[o])
	}
	for o := range counts {
		if !slices.Contains(outcomes, o) {
			t.Errorf("%s was chosen but is not eligible", o)
		}
	}
	stat, crit := chiSquare(c), chiSquareCritical001(len(c)-1)
	if stat > crit {
		t.Errorf("chi-square %.2f > %.2f (df %d): not uniform: %v", stat, crit, len(c)-1, counts)
	}
}

func TestPickIsUniform(t *testing.T) {
	// Eligible pods among ineligible ones and across workloads, so that the
	// lazy walk skips some before it finds one.
	var pods []any
	var eligiblePods []string
	for i := range 12 {
		name := fmt.Sprintf("p-%02d", i)
		var opts []opt
		if i%3 == 0 {
			opts = append(opts, notReady())
		} else {
			eligiblePods = append(eligiblePods, "pod/shop/"+name)
		}
		pods = append(pods, pod("shop", name, opts...))
	}
	pods = append(pods, deployment("shop", "web", 3, [][]opt{{notReady()}}))
	eligiblePods = append(eligiblePods, "pod/shop/web-7d9f-1", "pod/shop/web-7d9f-2")

	tests := []struct {
		name     string
		objs     []runtime.Object
		target   config.Target
		outcomes []string
	}{
		{
			name:     "pods, mode one",
			objs:     cluster(pods...),
			target:   config.Target{Kind: config.TargetPod},
			outcomes: eligiblePods,
		},
		{
			name:   "nodes, mode one",
			objs:   cluster(node("a"), node("b"), node("c", cordoned()), node("d"), node("e", controlPlaneOpt)),
			target: config.Target{Kind: config.TargetNode},
			outcomes: []string{
				"node/a", "node/b", "node/d",
			},
		},
		{
			name:     "zones",
			objs:     cluster(node("a", inZone("a")), node("b", inZone("b")), node("c", inZone("c")), node("d", inZone("d"))),
			target:   config.Target{Kind: config.TargetZone},
			outcomes: []string{"zone/a", "zone/b", "zone/c", "zone/d"},
		},
		{
			name:     "virtualservices, percent picks one of four",
			objs:     cluster(virtualService("a", "x"), virtualService("a", "y"), virtualService("b", "x"), virtualService("b", "y", optedOutOpt), virtualService("c", "z")),
			target:   config.Target{Kind: config.TargetVirtualService, Mode: mode("percent:25")},
			outcomes: []string{"virtualservice/a/x", "virtualservice/a/y", "virtualservice/b/x", "virtualservice/c/z"},
		},
		{
			name:   "pods, count:2 draws uniform pairs",
			objs:   cluster(pod("s", "a"), pod("s", "b"), pod("s", "c"), pod("s", "d", notReady()), pod("s", "e")),
			target: config.Target{Kind: config.TargetPod, Mode: mode("count:2")},
			outcomes: []string{
				"pod/s/a+pod/s/b", "pod/s/a+pod/s/c", "pod/s/a+pod/s/e",
				"pod/s/b+pod/s/c", "pod/s/b+pod/s/e", "pod/s/c+pod/s/e",
			},
		},
	}
	const perOutcome = 150
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPicker(Options{Source: staticFrom(tc.objs), Clock: clocktesting.NewFakePassiveClock(testNow)})
			rng := newRand(2026)
			counts := map[string]int{}
			for range perOutcome * len(tc.outcomes) {
				res, err := p.Pick(context.Background(), experiment(tc.target), config.Policy{}, rng)
				if err != nil {
					t.Fatal(err)
				}
				got := names(res)
				slices.Sort(got)
				counts[strings.Join(got, "+")]++
			}
			assertUniform(t, counts, tc.outcomes)
		})
	}
}

func TestSparsePermIsUniform(t *testing.T) {
	rng := newRand(99)
	counts := map[string]int{}
	var outcomes []string
	permute([]int{0, 1, 2, 3}, 0, func(p []int) { outcomes = append(outcomes, fmt.Sprint(p)) })
	for range 200 * len(outcomes) {
		perm := sparsePerm{n: 4}
		var drawn []int
		for {
			v, ok := perm.next(rng)
			if !ok {
				break
			}
			drawn = append(drawn, v)
		}
		counts[fmt.Sprint(drawn)]++
	}
	assertUniform(t, counts, outcomes)
}

func permute(a []int, k int, visit func([]int)) {
	if k == len(a) {
		visit(a)
		return
	}
	for i := k; i < len(a); i++ {
		a[k], a[i] = a[i], a[k]
		permute(a, k+1, visit)
		a[k], a[i] = a[i], a[k]
	}
}
