package experiments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// revertWithRetry reverts with bounded exponential backoff on transient
// errors (apiserver unavailable, timeouts, throttling, conflicts that
// outlasted the actuator's own conflict retries). Waits use the engine's
// clock, so tests drive them.
func (e *Engine) revertWithRetry(ctx context.Context, act Actuator, rec Record, log *zap.Logger) (Outcome, error) {
	b := e.revertBackoff
	attempts := max(b.Steps, 1)
	for i := 1; ; i++ {
		out, err := safeRevert(ctx, act, rec)
		if err == nil || !transient(err) || i >= attempts {
			return out, err
		}
		d := b.Step()
		log.Warn("revert failed, retrying", zap.Int("attempt", i), zap.Duration("backoff", d), zap.Error(err))
		if d <= 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-e.clock.After(d):
		}
	}
}

// landedCheckTimeout bounds the read, after a failed write, that tells
// whether the write was applied anyway.
const landedCheckTimeout = 10 * time.Second

// checkContext is the context for that read. It is detached from ctx: the
// run's cancellation (a halt, SIGTERM, a lost lease) is itself a way a write
// can fail after the API server applied it, and the check must still run.
func checkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), landedCheckTimeout)
}

// transient reports whether err may go away by itself.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return apierrors.IsConflict(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) ||
		apierrors.IsInternalError(err) || apierrors.IsUnexpectedServerError(err) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		utilnet.IsTimeout(err)
}

// safeInject and safeRevert turn an actuator's panic into an error: a crash
// mid-fault would skip the revert, the worst failure a chaos tool has.
func safeInject(ctx context.Context, act Actuator, s Spec) (rec Record, err error) {
	defer recoverInto(&err)
	return act.Inject(ctx, s)
}

func safeRevert(ctx context.Context, act Actuator, r Record) (out Outcome, err error) {
	defer recoverInto(&err)
	return act.Revert(ctx, r)
}

func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("actuator panicked: %v", r)
	}
}
