package sli

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
)

func ptr(v float64) *float64 { return &v }

// noisy returns n samples of mean+N(0,sd), clipped at zero like a ratio.
func noisy(rng *rand.Rand, n int, mean, sd float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Max(0, mean+sd*rng.NormFloat64())
	}
	return out
}

func TestCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	base := noisy(rng, 30, 0.01, 0.002)
	errorRatio := config.Tolerance{MaxIncrease: ptr(0.01)}
	tests := []struct {
		name     string
		tol      config.Tolerance
		baseline []float64
		fault    []float64
		want     guard.SLIState
		wantTest Test
	}{
		{"no change", errorRatio, base, noisy(rng, 12, 0.01, 0.002), guard.SLIWithin, TestMannWhitney},
		{"small noise: significant but tolerated", errorRatio, base, noisy(rng, 12, 0.014, 0.002), guard.SLIWithin, TestMannWhitney},
		{"clear degradation", errorRatio, base, noisy(rng, 12, 0.1, 0.01), guard.SLIBeyond, TestMannWhitney},
		{"relative tolerance exceeded", config.Tolerance{MaxIncreasePercent: ptr(50)}, base, noisy(rng, 12, 0.02, 0.002), guard.SLIBeyond, TestMannWhitney},
		{"no samples while held", errorRatio, base, nil, guard.SLINoData, TestNone},
		{"no baseline for a relative tolerance", errorRatio, nil, noisy(rng, 12, 0.1, 0.01), guard.SLINoData, TestNone},
		{"no baseline, absolute bound exceeded", config.Tolerance{Max: ptr(0.05)}, nil, noisy(rng, 12, 0.1, 0.01), guard.SLIBeyond, TestThreshold},
		{"already beyond before the fault", config.Tolerance{Max: ptr(0.05)}, noisy(rng, 30, 0.2, 0.01), noisy(rng, 12, 0.2, 0.01), guard.SLIWithin, TestMannWhitney},
		{"few samples, plain threshold beyond", errorRatio, base[:4], []float64{0.2, 0.3, 0.25}, guard.SLIBeyond, TestThreshold},
		{"few samples, plain threshold within", errorRatio, base[:4], []float64{0.012, 0.011, 0.013}, guard.SLIWithin, TestThreshold},
		{"availability drops (lower is worse)", config.Tolerance{Min: ptr(0.99)}, noisy(rng, 30, 0.999, 0.0005), noisy(rng, 12, 0.9, 0.01), guard.SLIBeyond, TestMannWhitney},
		{"availability rises (lower is worse)", config.Tolerance{MaxDecreasePercent: ptr(1)}, noisy(rng, 30, 0.95, 0.001), noisy(rng, 12, 0.999, 0.0005), guard.SLIWithin, TestMannWhitney},
		{"constant series", errorRatio, []float64{0, 0, 0, 0, 0, 0, 0, 0}, []float64{0, 0, 0, 0, 0, 0, 0, 0}, guard.SLIWithin, TestMannWhitney},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.tol, tt.baseline, tt.fault, DefaultRule)
			if c.State != tt.want || c.Test != tt.wantTest {
				t.Errorf("Compare = %s by %s (%s), want %s by %s", c.State, c.Test, c.Reason, tt.want, tt.wantTest)
			}
		})
	}
}

// TestMannWhitneyReference checks p-values worked by hand with the
// textbook formula (the one SciPy's mannwhitneyu uses for
// alternative="greater", method="asymptotic"): ties case U=27, mean 15,
// variance 30/12*(12-132/110)=27, z=(27-15-0.5)/sqrt(27)=2.2132.
func TestMannWhitneyReference(t *testing.T) {
	tests := []struct {
		name            string
		baseline, fault []float64
		want            float64
	}{
		{"separated", []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 0.006092},
		{"ties", []float64{1, 2, 2, 3, 3, 3}, []float64{3, 3, 4, 4, 5}, 0.013443},
		{"reversed", []float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5}, 0.996692},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mannWhitneyGreater(tt.baseline, tt.fault, true); math.Abs(got-tt.want) > 5e-5 {
				t.Errorf("p = %.6f, want %.6f", got, tt.want)
			}
		})
	}
}

// TestFalsePositiveRate runs the rule on 2,000 seeded no-change cases: the
// same noise before and during the fault, a tolerance of 20 % of the
// baseline (well inside the noise), and counts how often it says beyond.
func TestFalsePositiveRate(t *testing.T) {
	const cases = 2000
	tol := config.Tolerance{MaxIncreasePercent: ptr(20)}
	var rule, testOnly int
	for seed := range uint64(cases) {
		rng := rand.New(rand.NewPCG(seed, 17))
		base, fault := noisy(rng, 30, 0.01, 0.003), noisy(rng, 12, 0.01, 0.003)
		c := Compare(tol, base, fault, DefaultRule)
		if c.State == guard.SLIBeyond {
			rule++
		}
		if c.PValue < DefaultRule.Alpha {
			testOnly++
		}
	}
	rate, testRate := float64(rule)/cases, float64(testOnly)/cases
	t.Logf("false positives over %d no-change cases: rule %.2f%% (%d), U test alone %.2f%% (%d)", cases, 100*rate, rule, 100*testRate, testOnly)
	if rate > 0.01 {
		t.Errorf("false-positive rate %.2f%% > 1%%", 100*rate)
	}
	if testRate > 0.02 {
		t.Errorf("the U test alone rejects %.2f%% of no-change cases at alpha %.2f: miscalibrated", 100*testRate, DefaultRule.Alpha)
	}
}

// TestDetectionRate: the same set-up with a real degradation (the mean
// doubles) must be found nearly always, so the low false-positive rate is
// not bought with blindness.
func TestDetectionRate(t *testing.T) {
	const cases = 1000
	tol := config.Tolerance{MaxIncreasePercent: ptr(20)}
	found := 0
	for seed := range uint64(cases) {
		rng := rand.New(rand.NewPCG(seed, 71))
		if Compare(tol, noisy(rng, 30, 0.01, 0.003), noisy(rng, 12, 0.02, 0.003), DefaultRule).State == guard.SLIBeyond {
			found++
		}
	}
	t.Logf("detected %d of %d doubled error ratios", found, cases)
	if found < cases*99/100 {
		t.Errorf("detected only %d of %d", found, cases)
	}
}
