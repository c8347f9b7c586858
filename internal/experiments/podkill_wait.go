package experiments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Replacement is the pod that replaced a killed one.
type Replacement struct {
	Pod     string    `json:"pod"`
	ReadyAt time.Time `json:"readyAt"`
	// After is how long from the kill until the replacement was Ready.
	After time.Duration `json:"after"`
}

// WaitReplacement polls every interval until a new pod of the killed pod's
// controller is Ready, and reports when. A new pod is one that did not exist
// at kill time. Each poll lists only the pods the kill's Selector matches:
// a namespace can hold thousands of pods, and the wait lasts minutes. It
// returns ErrNoOwner for a bare pod, and the context's error (wrapped) when
// ctx ends first: bound it with the time you are willing to wait.
func (e *Engine) WaitReplacement(ctx context.Context, kill *PodKill, interval time.Duration) (Replacement, error) {
	if kill == nil || kill.OwnerUID == "" {
		return Replacement{}, ErrNoOwner
	}
	if kill.Selector == "" {
		return Replacement{}, fmt.Errorf("wait for replacement of pod %s/%s (%s): %w", kill.Namespace, kill.Pod, kill.Owner, errNoSelector)
	}
	if interval <= 0 {
		interval = time.Second
	}
	opts := metav1.ListOptions{LabelSelector: kill.Selector}
	for {
		list, err := e.kube.CoreV1().Pods(kill.Namespace).List(ctx, opts)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("list pods while waiting for replacement", zap.String("namespace", kill.Namespace), zap.Error(err))
		}
		if err == nil {
			if r, ok := replacementIn(list.Items, kill, e.clock.Now()); ok {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return Replacement{}, fmt.Errorf("wait for replacement of pod %s/%s (%s): %w", kill.Namespace, kill.Pod, kill.Owner, ctx.Err())
		case <-e.clock.After(interval):
		}
	}
}

// replacementIn finds a Ready pod of the same controller that is neither the
// killed pod nor one of its siblings at kill time.
func replacementIn(pods []corev1.Pod, kill *PodKill, now time.Time) (Replacement, bool) {
	for i := range pods {
		p := &pods[i]
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.UID != kill.OwnerUID || p.UID == kill.UID || slices.Contains(kill.Siblings, p.UID) || p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type != corev1.PodReady || c.Status != corev1.ConditionTrue {
				continue
			}
			readyAt := now
			if !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Before(&metav1.Time{Time: now}) {
				readyAt = c.LastTransitionTime.Time
			}
			after := max(readyAt.Sub(kill.KilledAt), 0)
			return Replacement{Pod: p.Name, ReadyAt: readyAt, After: after}, true
		}
	}
	return Replacement{}, false
}

// errNoSelector: nothing narrower than the whole namespace finds the pods
// of a controller, so chaosd does not look.
var errNoSelector = errors.New("no label selector finds the owner's pods")

// replacementSelector returns a label selector matching the pods of a
// pod's controller: the controller's spec.selector for the apps/v1
// workloads (chaosd may read those), else the pod's own labels, which a
// controller's pods share. It only narrows what is listed; ownership is
// still decided by the controller's UID.
func replacementSelector(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod, ref *metav1.OwnerReference) (string, error) {
	var (
		sel *metav1.LabelSelector
		err error
	)
	apps, get := kube.AppsV1(), metav1.GetOptions{}
	isApps := strings.HasPrefix(ref.APIVersion, "apps/")
	switch {
	case isApps && ref.Kind == "ReplicaSet":
		var rs *appsv1.ReplicaSet
		if rs, err = apps.ReplicaSets(pod.Namespace).Get(ctx, ref.Name, get); err == nil {
			sel = rs.Spec.Selector
		}
	case isApps && ref.Kind == "StatefulSet":
		var ss *appsv1.StatefulSet
		if ss, err = apps.StatefulSets(pod.Namespace).Get(ctx, ref.Name, get); err == nil {
			sel = ss.Spec.Selector
		}
	case isApps && ref.Kind == "DaemonSet":
		var ds *appsv1.DaemonSet
		if ds, err = apps.DaemonSets(pod.Namespace).Get(ctx, ref.Name, get); err == nil {
			sel = ds.Spec.Selector
		}
	default:
		sel = &metav1.LabelSelector{MatchLabels: pod.Labels}
	}
	if err != nil {
		return "", fmt.Errorf("read the selector of %s/%s: %w", ref.Kind, ref.Name, err)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "", fmt.Errorf("parse the selector of %s/%s: %w", ref.Kind, ref.Name, err)
	}
	if s.Empty() {
		return "", fmt.Errorf("%s/%s: %w", ref.Kind, ref.Name, errNoSelector)
	}
	return s.String(), nil
}
