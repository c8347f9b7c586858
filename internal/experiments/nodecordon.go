package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/chaosd/chaosd/internal/crashpoint"
)

// nodeCordon marks nodes unschedulable (node-cordon, on a node or a zone).
// It records on each node whether it was unschedulable before, so the revert
// uncordons only what chaosd cordoned.
type nodeCordon struct {
	nodes *nodeWriter
}

var _ Actuator = (*nodeCordon)(nil)

func (a *nodeCordon) Plan(ctx context.Context, s Spec) (Plan, error) {
	return a.nodes.planCordon(ctx, s)
}

func (a *nodeCordon) Inject(ctx context.Context, s Spec) (Record, error) {
	return a.nodes.cordonAll(ctx, s)
}

func (a *nodeCordon) Revert(ctx context.Context, r Record) (Outcome, error) {
	return a.nodes.uncordonAll(ctx, r)
}

// NodeReport is the journal record of a node fault.
type NodeReport struct {
	Nodes []NodeState `json:"nodes"`
	// Evicted and BlockedByPDB list pods (namespace/name) of a drain.
	Evicted      []string `json:"evicted,omitempty"`
	BlockedByPDB []string `json:"blockedByPDB,omitempty"`
	Warnings     string   `json:"warnings,omitempty"`
}

// NodeState is one node's state before chaosd touched it.
type NodeState struct {
	Name             string `json:"name"`
	WasUnschedulable bool   `json:"wasUnschedulable"`
}

// nodeOriginal is the Intent.Original of a cordon or drain.
type nodeOriginal struct {
	WasUnschedulable bool `json:"wasUnschedulable"`
}

// nodeWriter cordons and uncordons nodes with the intent recorded in the
// same Update; node-cordon and node-drain share it.
type nodeWriter struct {
	kube    kubernetes.Interface
	backoff wait.Backoff // for conflicts
}

func (w *nodeWriter) planCordon(ctx context.Context, s Spec) (Plan, error) {
	var p Plan
	for _, name := range nodesOf(s) {
		node, err := w.kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return Plan{}, fmt.Errorf("plan cordon of node %s: %w", name, err)
		}
		next, _, err := cordoned(node, s.Intent)
		if err != nil {
			return Plan{}, fmt.Errorf("plan cordon of node %s: %w", name, err)
		}
		d, err := diff(node, next)
		if err != nil {
			return Plan{}, err
		}
		p.Changes = append(p.Changes, Change{Verb: "update", Object: "node/" + name, Diff: d})
	}
	return p, nil
}

// cordonAll cordons every node of the target. On failure it uncordons the
// nodes it already cordoned; only if that fails too does it return an
// Applied record (the intents stay on the nodes for recovery).
func (w *nodeWriter) cordonAll(ctx context.Context, s Spec) (Record, error) {
	report := &NodeReport{}
	rec := Record{Target: s.Target, Intent: s.Intent, Reversible: true, Detail: report}
	for _, name := range nodesOf(s) {
		if err := ctx.Err(); err != nil && rec.Applied {
			// Cancelled mid-zone: hold what landed, touch no more nodes.
			return rec, fmt.Errorf("cordon node %s: %w", name, err)
		}
		if rec.Applied {
			crashpoint.Hit(CrashNodeInjectMid)
		}
		node, was, err := w.cordon(ctx, name, s.Intent)
		if err != nil {
			err = fmt.Errorf("cordon node %s: %w", name, err)
			if !rec.Applied {
				return Record{}, err
			}
			if _, rbErr := w.uncordonAll(ctx, rec); rbErr != nil {
				return rec, errors.Join(err, fmt.Errorf("roll back: %w", rbErr))
			}
			return Record{}, err
		}
		rec.Applied = true
		rec.Refs = append(rec.Refs, nodeRef(node))
		report.Nodes = append(report.Nodes, NodeState{Name: name, WasUnschedulable: was})
	}
	crashpoint.Hit(CrashNodeInjectWrite)
	return rec, nil
}

// cordon marks one node unschedulable and records the intent on it.
func (w *nodeWriter) cordon(ctx context.Context, name string, in Intent) (*corev1.Node, bool, error) {
	var updated *corev1.Node
	var was bool
	sent, sentRV := false, "" // an Update went out at this resourceVersion: a failure may still land
	err := retry.RetryOnConflict(w.backoff, func() error {
		node, err := w.kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		next, wasUnschedulable, err := cordoned(node, in)
		if err != nil {
			return err
		}
		crashpoint.Hit(CrashNodeInjectRead)
		sent, sentRV = true, node.ResourceVersion
		updated, err = w.kube.CoreV1().Nodes().Update(ctx, next, metav1.UpdateOptions{})
		was = wasUnschedulable
		return err
	})
	if err != nil && sent {
		node, cur, ok, settleErr := settleFailedWrite(ctx, w.writeTarget(name), sentRV, in)
		if ok {
			var orig nodeOriginal
			_ = json.Unmarshal(cur.Original, &orig) // encoded by cordoned
			return node, orig.WasUnschedulable, nil
		}
		err = errors.Join(err, settleErr)
	}
	return updated, was, err
}

