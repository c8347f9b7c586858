package runner

import (
	"context"
	"errors"
	"time"

	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/journal"
)

// replacementPoll is how often a killed pod's controller is checked.
const replacementPoll = time.Second

type replacementResult struct {
	kill *experiments.PodKill
	rep  experiments.Replacement
	err  error
}

// watchReplacement starts waiting, alongside the observe window, for the
// replacement of a killed pod; nil when the run killed no pod.
func (rn *run) watchReplacement(ctx context.Context) <-chan replacementResult {
	var kill *experiments.PodKill
	for _, inj := range rn.injected {
		if k, ok := inj.Detail.(*experiments.PodKill); ok && !inj.DryRun {
			kill = k
			break
		}
	}
	if kill == nil {
		return nil
	}
	out := make(chan replacementResult, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, rn.exp.Observe+rn.r.o.ReplacementTimeout)
		defer cancel()
		rep, err := rn.r.o.Engine.WaitReplacement(wctx, kill, replacementPoll)
		out <- replacementResult{kill: kill, rep: rep, err: err}
	}()
	return out
}

// recordReplacement waits for the replacement watch and journals it.
func (rn *run) recordReplacement(ch <-chan replacementResult) {
	if ch == nil {
		return
	}
	res := <-ch
	rep := &journal.Replacement{Target: "pod/" + res.kill.Namespace + "/" + res.kill.Pod, Owner: res.kill.Owner}
	switch {
	case res.err == nil:
		rep.Ready, rep.ReplacedBy, rep.ReadyAfterSeconds = true, res.rep.Pod, res.rep.After.Seconds()
		rn.note(journal.PhaseObserve, rep.Target, "replacement "+res.rep.Pod+" ready after "+res.rep.After.Round(time.Millisecond).String(), nil)
	case errors.Is(res.err, experiments.ErrNoOwner):
		rn.note(journal.PhaseObserve, rep.Target, "bare pod: nothing replaces it", nil)
	default:
		rn.note(journal.PhaseObserve, rep.Target, "no ready replacement", res.err)
	}
	rn.rec.Replacement = rep
}
