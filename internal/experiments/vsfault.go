package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

	"github.com/chaosd/chaosd/internal/crashpoint"
)

// httpFault injects Istio fault injection (abort and/or fixed delay) into the
// HTTP routes of a VirtualService: http-abort, http-delay and http-fault.
//
// Writes are Get → modify → Update with optimistic concurrency, never a
// strategic merge patch (the real API server rejects it on custom
// resources). The intent travels in the same Update as the fault.
type httpFault struct {
	istio   istioclient.Interface
	backoff wait.Backoff // for conflicts
}

var _ Actuator = (*httpFault)(nil)

// RouteReport lists the routes an HTTP fault was injected into.
type RouteReport struct {
	Routes []string `json:"routes"`
	// Hosts are the VirtualService's hosts, which landing queries name.
	Hosts []string `json:"hosts,omitempty"`
}

func (a *httpFault) Plan(ctx context.Context, s Spec) (Plan, error) {
	vs, err := a.get(ctx, s.Target.Namespace, s.Target.Name)
	if err != nil {
		return Plan{}, fmt.Errorf("plan %s fault on virtualservice %s/%s: %w", s.Action.Type, s.Target.Namespace, s.Target.Name, err)
	}
	next, _, err := a.desired(vs, s)
	if err != nil {
		return Plan{}, fmt.Errorf("plan %s fault on virtualservice %s/%s: %w", s.Action.Type, s.Target.Namespace, s.Target.Name, err)
	}
	d, err := diff(vs, next)
	if err != nil {
		return Plan{}, err
	}
	return Plan{Changes: []Change{{Verb: "update", Object: vsName(vs), Diff: d}}}, nil
}

func (a *httpFault) Inject(ctx context.Context, s Spec) (Record, error) {
	var rec Record
	sent, sentRV := false, "" // an Update went out at this resourceVersion: a failure may still land
	err := retry.RetryOnConflict(a.backoff, func() error {
		vs, err := a.get(ctx, s.Target.Namespace, s.Target.Name)
		if err != nil {
			return err
		}
		next, in, err := a.desired(vs, s)
		if err != nil {
			return err
		}
		crashpoint.Hit(CrashVSInjectRead)
		sent, sentRV = true, vs.ResourceVersion
		updated, err := a.istio.NetworkingV1().VirtualServices(vs.Namespace).Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
		if err != nil {
			return err
		}
		rec = vsRecord(s, in, updated)
		return nil
	})
	if err != nil && sent {
		vs, in, ok, settleErr := settleFailedWrite(ctx, a.writeTarget(s), sentRV, s.Intent)
		if ok {
			return vsRecord(s, in, vs), nil
		}
		err = errors.Join(err, settleErr)
	}
	if err != nil {
		return Record{}, fmt.Errorf("inject %s fault on virtualservice %s/%s: %w", s.Action.Type, s.Target.Namespace, s.Target.Name, err)
	}
	crashpoint.Hit(CrashVSInjectWrite)
	return rec, nil
}

// writeTarget is the VirtualService an Inject writes, for settleFailedWrite.
func (a *httpFault) writeTarget(s Spec) writeTarget[*istiov1.VirtualService] {
	vss := a.istio.NetworkingV1().VirtualServices(s.Target.Namespace)
	return writeTarget[*istiov1.VirtualService]{
		get: func(ctx context.Context) (*istiov1.VirtualService, error) {
			return a.get(ctx, s.Target.Namespace, s.Target.Name)
		},
		update: func(ctx context.Context, vs *istiov1.VirtualService) (*istiov1.VirtualService, error) {
			return vss.Update(ctx, vs, metav1.UpdateOptions{FieldManager: FieldManager})
		},
		copy:    (*istiov1.VirtualService).DeepCopy,
		backoff: a.backoff,
	}
}

func vsRecord(s Spec, in Intent, vs *istiov1.VirtualService) Record {
	var orig vsOriginal
	_ = json.Unmarshal(in.Original, &orig) // encoded by desired
	report := &RouteReport{Hosts: vs.Spec.Hosts}
	for _, rf := range orig.Routes {
		report.Routes = append(report.Routes, rf.label())
	}
	return Record{Target: s.Target, Intent: in, Applied: true, Reversible: true, Refs: []corev1.ObjectReference{vsRef(vs)}, Detail: report}
}

