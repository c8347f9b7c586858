package experiments

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// AnnotationFence is set, for a moment, by the write that fences out an
// inject whose Update failed: see settleFailedWrite. It is removed at once;
// one that stays (the removal failed too) marks nothing chaosd must undo.
const AnnotationFence = "chaosd.io/fence"

// fenceAttempts bounds settleFailedWrite's reads and writes; each also ends
// with landedCheckTimeout.
const fenceAttempts = 10

// ErrLandingUnknown: chaosd could not tell whether an Update that failed was
// applied, and could not stop it from being applied later.
var ErrLandingUnknown = errors.New("could not tell whether the failed write landed")

// writeTarget is the one object a failed inject Update wrote: how to read it
// and how to update it.
type writeTarget[T metav1.Object] struct {
	get    func(context.Context) (T, error)
	update func(context.Context, T) (T, error)
	// copy returns a deep copy, to change without touching the original.
	copy func(T) T
	// backoff paces the reads after an error.
	backoff wait.Backoff
}

// settleFailedWrite decides whether an inject's Update that failed (a lost
// response, or the run cancelled while it was in flight) was applied, or
// still may be. The Update carried sentRV, the resourceVersion it was read
// at, and the API server applies it only while the object is still at that
// version. So:
//   - the object carries this injection's intent: the write landed, hold it;
//   - the object moved past sentRV: the write can no longer land;
//   - the object is still at sentRV: the write may still be in flight (a
//     cancelled request the server has not read yet, as when a proxy or a
//     slow connection holds it). A fencing Update, conditional on sentRV,
//     moves the object on: once it succeeds, the stale write must fail with
//     a conflict. It sets AnnotationFence; the next pass removes it.
//
// A single read after the failure, which is what chaosd did before, let a
// write that reached the server a moment after that read leave a fault no
// run owned.
//
// The reads and writes run on a context detached from ctx (checkContext):
// the run's cancellation is one of the failures being settled. The error is
// ErrLandingUnknown when no answer came in time. When the write landed, the
// intent is the one it wrote, with the originals to revert to.
func settleFailedWrite[T metav1.Object](ctx context.Context, w writeTarget[T], sentRV string, mine Intent) (T, Intent, bool, error) {
	var zero T
	cctx, cancel := checkContext(ctx)
	defer cancel()
	var last error
	b := w.backoff
	for i := range fenceAttempts {
		if i > 0 && last != nil {
			select {
			case <-cctx.Done():
				return zero, Intent{}, false, fmt.Errorf("%w: %w", ErrLandingUnknown, last)
			case <-time.After(b.Step()):
			}
		}
		cur, err := w.get(cctx)
		switch {
		case apierrors.IsNotFound(err):
			// Gone: an Update of it fails; a new object of that name has
			// another resourceVersion.
			return zero, Intent{}, false, nil
		case err != nil:
			last = err
			continue
		}
		last = nil
		if in, ok := landed(cur, mine); ok {
			return cur, in, true, nil
		}
		if sentRV == "" || cur.GetResourceVersion() != sentRV {
			// (An Update without a resourceVersion, which only fakes
			// send, was unconditional: nothing can fence it.)
			w.unfence(cctx, cur, mine)
			return cur, Intent{}, false, nil
		}
		fenced := w.copy(cur)
		setAnnotation(fenced, AnnotationFence, mine.Run)
		if _, err := w.update(cctx, fenced); err != nil && !apierrors.IsConflict(err) {
			last = err
		}
		// Read again: the fence (or whatever else wrote) moved the object
		// on, or the stale write landed first.
	}
	return zero, Intent{}, false, fmt.Errorf("%w after %d attempts: %w", ErrLandingUnknown, fenceAttempts, last)
}

// unfence removes this run's AnnotationFence from cur, if it has one. A
// failure is left alone: the annotation changes nothing in the cluster.
func (w writeTarget[T]) unfence(ctx context.Context, cur T, mine Intent) {
	for range fenceAttempts {
		if cur.GetAnnotations()[AnnotationFence] != mine.Run {
			return
		}
		next := w.copy(cur)
		a := next.GetAnnotations()
		delete(a, AnnotationFence)
		next.SetAnnotations(a)
		_, err := w.update(ctx, next)
		if err == nil || !apierrors.IsConflict(err) {
			return
		}
		if cur, err = w.get(ctx); err != nil {
			return
		}
	}
}

func setAnnotation(obj metav1.Object, key, value string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	obj.SetAnnotations(a)
}
