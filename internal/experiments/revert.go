package experiments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
)

// Revert gives back what inj changed, retrying transient errors, and
// forgets it. Reverting twice, or reverting a fault with nothing to give
// back, is a no-op. A target deleted meanwhile counts as reverted. On error
// the injection stays active (and recorded in the cluster), and the Engine
// keeps retrying it in the background until it succeeds (WaitReverted
// waits for that).
func (e *Engine) Revert(ctx context.Context, inj *Injection) error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.reverted {
		return nil
	}
	log := e.log.With(zap.String("experiment", inj.Run.Experiment), zap.String("run", inj.Run.ID), zap.String("action", string(inj.Action)),
		zap.String("target", inj.Target.String()), zap.String("namespace", inj.Target.Namespace))
	if !inj.Reversible {
		inj.reverted = true
		if inj.DryRun {
			e.metrics.reverts.WithLabelValues(inj.Run.Experiment, string(inj.Action), resultDryRun).Inc()
			log.Info("dry run: nothing to revert")
		}
		return nil
	}
	out, err := e.revertRecord(ctx, inj.record, log)
	if err != nil {
		e.retryLater(inj, err, log)
		return fmt.Errorf("revert %s of run %s on %s: %w", inj.Action, inj.Run.ID, inj.Target, err)
	}
	e.finish(inj, out, log)
	return nil
}

// finish marks inj reverted and forgets it. The caller holds inj.mu.
func (e *Engine) finish(inj *Injection, out Outcome, log *zap.Logger) {
	inj.reverted = true
	inj.left = out.Left
	e.forget(inj.ID)
	log.Info("reverted", zap.Bool("targetGone", out.Gone), zap.Strings("notes", out.Notes))
}

// revertRecord reverts one record with retries, and counts and reports the
// result; Revert and Recover share it.
func (e *Engine) revertRecord(ctx context.Context, rec Record, log *zap.Logger) (Outcome, error) {
	count := func(result string) {
		e.metrics.reverts.WithLabelValues(rec.Intent.Experiment, string(rec.Intent.Action), result).Inc()
	}
	act, err := e.actuator(rec.Intent.Action)
	if err != nil {
		count(resultFailed)
		return Outcome{}, err
	}
	out, err := e.revertWithRetry(ctx, act, rec, log)
	if err != nil {
		count(resultFailed)
		e.emit(rec.Refs, corev1.EventTypeWarning, ReasonRevertFailed, "Revert",
			fmt.Sprintf("run %s: %v", rec.Intent.Run, err))
		return out, err
	}
	e.reportReverted(rec, out)
	return out, nil
}

// reportReverted counts a successful revert and emits its Event.
func (e *Engine) reportReverted(rec Record, out Outcome) {
	note := fmt.Sprintf("%s of run %s reverted", rec.Intent.Action, rec.Intent.Run)
	if out.Gone {
		note += "; target gone, nothing left to revert"
	}
	if len(out.Notes) > 0 {
		note += ": " + joinNotes(out.Notes)
	}
	result := resultSuccess
	if out.Gone {
		result = resultGone
	}
	e.metrics.reverts.WithLabelValues(rec.Intent.Experiment, string(rec.Intent.Action), result).Inc()
	e.emit(rec.Refs, corev1.EventTypeNormal, ReasonReverted, "Revert", note)
	e.reportLeft(rec, out.Left)
}

// reportLeft makes faults left in place loud: nobody owns them any more,
// so a Warning Event on the object, a counter and a warning log say so.
func (e *Engine) reportLeft(rec Record, left []LeftFault) {
	if len(left) == 0 {
		return
	}
	lines := make([]string, len(left))
	for i, l := range left {
		lines[i] = l.String()
	}
	e.metrics.left.WithLabelValues(rec.Intent.Experiment, string(rec.Intent.Action)).Add(float64(len(left)))
	e.emit(rec.Refs, corev1.EventTypeWarning, ReasonFaultLeft, "Revert",
		fmt.Sprintf("run %s: %s; chaosd no longer owns it, remove it by hand if it should go", rec.Intent.Run, strings.Join(lines, "; ")))
	e.log.Warn("fault left in place: changed by another writer while held", zap.String("experiment", rec.Intent.Experiment),
		zap.String("run", rec.Intent.Run), zap.String("action", string(rec.Intent.Action)), zap.Strings("left", lines))
}

func (e *Engine) forget(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.active[id]; ok {
		delete(e.active, id)
		e.metrics.active.Dec()
		close(e.changed)
		e.changed = make(chan struct{})
	}
}

// RevertAll reverts every active injection of this Engine, in parallel,
// those retried in the background included: the emergency stop and the
// SIGTERM path. Pass a context that outlives the cancelled run contexts.
func (e *Engine) RevertAll(ctx context.Context) error {
	active := e.Active()
	errs := make([]error, len(active))
	parallel(len(active), func(i int) { errs[i] = e.Revert(ctx, active[i]) })
	return errors.Join(errs...)
}

// parallel runs f(0..n-1) with at most revertParallelism at once.
func parallel(n int, f func(i int)) {
	sem := make(chan struct{}, revertParallelism)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}
