package daemon

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
	"k8s.io/utils/clock"
)

// newEventRecorder returns client-go's asynchronous recorder for the
// daemon. A one-shot run exits right after its last Event, before the
// asynchronous recorder would send it, so it writes Events synchronously.
func newEventRecorder(ctx context.Context, o Options, oneShot bool) events.EventRecorder {
	if oneShot {
		return &syncRecorder{kube: o.Kube, clock: o.Clock, identity: o.Identity, log: o.Logger}
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: o.Kube.EventsV1()})
	broadcaster.StartRecordingToSink(ctx.Done())
	return broadcaster.NewRecorder(scheme.Scheme, "chaosd")
}

// syncRecorder creates each Event with one API call before returning, as
// its own object: unlike client-go's recorder it never merges repeats into
// a series (which keeps the first Event's note and only bumps a count), so
// the daemon also uses it for the one Event per run.
type syncRecorder struct {
	kube     kubernetes.Interface
	clock    clock.PassiveClock
	identity string
	log      *zap.Logger
	seq      atomic.Uint64 // keeps names unique within one clock tick
}

func (r *syncRecorder) Eventf(regarding, _ runtime.Object, eventtype, reason, action, note string, args ...any) {
	ref, err := reference.GetReference(scheme.Scheme, regarding)
	if err != nil {
		r.log.Warn("event not recorded: no reference", zap.String("reason", reason), zap.Error(err))
		return
	}
	ns := ref.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault // Events about cluster-scoped objects
	}
	now := r.clock.Now()
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%x.%d", ref.Name, now.UnixNano(), r.seq.Add(1))},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: "chaosd",
		ReportingInstance:   "chaosd-" + r.identity,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Note:                fmt.Sprintf(note, args...),
		Type:                eventtype,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.kube.EventsV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		r.log.Warn("event not recorded", zap.String("reason", reason), zap.Error(err))
	}
}
