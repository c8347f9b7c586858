package experiments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/util/wait"
)

// A revert that fails even after Revert's bounded retries (an API brownout
// during a halt) is not left until its intent expires: the Engine hands the
// injection to a background retrier of its own, which tries again on the
// Engine's clock until the revert succeeds or the Engine is closed. The
// injection stays active meanwhile, so Active, RevertAll and recovery's
// ownership still see it.

// DefaultRetryBackoff paces the background retries: 1 s, then every 2 s for
// as long as it takes, so a fault is gone within about 2 s of the API
// server coming back. No jitter: the retries of one process are few.
var DefaultRetryBackoff = wait.Backoff{Duration: time.Second, Factor: 2, Steps: 2, Cap: 2 * time.Second}

const (
	// retryAttemptTimeout bounds one background attempt, so a request
	// hanging on a dead connection cannot delay the attempt that follows
	// the API server's return.
	retryAttemptTimeout = 5 * time.Second
	// permanentRetryEvery paces the retries of errors that need a human
	// first (RBAC refused, a node lost): retried, not hammered.
	permanentRetryEvery = time.Minute
)

// retryLater starts the background retrier for inj, whose revert just
// failed with err. The caller holds inj.mu.
func (e *Engine) retryLater(inj *Injection, err error, log *zap.Logger) {
	if inj.retrying {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		log.Error("revert failed after the engine closed; the fault stays recorded in the cluster for recovery", zap.Error(err))
		return
	}
	inj.retrying = true
	e.metrics.pending.Inc()
	e.retries.Add(1)
	go e.retry(inj, err, log)
}

// retry retries inj's revert until it succeeds, someone else reverts it,
// or the Engine is closed.
func (e *Engine) retry(inj *Injection, err error, log *zap.Logger) {
	defer e.retries.Done()
	b := e.retryBackoff
	for attempt := 1; ; attempt++ {
		d := b.Step()
		if !transient(err) {
			d = max(d, permanentRetryEvery)
		}
		t := e.clock.NewTimer(d)
		select {
		case <-e.stop.Done():
			t.Stop()
			e.metrics.pending.Dec()
			return
		case <-t.C():
		}
		var done bool
		if done, err = e.retryOnce(inj, attempt, log); done {
			return
		}
	}
}

// retryOnce makes one background attempt; done is true once nothing is
// left to retry. The pending gauge drops before the injection is forgotten,
// so whoever WaitReverted wakes sees it settled.
func (e *Engine) retryOnce(inj *Injection, attempt int, log *zap.Logger) (done bool, err error) {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.reverted {
		e.metrics.pending.Dec()
		return true, nil
	}
	count := func(result string) {
		e.metrics.retries.WithLabelValues(inj.Run.Experiment, string(inj.Action), result).Inc()
	}
	ctx, cancel := context.WithTimeout(e.stop, retryAttemptTimeout)
	defer cancel()
	act, err := e.actuator(inj.record.Intent.Action)
	if err == nil {
		var out Outcome
		if out, err = safeRevert(ctx, act, inj.record); err == nil {
			count(resultSuccess)
			e.metrics.pending.Dec()
			e.reportReverted(inj.record, out)
			e.finish(inj, out, log.With(zap.Int("attempt", attempt)))
			return true, nil
		}
	}
	count(resultFailed)
	log.Warn("revert retry failed", zap.Int("attempt", attempt), zap.Bool("transient", transient(err)), zap.Error(err))
	return false, err
}

// WaitReverted waits until this Engine holds no fault: every revert,
// including those retried in the background, has succeeded. When ctx ends
// first it names the faults still held.
func (e *Engine) WaitReverted(ctx context.Context) error {
	for {
		e.mu.Lock()
		n, changed := len(e.active), e.changed
		e.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			var held []string
			for _, inj := range e.Active() {
				held = append(held, fmt.Sprintf("%s of run %s on %s", inj.Action, inj.Run.ID, inj.Target))
			}
			if len(held) == 0 {
				return nil
			}
			return fmt.Errorf("%d fault(s) still held (%s): %w", len(held), strings.Join(held, "; "), ctx.Err())
		}
	}
}

// Close stops the background retries and waits for them to end. Faults
// still held stay recorded in the cluster, where recovery finds them.
// Revert and RevertAll still work after Close but no longer retry in the
// background.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stopRetries()
	e.retries.Wait()
}
