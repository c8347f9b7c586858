package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrLostLeadership is returned when another replica took the lease while
// this one was leading. The caller should exit: its runs were cancelled and
// reverted, and the new leader recovers anything left behind.
var ErrLostLeadership = errors.New("lost leadership")

// LeaderOptions configures leader election on a Lease. Durations default to
// client-go's standard 15s / 10s / 2s.
type LeaderOptions struct {
	Kube      kubernetes.Interface
	Namespace string
	LeaseName string
	// Identity must be unique per replica (the pod name).
	Identity      string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	Logger        *zap.Logger
}

// RunAsLeader campaigns for the Lease and calls lead while this replica
// leads. lead must return only once it has stopped injecting and reverted
// its faults. The order matters, because client-go's ReleaseOnCancel would
// otherwise release the lease while faults are still being reverted:
//   - when ctx ends, lead's context is cancelled first, and the lease is
//     released only after lead has returned;
//   - when leadership is lost, lead's context is cancelled at once and
//     RunAsLeader returns ErrLostLeadership after lead has returned.
//
// It returns nil when ctx ended.
func RunAsLeader(ctx context.Context, o LeaderOptions, lead func(ctx context.Context)) error {
	if o.Identity == "" || o.LeaseName == "" || o.Namespace == "" {
		return errors.New("leader election needs a namespace, a lease name and a unique identity")
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	log := o.Logger.With(zap.String("lease", o.Namespace+"/"+o.LeaseName), zap.String("identity", o.Identity))
	elect := func(electorCtx context.Context, cb leaderelection.LeaderCallbacks) error {
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.LeaseName},
				Client:     o.Kube.CoordinationV1(),
				LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity},
			},
			LeaseDuration:   orDefault(o.LeaseDuration, 15*time.Second),
			RenewDeadline:   orDefault(o.RenewDeadline, 10*time.Second),
			RetryPeriod:     orDefault(o.RetryPeriod, 2*time.Second),
			ReleaseOnCancel: true,
			Name:            o.LeaseName,
			Callbacks:       cb,
		})
		if err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
		elector.Run(electorCtx)
		return nil
	}
	return runAsLeader(ctx, log, o.Identity, elect, lead)
}

// elector campaigns until ctx ends or leadership is lost, as client-go's
// LeaderElector.Run with ReleaseOnCancel does: OnStartedLeading runs in its
// own goroutine with a context that ends on either, and the lease is
// released when ctx ends.
type elector func(ctx context.Context, cb leaderelection.LeaderCallbacks) error

// runAsLeader is RunAsLeader around any elector: the ordering chaosd adds
// to client-go's, which tests drive with a fake elector.
func runAsLeader(ctx context.Context, log *zap.Logger, identity string, elect elector, lead func(ctx context.Context)) error {
	// The elector's context outlives ctx so the lease is released only after lead returned.
	electorCtx, stopElector := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElector()

	var (
		mu       sync.Mutex
		started  bool
		leadDone = make(chan struct{})
	)
	stopBeforeLeading := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !started {
			stopElector()
		}
	})
	defer stopBeforeLeading()

	err := elect(electorCtx, leaderelection.LeaderCallbacks{
		OnStartedLeading: func(leaderCtx context.Context) {
			mu.Lock()
			started = true
			mu.Unlock()
			defer close(leadDone)
			defer stopElector() // release only after lead has returned
			leadCtx, cancel := context.WithCancel(leaderCtx)
			defer cancel()
			stopWithCaller := context.AfterFunc(ctx, cancel)
			defer stopWithCaller()
			log.Info("became leader")
			lead(leadCtx)
			log.Info("stopped leading work")
		},
		// Runs even when this replica never led; nothing to do then.
		OnStoppedLeading: func() {},
		OnNewLeader: func(id string) {
			if id != identity {
				log.Info("another replica leads", zap.String("leader", id))
			}
		},
	})
	if err != nil {
		return err
	}

	mu.Lock()
	led := started
	mu.Unlock()
	if !led {
		return nil
	}
	<-leadDone
	if ctx.Err() != nil {
		log.Info("released leadership on shutdown")
		return nil
	}
	log.Warn("lost leadership")
	return ErrLostLeadership
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
