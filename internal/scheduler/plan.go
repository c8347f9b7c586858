package scheduler

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// MaxPlanSteps bounds how many scheduled activations Plan examines per
// experiment, so a schedule that only ever falls outside the windows ends.
const MaxPlanSteps = 10_000

// ExperimentPlan is the upcoming activations of one experiment.
type ExperimentPlan struct {
	Experiment string
	Schedule   string
	Jitter     time.Duration
	// Disabled experiments are listed but never scheduled.
	Disabled bool
	// Activations are the next allowed activations, at most n.
	Activations []Activation
	// Skipped counts activations passed over because their jittered time
	// fell outside the windows, by reason.
	Skipped map[string]int
	// Exhausted says why fewer than n activations were found, if so.
	Exhausted string
}

// SkippedTotal is the number of activations skipped for any reason.
func (p ExperimentPlan) SkippedTotal() int {
	total := 0
	for _, n := range p.Skipped {
		total += n
	}
	return total
}

// Plan lists, for each experiment in config order, its next n allowed
// activations after from, in cfg's location. Jitter is drawn from rng in
// that order too, so a seed reproduces a plan exactly.
func Plan(cfg *config.Config, from time.Time, n int, rng *rand.Rand) []ExperimentPlan {
	plans := make([]ExperimentPlan, 0, len(cfg.Experiments))
	for _, exp := range cfg.Experiments {
		p := ExperimentPlan{Experiment: exp.Name, Schedule: exp.Schedule, Jitter: exp.Jitter, Disabled: exp.Disabled}
		if !exp.Disabled {
			planExperiment(cfg, exp, from, n, rng, &p)
		}
		plans = append(plans, p)
	}
	return plans
}

func planExperiment(cfg *config.Config, exp config.Experiment, from time.Time, n int, rng *rand.Rand, p *ExperimentPlan) {
	after := from
	for range MaxPlanSteps {
		if len(p.Activations) >= n {
			return
		}
		a, err := NextActivation(cfg, exp, after, rng)
		if errors.Is(err, ErrNoActivation) {
			p.Exhausted = fmt.Sprintf("no activation after %s", after.In(cfg.Location()).Format(timeLayout))
			return
		}
		after = a.Scheduled
		if a.Allowed {
			p.Activations = append(p.Activations, a)
			continue
		}
		if p.Skipped == nil {
			p.Skipped = map[string]int{}
		}
		p.Skipped[a.SkipReason]++
	}
	if len(p.Activations) < n {
		p.Exhausted = fmt.Sprintf("no activation within windows in the next %d scheduled runs (through %s)",
			MaxPlanSteps, after.In(cfg.Location()).Format(timeLayout))
	}
}
