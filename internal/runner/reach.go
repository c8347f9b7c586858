package runner

import (
	"context"
	"strings"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/reach"
	"github.com/chaosd/chaosd/internal/targets"
)

// Reacher tells, before injecting, whether a target's fault can affect
// anything (a *reach.Reader); nil answers mean the action has no rule.
type Reacher interface {
	Check(ctx context.Context, cfg *config.Config, exp config.Experiment, t targets.Target) (*reach.Answer, error)
}

// ReasonUnreachable starts the reason of a run skipped because its fault
// could reach nothing.
const ReasonUnreachable = "unreachable"

// checkReach asks the Reacher about every chosen target and journals the
// answers. Targets whose fault can reach nothing are dropped, and a run
// left with none is skipped as unreachable; so is a run whose reach could
// not be read (fail closed). reach.runWhenUnreachable keeps every target.
func (rn *run) checkReach(ctx context.Context, chosen []targets.Target) ([]targets.Target, bool) {
	if rn.r.o.Reach == nil {
		return chosen, true
	}
	ctx = rn.begin(ctx, spanReach)
	kept, ok := rn.reachable(ctx, chosen)
	rn.end(nil, AttrTargets.StringSlice(targetNames(kept)))
	return kept, ok
}

// reachable is checkReach's work, inside the reach span.
func (rn *run) reachable(ctx context.Context, chosen []targets.Target) ([]targets.Target, bool) {
	force := rn.exp.Reach.RunWhenUnreachable
	var keep []targets.Target
	var why []string
	for _, t := range chosen {
		a, err := rn.r.o.Reach.Check(ctx, rn.cfg, rn.exp, t)
		if err != nil {
			rn.rec.Reach = append(rn.rec.Reach, journal.Reach{Target: t.String(), Reasons: []string{}, Error: err.Error()})
			rn.note(journal.PhasePick, t.String(), "reach unknown", err)
			why = append(why, t.String()+": "+err.Error())
			if force {
				keep = append(keep, t)
			}
			continue
		}
		if a == nil {
			keep = append(keep, t)
			continue
		}
		rn.rec.Reach = append(rn.rec.Reach, reachOf(t, a))
		rn.note(journal.PhasePick, t.String(), a.Summary(), nil)
		for _, w := range a.Warnings {
			rn.log.Warn("reach warning", zap.String("target", t.String()), zap.String("warning", w))
		}
		if a.Reachable || force {
			keep = append(keep, t)
			continue
		}
		why = append(why, t.String()+": "+a.Summary())
	}
	if len(keep) == 0 {
		rn.conclude(guard.Skipped, ReasonUnreachable+": "+strings.Join(why, "; "))
		return nil, false
	}
	if len(why) > 0 && force {
		rn.note(journal.PhasePick, "", "reach.runWhenUnreachable: injecting all the same", nil)
	}
	return keep, true
}

func reachOf(t targets.Target, a *reach.Answer) journal.Reach {
	r := journal.Reach{Target: t.String(), Reachable: a.Reachable, Permanent: a.Permanent, Reasons: a.Reasons,
		Warnings: a.Warnings, Evicts: a.Evicts}
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
	return r
}
