package experiments

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// at kill time. It returns ErrNoOwner for a bare pod, and the context's error
// (wrapped) when ctx ends first: bound it with the time you are willing to
// wait.
func (e *Engine) WaitReplacement(ctx context.Context, kill *PodKill, interval time.Duration) (Replacement, error) {
	if kill == nil || kill.OwnerUID == "" {
		return Replacement{}, ErrNoOwner
	}
	if interval <= 0 {
		interval = time.Second
	}
	for {
		list, err := e.kube.CoreV1().Pods(kill.Namespace).List(ctx, metav1.ListOptions{})
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
