// Package control owns chaosd's out-of-band controls, stored as annotations
// on chaosd's own ConfigMap: the manual pause switch that `chaosd pause` and
// `chaosd resume` set from a laptop, and the status summary the leader
// publishes for `chaosd status`; and who changed them: the identity the API
// server reports for the CLI (identity.go) and the ConfigMap's last data
// writer (writer.go). Only the Kubernetes API is used, so no extra port or
// credential is needed. It never touches experiment targets.
package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/chaosd/chaosd/internal/config"
)

// Annotation keys on chaosd's ConfigMap.
const (
	AnnotationPause  = "chaosd.io/pause"
	AnnotationStatus = "chaosd.io/status"
	// AnnotationResumedAt records the last `chaosd resume`, which also ends
	// a self-pause (a cooldown, or one waiting for a manual resume).
	AnnotationResumedAt = "chaosd.io/resumed-at"
	// AnnotationResumedBy is who ran the last `chaosd resume` (an Actor).
	AnnotationResumedBy = "chaosd.io/resumed-by"
	// AnnotationCooldown keeps the self-pause after a weakness across
	// restarts and leader changes.
	AnnotationCooldown = "chaosd.io/cooldown"
)

// ManualPauseReason begins the pause reason the leader publishes for a
// manual pause, so that `chaosd status` can tell it from the others.
const ManualPauseReason = "paused with chaosd pause"

// Cooldown is the self-pause after a weakness: until a time, or (Manual)
// until chaosd resume.
type Cooldown struct {
	Reason string    `json:"reason"`
	Until  time.Time `json:"until,omitzero"`
	Manual bool      `json:"manual,omitempty"`
}

// SetCooldown records the self-pause after a weakness.
func SetCooldown(ctx context.Context, kube kubernetes.Interface, ref Ref, c Cooldown) error {
	val, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode cooldown: %w", err)
	}
	return patchAnnotation(ctx, kube, ref, AnnotationCooldown, string(val))
}

// CooldownFrom reads a recorded cooldown; ok is false when none is set or
// it is unreadable (a cooldown is a courtesy pause, not a safety switch).
func CooldownFrom(cm *corev1.ConfigMap) (c Cooldown, ok bool) {
	raw := cm.Annotations[AnnotationCooldown]
	if raw == "" || json.Unmarshal([]byte(raw), &c) != nil {
		return Cooldown{}, false
	}
	return c, true
}

// ManualPause is a pause set through the API rather than the config file.
type ManualPause struct {
	// Mode is true (stop new runs) or revert (also revert active faults).
	Mode   config.PauseMode `json:"mode"`
	Reason string           `json:"reason,omitempty"`
	// By is the Kubernetes username (see Identify), Groups its groups and
	// From where the command ran.
	By     string    `json:"by,omitempty"`
	Groups []string  `json:"groups,omitempty"`
	From   string    `json:"from,omitempty"`
	At     time.Time `json:"at"`
}

// Actor is who set the pause.
func (p ManualPause) Actor() Actor { return Actor{User: p.By, Groups: p.Groups, From: p.From} }

// Ref names chaosd's ConfigMap.
type Ref struct {
	Namespace string
	Name      string
}

func (r Ref) String() string { return r.Namespace + "/" + r.Name }

// SetPause records a manual pause on the ConfigMap. A JSON merge patch on a
// core object is safe here: it touches only this one annotation.
func SetPause(ctx context.Context, kube kubernetes.Interface, ref Ref, p ManualPause) error {
	if !p.Mode.IsPaused() {
		return fmt.Errorf("pause mode must be true or revert, got %q", p.Mode)
	}
	val, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode pause: %w", err)
	}
	return patchAnnotation(ctx, kube, ref, AnnotationPause, string(val))
}

// Resume removes a manual pause and records when and by whom, which also
// ends chaosd's self-pause after a weakness. A pause set in the config file
// itself (paused: true) stays in force until the file changes.
func Resume(ctx context.Context, kube kubernetes.Interface, ref Ref, at time.Time, by Actor) error {
	who, err := json.Marshal(by)
	if err != nil {
		return fmt.Errorf("encode resume: %w", err)
	}
	return patchAnnotations(ctx, kube, ref, map[string]any{
		AnnotationPause: nil, AnnotationCooldown: nil, AnnotationResumedAt: at.UTC().Format(time.RFC3339Nano),
		AnnotationResumedBy: string(who),
	})
}

// ResumedBy returns who ran the last resume recorded on cm; ok is false
// when it is not recorded (a resume by an older chaosd) or unreadable.
func ResumedBy(cm *corev1.ConfigMap) (a Actor, ok bool) {
	raw := cm.Annotations[AnnotationResumedBy]
	if raw == "" || json.Unmarshal([]byte(raw), &a) != nil {
		return Actor{}, false
	}
	return a, true
}

// ResumedAt returns the time of the last resume recorded on cm, if any.
func ResumedAt(cm *corev1.ConfigMap) time.Time {
	t, err := time.Parse(time.RFC3339Nano, cm.Annotations[AnnotationResumedAt])
	if err != nil {
		return time.Time{}
	}
	return t
}

// PauseFrom reads the manual pause from a ConfigMap; ok is false when none is set.
func PauseFrom(cm *corev1.ConfigMap) (p ManualPause, ok bool, err error) {
	raw, found := cm.Annotations[AnnotationPause]
	if !found || raw == "" {
		return ManualPause{}, false, nil
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		// An unreadable pause is still a pause: fail closed.
		return ManualPause{Mode: config.Paused, Reason: "unreadable " + AnnotationPause + " annotation"}, true, fmt.Errorf("decode %s on %s/%s: %w", AnnotationPause, cm.Namespace, cm.Name, err)
	}
	if !p.Mode.IsPaused() {
		p.Mode = config.Paused
	}
	return p, true, nil
}

func patchAnnotation(ctx context.Context, kube kubernetes.Interface, ref Ref, key string, value any) error {
	return patchAnnotations(ctx, kube, ref, map[string]any{key: value})
}

// patchAnnotations sets (or, for nil values, removes) annotations.
func patchAnnotations(ctx context.Context, kube kubernetes.Interface, ref Ref, annotations map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return fmt.Errorf("encode patch: %w", err)
	}
	if _, err := kube.CoreV1().ConfigMaps(ref.Namespace).Patch(ctx, ref.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "chaosd"}); err != nil {
		return fmt.Errorf("annotate configmap %s: %w", ref, err)
	}
	return nil
}
