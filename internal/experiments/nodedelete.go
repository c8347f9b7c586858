package experiments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/chaosd/chaosd/internal/crashpoint"
)

// snapshotKey is the ConfigMap key holding the deleted Node as JSON.
const snapshotKey = "node.json"

// nodeDelete deletes a Node object. A cleaned snapshot of the Node is
// written to a chaosd-owned ConfigMap in chaosd's namespace before the
// delete; with restore, the ConfigMap also carries the intent (annotation and
// label, like any injected object) and Revert re-creates the Node from it.
// Without restore the snapshot is kept as evidence only and recovery ignores
// it.
type nodeDelete struct {
	kube      kubernetes.Interface
	namespace string // chaosd's own
}

var _ Actuator = (*nodeDelete)(nil)

// NodeSnapshot is the journal record of a node-delete.
type NodeSnapshot struct {
	Node      string `json:"node"`
	ConfigMap string `json:"configMap"` // namespace/name
	Restore   bool   `json:"restore"`
}

func (a *nodeDelete) Plan(ctx context.Context, s Spec) (Plan, error) {
	node, err := a.kube.CoreV1().Nodes().Get(ctx, s.Target.Name, metav1.GetOptions{})
	if err != nil {
		return Plan{}, fmt.Errorf("plan delete of node %s: %w", s.Target.Name, err)
	}
	cm, err := a.snapshot(node, s)
	if err != nil {
		return Plan{}, err
	}
	return Plan{Changes: []Change{
		{Verb: "create", Object: fmt.Sprintf("configmap/%s/%s", cm.Namespace, cm.Name), Note: fmt.Sprintf("snapshot of node %s, restore=%t", node.Name, s.Action.Restore)},
		{Verb: "delete", Object: "node/" + node.Name, Note: "precondition uid=" + string(node.UID)},
	}}, nil
}

func (a *nodeDelete) Inject(ctx context.Context, s Spec) (Record, error) {
	name := s.Target.Name
	node, err := a.kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Record{}, fmt.Errorf("delete node %s: %w", name, err)
	}
	if cur, found, _ := readIntent(node); found {
		return Record{}, fmt.Errorf("delete node %s: %w (run %s)", name, ErrAlreadyInjected, cur.Run)
	}
	cm, err := a.snapshot(node, s)
	if err != nil {
		return Record{}, err
	}
	crashpoint.Hit(CrashNodeDeleteRead)
	if _, err := a.kube.CoreV1().ConfigMaps(a.namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return Record{}, fmt.Errorf("delete node %s: save snapshot %s/%s: %w", name, cm.Namespace, cm.Name, err)
	}
	crashpoint.Hit(CrashNodeDeleteSnapshot)
	uid := node.UID
	rec := Record{
		Target: s.Target, Intent: s.Intent, Applied: true, Reversible: s.Action.Restore,
		Refs:   []corev1.ObjectReference{nodeRef(node)},
		Detail: &NodeSnapshot{Node: name, ConfigMap: cm.Namespace + "/" + cm.Name, Restore: s.Action.Restore},
	}
	if err := a.kube.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
		return a.afterFailedDelete(ctx, rec, uid, cm.Name, fmt.Errorf("delete node %s: %w", name, err))
	}
	crashpoint.Hit(CrashNodeDeleteWrite)
	return rec, nil
}

// afterFailedDelete decides what a failed Delete left behind. The delete
// may have been applied although its response was lost or the run was
// cancelled while it was in flight: then the snapshot is all that can bring
// the Node back, so it is kept and the delete is held like a success. When
// that cannot be told, the snapshot is kept too (restoring a Node that still
// exists is a no-op) and the record is held with the error. Only a Node
// seen still there lets the unused snapshot go.
func (a *nodeDelete) afterFailedDelete(ctx context.Context, rec Record, uid types.UID, cmName string, err error) (Record, error) {
	cctx, cancel := checkContext(ctx)
	defer cancel()
	name := rec.Target.Name
	node, gerr := a.kube.CoreV1().Nodes().Get(cctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(gerr), gerr == nil && (node.UID != uid || node.DeletionTimestamp != nil):
		return rec, nil // applied: a node with another UID re-registered after it
	case gerr != nil:
		return rec, errors.Join(err, fmt.Errorf("cannot tell whether node %s was deleted, snapshot kept: %w", name, gerr))
	}
	if cmErr := a.deleteSnapshot(cctx, cmName); cmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove unused snapshot: %w", cmErr))
	}
	return Record{}, err
}

