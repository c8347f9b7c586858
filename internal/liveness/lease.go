// Package liveness tells whether a chaosd process is still running. Every
// process that can inject (chaosd run and chaosd once) holds a Lease in
// chaosd's namespace named from its identity and renews it; recovery reads
// the Lease of an intent's writer to leave a live writer's faults to it.
//
// It owns only those Leases: it never reads or reverts faults, and it is not
// leader election (that Lease says who may inject, this one who still can
// revert).
package liveness

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"go.uber.org/zap"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// Defaults for Options fields left zero: a writer counts as gone 15 s after
// its last renewal (leader election's default lease duration, so a crashed
// leader's faults are recovered about when its leadership is taken over),
// and two renewals may fail before anyone touches its faults.
const (
	DefaultDuration   = 15 * time.Second
	DefaultRenewEvery = 5 * time.Second
)

// LabelLiveness marks chaosd's liveness Leases.
const LabelLiveness = "chaosd.io/liveness"

const (
	namePrefix = "chaosd-alive-"
	maxNameLen = 63
)

// Options configures a Lease.
type Options struct {
	Kube kubernetes.Interface
	// Namespace is chaosd's own.
	Namespace string
	// Identity is this process's, as recorded in its intents (Intent.By);
	// unique per process.
	Identity   string
	Duration   time.Duration
	RenewEvery time.Duration
	Clock      clock.WithTicker
	Logger     *zap.Logger
}

// Lease is one process's liveness Lease, and the reader of the others'.
type Lease struct {
	kube       kubernetes.Interface
	namespace  string
	identity   string
	name       string
	duration   time.Duration
	renewEvery time.Duration
	clock      clock.WithTicker
	log        *zap.Logger
}

// New builds a Lease; nothing is written until Acquire.
func New(o Options) (*Lease, error) {
	if o.Kube == nil || o.Namespace == "" || o.Identity == "" {
		return nil, errors.New("liveness: a Kube client, chaosd's namespace and an identity are required")
	}
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.RenewEvery <= 0 {
		o.RenewEvery = DefaultRenewEvery
	}
	if o.RenewEvery >= o.Duration {
		return nil, fmt.Errorf("liveness: renewing every %s cannot keep a %s Lease alive", o.RenewEvery, o.Duration)
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	name := Name(o.Identity)
	return &Lease{kube: o.Kube, namespace: o.Namespace, identity: o.Identity, name: name, duration: o.Duration,
		renewEvery: o.RenewEvery, clock: o.Clock, log: o.Logger.With(zap.String("lease", o.Namespace+"/"+name))}, nil
}

// Name is the Lease name of a process identity: a valid object name, with a
// hash of the identity when it had to be changed to become one, so two
// identities never share a Lease.
func Name(identity string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(identity))
	clean = strings.Trim(clean, "-")
	name := namePrefix + clean
	if clean == identity && len(name) <= maxNameLen {
		return name
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(identity))
	suffix := fmt.Sprintf("-%08x", h.Sum32())
	return strings.TrimRight(name[:min(len(name), maxNameLen-len(suffix))], "-") + suffix
}

// Acquire writes this process's Lease, taking it over from an earlier
// process of the same identity (a restarted container). Call it before the
// first injection: until it succeeds, other processes take this one's
// faults for orphans.
func (l *Lease) Acquire(ctx context.Context) error {
	if err := l.renew(ctx); err != nil {
		return fmt.Errorf("hold liveness lease %s/%s: %w", l.namespace, l.name, err)
	}
	l.log.Info("liveness lease held", zap.Duration("duration", l.duration))
	return nil
}

// Run renews the Lease every RenewEvery until ctx ends. A failed renewal is
// logged and retried at the next tick: after Duration without one, other
// processes may revert this one's faults, which ends them early but leaves
// nothing behind.
func (l *Lease) Run(ctx context.Context) {
	t := l.clock.NewTicker(l.renewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			if err := l.renew(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("liveness lease renewal failed", zap.Error(err))
			}
		}
	}
}

func (l *Lease) renew(ctx context.Context) error {
	now := metav1.NewMicroTime(l.clock.Now())
	leases := l.kube.CoordinationV1().Leases(l.namespace)
	cur, err := leases.Get(ctx, l.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: l.name, Namespace: l.namespace, Labels: map[string]string{LabelLiveness: "true"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(l.identity), LeaseDurationSeconds: ptr.To(int32(l.duration / time.Second)),
				AcquireTime: &now, RenewTime: &now},
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	next := cur.DeepCopy()
	if next.Spec.HolderIdentity == nil || *next.Spec.HolderIdentity != l.identity {
		next.Spec.HolderIdentity, next.Spec.AcquireTime = ptr.To(l.identity), &now
	}
	next.Spec.LeaseDurationSeconds = ptr.To(int32(l.duration / time.Second))
	next.Spec.RenewTime = &now
	_, err = leases.Update(ctx, next, metav1.UpdateOptions{})
	return err
}

// Release deletes the Lease: call it at a clean exit, after this process's
// reverts, so its leftovers are recovered at once rather than after
// Duration.
func (l *Lease) Release(ctx context.Context) error {
	err := l.kube.CoordinationV1().Leases(l.namespace).Delete(ctx, l.name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("release liveness lease %s/%s: %w", l.namespace, l.name, err)
	}
	l.log.Info("liveness lease released")
	return nil
}

// AliveUntil returns when the process with this identity stops counting
// as alive unless it renews its Lease: the last renewal plus the Lease's
// duration. It is the zero time when the Lease is missing (the process
// released it at exit, or predates liveness Leases) or names another
// holder.
func (l *Lease) AliveUntil(ctx context.Context, identity string) (time.Time, error) {
	name := Name(identity)
	lease, err := l.kube.CoordinationV1().Leases(l.namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read liveness lease %s/%s: %w", l.namespace, name, err)
	}
	s := lease.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity != identity || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return time.Time{}, nil
	}
	return s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second), nil
}
