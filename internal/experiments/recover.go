package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

// RecoveryReport says what Recover found in the cluster and did with it.
type RecoveryReport struct {
	Found    int         `json:"found"`
	Reverted []Recovered `json:"reverted,omitempty"`
	// Kept are injections of live runs that have not expired.
	Kept   []Recovered `json:"kept,omitempty"`
	Failed []Recovered `json:"failed,omitempty"`
	// Unrestorable are faults this chaosd has no access to revert: node
	// snapshots found in namespaced mode. They are not errors of the pass
	// (nothing changes until a cluster-wide chaosd restores them), so the
	// caller reports them once, not at every pass.
	Unrestorable []Recovered `json:"unrestorable,omitempty"`
	// RecheckAt is when a kept injection may next need recovering: the
	// earliest expiry of a kept intent or of its live writer's Lease. Zero
	// when nothing was kept.
	RecheckAt time.Time `json:"recheckAt,omitzero"`
}

// Recovered is one injection found recorded in the cluster.
type Recovered struct {
	Object     string            `json:"object"` // e.g. node/n1, virtualservice/ns/name
	Run        string            `json:"run,omitempty"`
	Experiment string            `json:"experiment,omitempty"`
	Action     config.ActionType `json:"action,omitempty"`
	// By is the chaosd process that wrote the intent.
	By        string    `json:"by,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Reason is why it was reverted: "orphaned" (no live run owns it) or
	// "expired".
	Reason string   `json:"reason,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	// Left lists the faults the revert left in place (see LeftFault).
	Left []LeftFault `json:"left,omitempty"`
	Err  string      `json:"error,omitempty"`
}

// found is one recorded injection: the record to revert it with, and the
// object it was found on.
type found struct {
	object string
	rec    Record
	err    error // the intent could not be read
	// unrestorable says why this chaosd cannot revert it (namespaced mode).
	unrestorable string
}

// Recover finds every injection recorded in the cluster (VirtualServices and
// Nodes labelled chaosd.io/injected=true, and node snapshots in chaosd's
// namespace) and reverts those that no live run owns, or whose expiry has
// passed. Ownership is decided after the cluster was listed, so an intent
// written by a run still injecting is found held:
//
//   - written by this process (or by a chaosd too old to record its
//     writer): owned while this Engine holds the run (Inject in flight, or
//     injected and not yet reverted);
//   - written by another process: owned while that process is alive
//     (Options.Liveness), e.g. a `chaosd once` next to the daemon.
//
// Lists use the label selector and reverts run in parallel, so a new leader
// cleans up within seconds. Intents that cannot be read are reported as
// failed and left alone: without them chaosd cannot know what to give back.
// An intent whose writer's liveness cannot be read is kept until it expires,
// and the read error is returned.
func (e *Engine) Recover(ctx context.Context) (RecoveryReport, error) {
	all, listErr := e.findRecorded(ctx)
	now := e.clock.Now()
	rep := RecoveryReport{Found: len(all)}
	var todo []found
	var reasons []string
	var unreadable []error
	writers := map[string]writerState{}
	for _, f := range all {
		in := f.rec.Intent
		item := Recovered{Object: f.object, Run: in.Run, Experiment: in.Experiment, Action: in.Action, By: in.By, ExpiresAt: in.ExpiresAt}
		if f.unrestorable != "" {
			item.Err = f.unrestorable
			rep.Unrestorable = append(rep.Unrestorable, item)
			continue
		}
		if f.err != nil {
			item.Err = f.err.Error()
			rep.Failed = append(rep.Failed, item)
			unreadable = append(unreadable, fmt.Errorf("recover %s: %w", f.object, f.err))
			continue
		}
		owned, ownedUntil, ownerErr := e.owned(ctx, in, now, writers)
		switch {
		case ownerErr == nil && !owned:
			todo, reasons = append(todo, f), append(reasons, "orphaned")
		case !now.Before(in.ExpiresAt):
			todo, reasons = append(todo, f), append(reasons, "expired")
		default:
			if ownerErr != nil {
				item.Notes = []string{fmt.Sprintf("kept until it expires: %v", ownerErr)}
			}
			rep.Kept = append(rep.Kept, item)
			rep.RecheckAt = earliest(rep.RecheckAt, in.ExpiresAt, ownedUntil)
		}
	}
	for _, by := range slices.Sorted(maps.Keys(writers)) {
		if err := writers[by].err; err != nil {
			unreadable = append(unreadable, err)
		}
	}
	results := make([]Recovered, len(todo))
	outcomes := make([]error, len(todo))
	parallel(len(todo), func(i int) {
		f := todo[i]
		in := f.rec.Intent
		log := e.log.With(zap.String("experiment", in.Experiment), zap.String("run", in.Run), zap.String("action", string(in.Action)),
			zap.String("target", f.rec.Target.String()), zap.String("namespace", f.rec.Target.Namespace), zap.String("reason", reasons[i]))
		out, err := e.revertRecord(ctx, f.rec, log)
		results[i] = Recovered{Object: f.object, Run: in.Run, Experiment: in.Experiment, Action: in.Action,
			By: in.By, ExpiresAt: in.ExpiresAt, Reason: reasons[i], Notes: out.Notes, Left: out.Left}
		if err != nil {
			results[i].Err = err.Error()
			outcomes[i] = fmt.Errorf("recover %s of run %s: %w", f.object, in.Run, err)
			return
		}
		log.Info("recovered orphaned injection", zap.Strings("notes", out.Notes))
	})
	reverted := map[string]bool{}
	for i, r := range results {
		if outcomes[i] != nil {
			rep.Failed = append(rep.Failed, r)
			continue
		}
		rep.Reverted = append(rep.Reverted, r)
		reverted[r.Run+"|"+r.Object] = true
	}
	e.forgetRecovered(reverted)
	for _, l := range [][]Recovered{rep.Reverted, rep.Kept, rep.Failed, rep.Unrestorable} {
		slices.SortFunc(l, func(a, b Recovered) int { return strings.Compare(a.Object, b.Object) })
	}
	return rep, errors.Join(append(append(outcomes, unreadable...), listErr)...)
}

