package experiments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubectl/pkg/drain"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/crashpoint"
)

// nodeDrain cordons nodes (recording the intent like node-cordon) and then
// evicts their pods with the upstream kubectl drain logic, so
// PodDisruptionBudgets apply. Evictions are not reverted (controllers
// reschedule the pods elsewhere); the revert uncordons.
//
// All pods of all nodes (one node, or every node of a zone) are evicted in
// one call under one Timeout. Evictions refused by a PDB until the Timeout
// are reported as ErrBlockedByPDB; the nodes stay cordoned until Revert.
type nodeDrain struct {
	nodes *nodeWriter
	// retryDelay is the pause after a refused eviction (kubectl: 5s).
	retryDelay time.Duration
}

var _ Actuator = (*nodeDrain)(nil)

func (a *nodeDrain) Plan(ctx context.Context, s Spec) (Plan, error) {
	p, err := a.nodes.planCordon(ctx, s)
	if err != nil {
		return Plan{}, err
	}
	h := a.helper(ctx, s)
	for _, name := range nodesOf(s) {
		list, errs := h.GetPodsForDeletion(name)
		if len(errs) > 0 {
			return Plan{}, fmt.Errorf("plan drain of node %s: %w", name, errors.Join(errs...))
		}
		for _, pod := range list.Pods() {
			p.Changes = append(p.Changes, Change{Verb: "evict", Object: fmt.Sprintf("pod/%s/%s", pod.Namespace, pod.Name), Note: "from node " + name})
		}
		if w := list.Warnings(); w != "" {
			p.Changes = append(p.Changes, Change{Verb: "skip", Object: "node/" + name, Note: w})
		}
	}
	return p, nil
}

func (a *nodeDrain) Inject(ctx context.Context, s Spec) (Record, error) {
	rec, err := a.nodes.cordonAll(ctx, s)
	if err != nil {
		return rec, err
	}
	if err := ctx.Err(); err != nil {
		// Cancelled while cordoning: the cordon is held, nothing is evicted.
		return rec, fmt.Errorf("drain %s: %w", strings.Join(nodesOf(s), ","), err)
	}
	report := rec.Detail.(*NodeReport)
	names := strings.Join(nodesOf(s), ",")
	h := a.helper(ctx, s)
	var pods []corev1.Pod
	seen := map[types.UID]bool{}
	for _, name := range nodesOf(s) {
		list, errs := h.GetPodsForDeletion(name)
		if len(errs) > 0 {
			// e.g. bare pods without force: the node stays cordoned.
			return rec, fmt.Errorf("drain node %s: %w", name, errors.Join(errs...))
		}
		if w := list.Warnings(); w != "" {
			report.Warnings = strings.TrimSpace(report.Warnings + "\n" + w)
		}
		for _, p := range list.Pods() {
			if !seen[p.UID] {
				seen[p.UID] = true
				pods = append(pods, p)
			}
		}
	}
	tr := &evictionTracker{attempts: map[string]int{}, done: map[string]bool{}}
	h.OnPodDeletionOrEvictionStarted = tr.started
	h.OnPodDeletionOrEvictionFinished = tr.finished
	err = h.DeleteOrEvictPods(pods)
	crashpoint.Hit(CrashDrainEvicted)
	report.Evicted, report.BlockedByPDB = tr.result()
	if err != nil {
		if len(report.BlockedByPDB) > 0 {
			return rec, fmt.Errorf("drain %s: %w: %s: %w", names, ErrBlockedByPDB, strings.Join(report.BlockedByPDB, ", "), err)
		}
		return rec, fmt.Errorf("drain %s: %w", names, err)
	}
	return rec, nil
}

func (a *nodeDrain) Revert(ctx context.Context, r Record) (Outcome, error) {
	return a.nodes.uncordonAll(ctx, r)
}

// helper builds the drain.Helper. Force stays false: a bare pod (no
// controller) would be gone for good, so it makes the drain fail instead.
func (a *nodeDrain) helper(ctx context.Context, s Spec) *drain.Helper {
	act := s.Action
	grace := -1 // the pod's own terminationGracePeriodSeconds
	if act.GracePeriod != nil {
		grace = int(act.GracePeriod.Seconds())
	}
	timeout := act.Timeout
	if timeout <= 0 {
		timeout = config.DefaultDrainTimeout
	}
	ignoreDS := act.IgnoreDaemonSets == nil || *act.IgnoreDaemonSets
	log := s.log()
	return &drain.Helper{
		Ctx:                  ctx,
		Client:               a.nodes.kube,
		Force:                false,
		GracePeriodSeconds:   grace,
		IgnoreAllDaemonSets:  ignoreDS,
		DeleteEmptyDirData:   act.DeleteEmptyDirData,
		Timeout:              timeout,
		EvictErrorRetryDelay: a.retryDelay,
		Out:                  &lineWriter{log: func(l string) { log.Info("drain", zap.String("detail", l)) }},
		ErrOut:               &lineWriter{log: func(l string) { log.Warn("drain", zap.String("detail", l)) }},
	}
}

// evictionTracker counts eviction attempts per pod: drain retries an
// eviction only when it was refused (429, a PodDisruptionBudget), so a pod
// attempted more than once and never finished was blocked by a PDB.
type evictionTracker struct {
	mu       sync.Mutex
	attempts map[string]int
	done     map[string]bool
}

func (t *evictionTracker) started(pod *corev1.Pod, _ bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attempts[pod.Namespace+"/"+pod.Name]++
}

func (t *evictionTracker) finished(pod *corev1.Pod, _ bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		t.done[pod.Namespace+"/"+pod.Name] = true
	}
}

func (t *evictionTracker) result() (evicted, blocked []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for pod, n := range t.attempts {
		switch {
		case t.done[pod]:
			evicted = append(evicted, pod)
		case n > 1:
			blocked = append(blocked, pod)
		}
	}
	slices.Sort(evicted)
	slices.Sort(blocked)
	return evicted, blocked
}

// lineWriter turns drain's progress output into log lines.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	log func(line string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil { // no full line yet: keep it for the next Write
			w.buf.Reset()
			w.buf.WriteString(line)
			return len(p), nil
		}
		if l := strings.TrimSpace(line); l != "" {
			w.log(l)
		}
	}
}