// writeTarget is the node a cordon writes, for settleFailedWrite.
func (w *nodeWriter) writeTarget(name string) writeTarget[*corev1.Node] {
	nodes := w.kube.CoreV1().Nodes()
	return writeTarget[*corev1.Node]{
		get: func(ctx context.Context) (*corev1.Node, error) { return nodes.Get(ctx, name, metav1.GetOptions{}) },
		update: func(ctx context.Context, n *corev1.Node) (*corev1.Node, error) {
			return nodes.Update(ctx, n, metav1.UpdateOptions{})
		},
		copy:    (*corev1.Node).DeepCopy,
		backoff: w.backoff,
	}
}

// cordoned returns node cordoned and carrying the intent.
func cordoned(node *corev1.Node, in Intent) (*corev1.Node, bool, error) {
	if cur, found, err := readIntent(node); found {
		if err != nil {
			return nil, false, fmt.Errorf("%w (unreadable): %w", ErrAlreadyInjected, err)
		}
		return nil, false, fmt.Errorf("%w (run %s)", ErrAlreadyInjected, cur.Run)
	}
	was := node.Spec.Unschedulable
	in, err := in.withOriginal(nodeOriginal{WasUnschedulable: was})
	if err != nil {
		return nil, false, err
	}
	next := node.DeepCopy()
	next.Spec.Unschedulable = true
	if err := writeIntent(next, in); err != nil {
		return nil, false, err
	}
	return next, was, nil
}

// uncordonAll reverts every node of the record, continuing past failures.
// It trusts only the intents recorded on the nodes: a node without chaosd's
// intent (reverted already, or taken over by a human) is left as is, so a
// second revert can never uncordon a node someone cordoned meanwhile.
func (w *nodeWriter) uncordonAll(ctx context.Context, r Record) (Outcome, error) {
	names := nodesOf(Spec{Target: r.Target})
	var out Outcome
	gone := 0
	var errs []error
	for i, name := range names {
		if i > 0 {
			crashpoint.Hit(CrashNodeRevertMid)
		}
		isGone, err := w.uncordon(ctx, name, r.Intent.Run, &out)
		if err != nil {
			errs = append(errs, fmt.Errorf("uncordon node %s: %w", name, err))
		}
		if isGone {
			gone++
			out.note("node %s no longer exists; nothing to revert", name)
		}
	}
	out.Gone = gone == len(names)
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("revert %s: %w", r.Intent.Action, err)
	}
	crashpoint.Hit(CrashNodeRevertWrite)
	return out, nil
}

// uncordon removes run's intent from one node and makes it schedulable
// again, unless it was unschedulable before chaosd came.
func (w *nodeWriter) uncordon(ctx context.Context, name, run string, out *Outcome) (gone bool, err error) {
	var notes Outcome
	err = retry.RetryOnConflict(w.backoff, func() error {
		notes = Outcome{}
		node, err := w.kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			gone = true
			return nil
		}
		if err != nil {
			return err
		}
		cur, found, err := readIntent(node)
		switch {
		case err != nil:
			return err
		case !found:
			notes.note("node %s carries no chaosd intent (already reverted?); left as is", name)
			return nil
		case cur.Run != run:
			notes.note("node %s carries the intent of run %s; left as is", name, cur.Run)
			return nil
		}
		var orig nodeOriginal
		if err := json.Unmarshal(cur.Original, &orig); err != nil {
			return fmt.Errorf("decode original state: %w", err)
		}
		next := node.DeepCopy()
		clearIntent(next)
		if orig.WasUnschedulable {
			notes.note("node %s was unschedulable before chaosd; left cordoned", name)
		} else {
			next.Spec.Unschedulable = false
		}
		crashpoint.Hit(CrashNodeRevertRead)
		_, err = w.kube.CoreV1().Nodes().Update(ctx, next, metav1.UpdateOptions{})
		return err
	})
	out.Notes = append(out.Notes, notes.Notes...)
	return gone, err
}

func nodeRef(n *corev1.Node) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion}
}
