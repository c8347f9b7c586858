package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// LabelLeader is on the Pod of the replica that leads, and only there.
// chaosd's Service selects it, so Alertmanager's webhook pushes and
// `kubectl port-forward svc/chaosd` reach the leader: a standby drops the
// pushes and has no status to show.
const LabelLeader = "chaosd.io/leader"

// setLeaderLabel sets (leading) or removes the label on chaosd's own Pod.
// Without a pod name (chaosd outside a pod) there is nothing to label.
func (d *daemon) setLeaderLabel(ctx context.Context, leading bool) error {
	if d.o.PodName == "" {
		return nil
	}
	var value any // null removes the label in a JSON merge patch
	if leading {
		value = "true"
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{LabelLeader: value}}})
	if err != nil {
		return fmt.Errorf("encode leader label patch: %w", err)
	}
	_, err = d.o.Kube.CoreV1().Pods(d.o.Namespace).Patch(ctx, d.o.PodName, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "chaosd"})
	if err != nil {
		return fmt.Errorf("set %s=%v on pod %s/%s: %w", LabelLeader, leading, d.o.Namespace, d.o.PodName, err)
	}
	return nil
}

// markLeader labels this replica's Pod when it starts leading. A failure
// (an older Role without pods patch) is logged, not fatal: recovery and
// chaos need no Service, only the webhook and the status page do.
func (d *daemon) markLeader(ctx context.Context) {
	if err := d.setLeaderLabel(ctx, true); err != nil {
		d.log.Warn("cannot label this pod as the leader; chaosd's Service will not reach it", zap.Error(err))
	}
}

// clearLeaderLabel removes the label when leadership ends, and at start: a
// leader killed while leading leaves it on its Pod, which after a container
// restart must not receive traffic as a standby. It uses a context of its
// own so that it also runs during shutdown.
func (d *daemon) clearLeaderLabel(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.setLeaderLabel(ctx, false); err != nil {
		d.log.Warn("cannot remove the leader label from this pod", zap.Error(err))
	}
}
