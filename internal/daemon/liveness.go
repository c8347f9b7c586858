package daemon

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
)

// recheckSlack is how long after a kept fault's writer Lease (or expiry)
// runs out recovery looks again: a Lease is alive strictly before its end.
const recheckSlack = time.Second

// onceIdentity names one chaosd once process. --identity defaults to the
// pod name or the hostname, which a daemon in the same pod (kubectl exec)
// or another once on the same CI runner shares; recovery tells processes
// apart by the writer recorded in each intent, so it must be unique.
func onceIdentity(base string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return fmt.Sprintf("%s-once-%x", base, b)
}

// holdLiveness writes this process's liveness Lease and renews it until
// releaseLiveness, so other chaosd processes leave its faults alone while it
// runs. Renewals outlive ctx: they must go on while a cancelled process
// reverts. When chaosd's namespace does not exist, no daemon runs there to
// recover anything, and the process goes on without a Lease.
func (d *daemon) holdLiveness(ctx context.Context) error {
	if err := d.alive.Acquire(ctx); apierrors.IsNotFound(err) {
		d.log.Warn("chaosd's namespace does not exist; running without a liveness lease (no daemon there recovers faults)",
			zap.String("namespace", d.o.Namespace), zap.Error(err))
		return nil
	} else if err != nil {
		return err
	}
	renewCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.alive.Run(renewCtx)
	}()
	d.stopRenew = func() { cancel(); <-done }
	return nil
}

// releaseLiveness stops renewing and deletes the Lease. Call it after this
// process's reverts: from then on its leftovers, if any, are orphans that
// any chaosd may revert at once.
func (d *daemon) releaseLiveness() {
	if d.stopRenew == nil {
		return
	}
	d.stopRenew()
	d.stopRenew = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.alive.Release(ctx); err != nil {
		d.log.Warn("liveness lease not released; it expires on its own", zap.Error(err))
	}
}

// recoverLoop recovers every RecoverEvery, and again as soon as a fault it
// kept may have become an orphan (its writer's Lease or its expiry runs
// out), so a dead process's faults do not wait for the next tick.
// recheckAt is the first pass's RecoveryReport.RecheckAt.
func (d *daemon) recoverLoop(ctx context.Context, recheckAt time.Time) {
	tick := d.o.Clock.NewTicker(d.o.RecoverEvery)
	defer tick.Stop()
	for {
		var timer clock.Timer
		var due <-chan time.Time
		if !recheckAt.IsZero() {
			timer = d.o.Clock.NewTimer(max(recheckAt.Sub(d.o.Clock.Now()), 0) + recheckSlack)
			due = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-tick.C():
		case <-due:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
		recheckAt = d.recover(ctx)
	}
}