// writerState is what one recovery pass learnt about a writer's liveness.
type writerState struct {
	until time.Time
	err   error
}

// owned reports whether a live run still owns the intent in, and for
// another process's run until when its writer counts as alive (zero for
// this process's runs: they are held until reverted). writers caches
// liveness reads for one pass.
func (e *Engine) owned(ctx context.Context, in Intent, now time.Time, writers map[string]writerState) (bool, time.Time, error) {
	switch {
	case in.By == "" || in.By == e.identity:
		return e.holds(in.Run), time.Time{}, nil
	case e.liveness == nil:
		return false, time.Time{}, nil
	}
	w, ok := writers[in.By]
	if !ok {
		w.until, w.err = e.liveness.AliveUntil(ctx, in.By)
		if w.err != nil {
			w.err = fmt.Errorf("liveness of chaosd process %s: %w", in.By, w.err)
		}
		writers[in.By] = w
	}
	if w.err != nil {
		return false, time.Time{}, w.err
	}
	return now.Before(w.until), w.until, nil
}

// earliest returns the earliest non-zero time of ts, zero if none.
func earliest(ts ...time.Time) time.Time {
	var first time.Time
	for _, t := range ts {
		if !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}

// findRecorded lists every object carrying a chaosd intent. In namespaced
// mode it lists VirtualServices per watched namespace and no nodes; a node
// snapshot found in chaosd's namespace (left by a cluster-wide chaosd) is
// reported as failed, since nodes cannot be restored without access to them.
func (e *Engine) findRecorded(ctx context.Context) ([]found, error) {
	opts := metav1.ListOptions{LabelSelector: injectedSelector}
	var all []found
	var errs []error
	if e.istio != nil {
		scopes := []string{metav1.NamespaceAll}
		if e.watched != nil {
			scopes = e.watched
		}
		for _, ns := range scopes {
			vss, err := e.recordedVirtualServices(ctx, ns, opts)
			all = append(all, vss...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if e.watched == nil {
		nodes, err := e.kube.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("list nodes: %w", err))
		} else {
			for i := range nodes.Items {
				n := &nodes.Items[i]
				all = append(all, recorded("node/"+n.Name, n, targets.Target{Kind: config.TargetNode, Name: n.Name}, nodeRef(n), config.ActionNodeCordon, config.ActionNodeDrain))
			}
		}
	}
	cms, err := e.kube.CoreV1().ConfigMaps(e.namespace).List(ctx, opts)
	if err != nil {
		errs = append(errs, fmt.Errorf("list configmaps in %s: %w", e.namespace, err))
	} else {
		for i := range cms.Items {
			f := recordedSnapshot(&cms.Items[i])
			if f.err == nil && e.watched != nil {
				f.unrestorable = "a node snapshot cannot be restored in namespaced mode (no access to nodes); restore it with a cluster-wide chaosd"
			}
			all = append(all, f)
		}
	}
	return all, errors.Join(errs...)
}

// recordedVirtualServices lists the VirtualServices of one namespace ("" for
// all) that carry a chaosd intent.
func (e *Engine) recordedVirtualServices(ctx context.Context, namespace string, opts metav1.ListOptions) ([]found, error) {
	list, err := e.istio.NetworkingV1().VirtualServices(namespace).List(ctx, opts)
	switch {
	case apierrors.IsNotFound(err): // Istio's CRDs are not installed
		return nil, nil
	case err != nil && namespace == metav1.NamespaceAll:
		return nil, fmt.Errorf("list virtualservices: %w", err)
	case err != nil:
		return nil, fmt.Errorf("list virtualservices in %s: %w", namespace, err)
	}
	var out []found
	for _, vs := range list.Items {
		t := targets.Target{Kind: config.TargetVirtualService, Namespace: vs.Namespace, Name: vs.Name}
		out = append(out, recorded(vsName(vs), vs, t, vsRef(vs), config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault))
	}
	return out, nil
}

// recorded reads the intent on obj; an intent whose action cannot live on
// such an object is refused rather than handed to the wrong actuator.
func recorded(object string, obj metav1.Object, t targets.Target, ref corev1.ObjectReference, actions ...config.ActionType) found {
	in, ok, err := readIntent(obj)
	switch {
	case err != nil:
	case !ok:
		err = fmt.Errorf("labelled %s but has no %s annotation", LabelInjected, AnnotationInjection)
	case !slices.Contains(actions, in.Action):
		err = fmt.Errorf("intent of action %q does not belong on %s", in.Action, object)
	}
	return found{object: object, err: err, rec: Record{Target: t, Intent: in, Applied: true, Reversible: true, Refs: []corev1.ObjectReference{ref}}}
}

// recordedSnapshot turns a node-delete snapshot into a record that restores
// the node.
func recordedSnapshot(cm *corev1.ConfigMap) found {
	f := recorded(fmt.Sprintf("configmap/%s/%s", cm.Namespace, cm.Name), cm, targets.Target{Kind: config.TargetNode}, corev1.ObjectReference{}, config.ActionNodeDelete)
	if f.err != nil {
		return f
	}
	var snap NodeSnapshot
	if err := json.Unmarshal(f.rec.Intent.Original, &snap); err != nil || snap.Node == "" {
		f.err = fmt.Errorf("snapshot intent names no node: %v", err)
		return f
	}
	f.object = "node/" + snap.Node
	f.rec.Target.Name = snap.Node
	f.rec.Refs = []corev1.ObjectReference{{APIVersion: "v1", Kind: "Node", Name: snap.Node}}
	return f
}

// forgetRecovered drops active injections all of whose objects Recover
// reverted, so they are not reverted a second time.
func (e *Engine) forgetRecovered(reverted map[string]bool) {
	if len(reverted) == 0 {
		return
	}
	for _, inj := range e.Active() {
		keys := objectKeys(inj.record)
		all := len(keys) > 0
		for _, k := range keys {
			all = all && reverted[inj.Run.ID+"|"+k]
		}
		if !all || !inj.mu.TryLock() { // a running Revert finishes it itself
			continue
		}
		inj.reverted = true
		e.forget(inj.ID)
		inj.mu.Unlock()
	}
}

// objectKeys names the objects a record's intent lives on, as Recover names
// them.
func objectKeys(r Record) []string {
	switch r.Intent.Action {
	case config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault:
		return []string{fmt.Sprintf("virtualservice/%s/%s", r.Target.Namespace, r.Target.Name)}
	case config.ActionNodeCordon, config.ActionNodeDrain, config.ActionNodeDelete:
		var keys []string
		for _, n := range nodesOf(Spec{Target: r.Target}) {
			keys = append(keys, "node/"+n)
		}
		return keys
	}
	return nil
}