// snapshot builds the ConfigMap saving node before it is deleted.
func (a *nodeDelete) snapshot(node *corev1.Node, s Spec) (*corev1.ConfigMap, error) {
	raw, err := json.Marshal(cleanNode(node))
	if err != nil {
		return nil, fmt.Errorf("encode snapshot of node %s: %w", node.Name, err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      snapshotName(s.Intent.Run, node.Name),
			Namespace: a.namespace,
			Labels:    map[string]string{LabelSnapshot: "true"},
		},
		Data: map[string]string{snapshotKey: string(raw)},
	}
	in, err := s.Intent.withOriginal(NodeSnapshot{Node: node.Name, Restore: s.Action.Restore})
	if err != nil {
		return nil, err
	}
	if err := writeIntent(cm, in); err != nil {
		return nil, err
	}
	if !s.Action.Restore { // evidence only: recovery must not re-create it
		delete(cm.Labels, LabelInjected)
	}
	return cm, nil
}

func (a *nodeDelete) Revert(ctx context.Context, r Record) (Outcome, error) {
	var out Outcome
	name := r.Target.Name
	cmName := snapshotName(r.Intent.Run, name)
	cm, err := a.kube.CoreV1().ConfigMaps(a.namespace).Get(ctx, cmName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return a.revertWithoutSnapshot(ctx, name, cmName)
	}
	if err != nil {
		return out, fmt.Errorf("restore node %s: read snapshot: %w", name, err)
	}
	in, ours, err := revertIntent(cm, r.Intent)
	if err != nil {
		return out, fmt.Errorf("restore node %s: %w", name, err)
	}
	if !ours {
		out.note("snapshot %s carries the intent of run %s; left as is", cmName, in.Run)
		return out, nil
	}
	var node corev1.Node
	if err := json.Unmarshal([]byte(cm.Data[snapshotKey]), &node); err != nil {
		return out, fmt.Errorf("restore node %s: decode snapshot: %w", name, err)
	}
	_, err = a.kube.CoreV1().Nodes().Create(ctx, &node, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		out.note("node %s exists again (re-registered by its kubelet); left as is", name)
	case err != nil:
		return out, fmt.Errorf("restore node %s: %w", name, err)
	}
	crashpoint.Hit(CrashNodeRestoreCreate)
	if err := a.deleteSnapshot(ctx, cmName); err != nil {
		return out, fmt.Errorf("restore node %s: remove snapshot: %w", name, err)
	}
	crashpoint.Hit(CrashNodeRestoreWrite)
	return out, nil
}

// revertWithoutSnapshot settles a revert whose snapshot is gone. A Node
// that exists again was restored already (by an earlier revert whose
// response was lost, or by its kubelet). Neither snapshot nor Node means
// the Node is lost, e.g. the snapshot was removed by a recovery that ran
// before the delete: that is a failure to report, never a success.
func (a *nodeDelete) revertWithoutSnapshot(ctx context.Context, name, cmName string) (Outcome, error) {
	var out Outcome
	_, err := a.kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return out, fmt.Errorf("restore node %s: %w: neither its snapshot %s/%s nor the node exists", name, ErrNodeLost, a.namespace, cmName)
	case err != nil:
		return out, fmt.Errorf("restore node %s: snapshot %s/%s is gone; read node: %w", name, a.namespace, cmName, err)
	}
	out.note("snapshot %s/%s is gone and node %s exists: already restored", a.namespace, cmName, name)
	return out, nil
}

func (a *nodeDelete) deleteSnapshot(ctx context.Context, name string) error {
	err := a.kube.CoreV1().ConfigMaps(a.namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// cleanNode strips what the API server owns, so the snapshot can be created
// again. Status is dropped: the kubelet reports it afresh.
func cleanNode(n *corev1.Node) *corev1.Node {
	c := n.DeepCopy()
	c.ResourceVersion = ""
	c.UID = ""
	c.CreationTimestamp = metav1.Time{}
	c.ManagedFields = nil
	c.Generation = 0
	c.DeletionTimestamp = nil
	c.DeletionGracePeriodSeconds = nil
	c.Status = corev1.NodeStatus{}
	clearIntent(c)
	return c
}

// snapshotName derives the ConfigMap name from the run and node, so a revert
// (or recovery) finds it again without local state. Overlong or odd names
// are shortened with a hash.
func snapshotName(run, node string) string {
	name := "chaosd-injection-" + dnsSafe(run) + "-" + dnsSafe(node)
	if len(validation.IsDNS1123Subdomain(name)) == 0 {
		return name
	}
	sum := sha256.Sum256([]byte(run + "/" + node))
	return "chaosd-injection-" + hex.EncodeToString(sum[:12])
}

func dnsSafe(s string) string {
	s = strings.ToLower(s)
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-.")
}
