package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/crashpoint"
)

// podKill deletes a pod (method delete, with the action's grace period or
// the pod's own) or evicts it through the Eviction API (method evict), so
// PodDisruptionBudgets apply. There is nothing to revert: the pod's
// controller replaces it, which Engine.WaitReplacement measures.
type podKill struct {
	kube  kubernetes.Interface
	clock clock.PassiveClock
}

var _ Actuator = (*podKill)(nil)

// PodKill is the journal record of a pod-kill, and what WaitReplacement
// needs to recognise the replacement.
type PodKill struct {
	Namespace string    `json:"namespace"`
	Pod       string    `json:"pod"`
	UID       types.UID `json:"uid"`
	Method    string    `json:"method"`
	// Owner is the pod's controller as Kind/name; empty for a bare pod.
	Owner    string    `json:"owner,omitempty"`
	OwnerUID types.UID `json:"ownerUID,omitempty"`
	KilledAt time.Time `json:"killedAt"`
	// Selector finds the owner's pods (see replacementSelector): the
	// siblings and the replacement are listed by it, never the namespace.
	Selector string `json:"selector,omitempty"`
	// Siblings are the owner's pods that existed before the kill: none of
	// them is a replacement.
	Siblings []types.UID `json:"-"`
}

func (a *podKill) Plan(ctx context.Context, s Spec) (Plan, error) {
	pod, err := a.kube.CoreV1().Pods(s.Target.Namespace).Get(ctx, s.Target.Name, metav1.GetOptions{})
	if err != nil {
		return Plan{}, fmt.Errorf("plan pod-kill of %s/%s: %w", s.Target.Namespace, s.Target.Name, err)
	}
	verb, body := "delete", any(deleteOptions(s.Action, pod.UID))
	if s.Action.Method == config.PodKillEvict {
		verb, body = "evict", eviction(pod, s.Action)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return Plan{}, fmt.Errorf("encode %s request: %w", verb, err)
	}
	return Plan{Changes: []Change{{Verb: verb, Object: fmt.Sprintf("pod/%s/%s", pod.Namespace, pod.Name), Diff: raw}}}, nil
}

func (a *podKill) Inject(ctx context.Context, s Spec) (Record, error) {
	ns, name := s.Target.Namespace, s.Target.Name
	pods := a.kube.CoreV1().Pods(ns)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Record{}, fmt.Errorf("kill pod %s/%s: %w", ns, name, err)
	}
	kill := &PodKill{Namespace: ns, Pod: name, UID: pod.UID, Method: s.Action.Method}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		kill.Owner, kill.OwnerUID = ref.Kind+"/"+ref.Name, ref.UID
		kill.Selector, err = replacementSelector(ctx, a.kube, pod, ref)
		switch {
		case errors.Is(err, errNoSelector):
			// Killed all the same; WaitReplacement will say it cannot look.
		case err != nil:
			return Record{}, fmt.Errorf("kill pod %s/%s: %w", ns, name, err)
		default:
			if kill.Siblings, err = a.siblings(ctx, ns, kill.Selector, ref.UID); err != nil {
				return Record{}, fmt.Errorf("kill pod %s/%s: list siblings: %w", ns, name, err)
			}
		}
	}
	crashpoint.Hit(CrashPodKillRead)
	if s.Action.Method == config.PodKillEvict {
		err = a.kube.PolicyV1().Evictions(ns).Evict(ctx, eviction(pod, s.Action))
		if apierrors.IsTooManyRequests(err) {
			return Record{}, fmt.Errorf("evict pod %s/%s: %w: %w", ns, name, ErrBlockedByPDB, err)
		}
	} else {
		err = pods.Delete(ctx, name, deleteOptions(s.Action, pod.UID))
	}
	if err != nil {
		return Record{}, fmt.Errorf("kill pod %s/%s: %w", ns, name, err)
	}
	crashpoint.Hit(CrashPodKillWrite)
	kill.KilledAt = a.clock.Now()
	ref := corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name, UID: pod.UID}
	return Record{Target: s.Target, Intent: s.Intent, Applied: true, Refs: []corev1.ObjectReference{ref}, Detail: kill}, nil
}

// Revert has nothing to give back: the pod's controller replaces it.
func (a *podKill) Revert(context.Context, Record) (Outcome, error) {
	return Outcome{}, nil
}

func (a *podKill) siblings(ctx context.Context, ns, selector string, owner types.UID) ([]types.UID, error) {
	list, err := a.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var uids []types.UID
	for i := range list.Items {
		if ref := metav1.GetControllerOf(&list.Items[i]); ref != nil && ref.UID == owner {
			uids = append(uids, list.Items[i].UID)
		}
	}
	return uids, nil
}

// deleteOptions kills exactly the pod that was picked (UID precondition:
// a StatefulSet's replacement has the same name) with the action's grace
// period, or the pod's own when none is set.
func deleteOptions(a config.Action, uid types.UID) metav1.DeleteOptions {
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}
	if a.GracePeriod != nil {
		secs := int64(a.GracePeriod.Seconds())
		opts.GracePeriodSeconds = &secs
	}
	return opts
}

func eviction(pod *corev1.Pod, a config.Action) *policyv1.Eviction {
	opts := deleteOptions(a, pod.UID)
	return &policyv1.Eviction{
		TypeMeta:      metav1.TypeMeta{APIVersion: "policy/v1", Kind: "Eviction"},
		ObjectMeta:    metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
		DeleteOptions: &opts,
	}
}