// desired returns vs with the fault and the intent applied, and the intent.
func (a *httpFault) desired(vs *istiov1.VirtualService, s Spec) (*istiov1.VirtualService, Intent, error) {
	if cur, found, err := readIntent(vs); found {
		if err != nil {
			return nil, Intent{}, fmt.Errorf("%w (unreadable): %w", ErrAlreadyInjected, err)
		}
		return nil, Intent{}, fmt.Errorf("%w (run %s)", ErrAlreadyInjected, cur.Run)
	}
	abort, delay := s.Action.HTTPFault()
	if abort == nil && delay == nil {
		return nil, Intent{}, fmt.Errorf("action %s defines no abort or delay", s.Action.Type)
	}
	next := vs.DeepCopy()
	routes := injectRoutes(next.Spec.Http, next.Namespace, abort, delay, s.Action.Route)
	if len(routes) == 0 {
		if r := s.Action.Route; r != nil {
			return nil, Intent{}, fmt.Errorf("%w host %q subset %q", ErrNoMatchingRoute, r.Host, r.Subset)
		}
		return nil, Intent{}, ErrNoMatchingRoute
	}
	in, err := s.Intent.withOriginal(vsOriginal{Routes: routes})
	if err != nil {
		return nil, Intent{}, err
	}
	if err := writeIntent(next, in); err != nil {
		return nil, Intent{}, err
	}
	return next, in, nil
}

func (a *httpFault) Revert(ctx context.Context, r Record) (Outcome, error) {
	ns, name := r.Target.Namespace, r.Target.Name
	var out Outcome
	err := retry.RetryOnConflict(a.backoff, func() error {
		out = Outcome{}
		vs, err := a.get(ctx, ns, name)
		if apierrors.IsNotFound(err) {
			out.Gone = true
			return nil
		}
		if err != nil {
			return err
		}
		in, ours, err := revertIntent(vs, r.Intent)
		if err != nil {
			return err
		}
		if !ours {
			out.note("virtualservice carries the intent of run %s; left as is", in.Run)
			return nil
		}
		var orig vsOriginal
		if len(in.Original) > 0 {
			if err := json.Unmarshal(in.Original, &orig); err != nil {
				return fmt.Errorf("decode original routes: %w", err)
			}
		}
		next := vs.DeepCopy()
		changed := restoreRoutes(next.Spec.Http, orig.Routes, &out)
		for i := range out.Left {
			out.Left[i].Object, out.Left[i].ChangedBy = vsName(vs), lastRoutesWriter(vs)
		}
		clearIntent(next)
		if !changed && !hasIntentMarks(vs) {
			return nil
		}
		crashpoint.Hit(CrashVSRevertRead)
		_, err = a.istio.NetworkingV1().VirtualServices(ns).Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
	if err != nil {
		return out, fmt.Errorf("revert %s fault on %s/%s: %w", r.Intent.Action, ns, name, err)
	}
	crashpoint.Hit(CrashVSRevertWrite)
	return out, nil
}

// FieldManager is the manager chaosd's writes are recorded under in
// managedFields.
const FieldManager = "chaosd"

// lastRoutesWriter names the field manager, other than chaosd, that last
// wrote the VirtualService's HTTP routes, from managedFields: Istio's
// schema makes the route list atomic, so whoever changed a route's fault
// owns the list.
func lastRoutesWriter(vs *istiov1.VirtualService) string {
	who, at := "", time.Time{}
	for _, mf := range vs.ManagedFields {
		if mf.Manager == FieldManager || mf.FieldsV1 == nil || !bytes.Contains(mf.FieldsV1.Raw, []byte(`"f:http"`)) {
			continue
		}
		if t := mf.Time; who == "" || (t != nil && t.After(at)) {
			who = mf.Manager
			if t != nil {
				at = t.Time
			}
		}
	}
	if who == "" {
		return "an unknown writer"
	}
	return who
}

func (a *httpFault) get(ctx context.Context, ns, name string) (*istiov1.VirtualService, error) {
	return a.istio.NetworkingV1().VirtualServices(ns).Get(ctx, name, metav1.GetOptions{})
}

// hasIntentMarks reports whether obj carries chaosd's annotation or label.
func hasIntentMarks(obj metav1.Object) bool {
	_, a := obj.GetAnnotations()[AnnotationInjection]
	_, l := obj.GetLabels()[LabelInjected]
	return a || l
}

func vsName(vs *istiov1.VirtualService) string {
	return fmt.Sprintf("virtualservice/%s/%s", vs.Namespace, vs.Name)
}

func vsRef(vs *istiov1.VirtualService) corev1.ObjectReference {
	return corev1.ObjectReference{
		APIVersion: "networking.istio.io/v1", Kind: "VirtualService",
		Namespace: vs.Namespace, Name: vs.Name, UID: vs.UID, ResourceVersion: vs.ResourceVersion,
	}
}
