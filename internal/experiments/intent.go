package experiments

import (
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/config"
)

// Keys chaosd writes on the objects it changes.
const (
	// AnnotationInjection holds the JSON Intent of the active injection.
	AnnotationInjection = "chaosd.io/injection"
	// LabelInjected marks every object carrying an Intent, so recovery can
	// LIST with a selector and dashboards (Kiali) show the fault.
	LabelInjected = "chaosd.io/injected"
	// LabelSnapshot marks ConfigMaps holding a deleted Node's snapshot.
	LabelSnapshot = "chaosd.io/snapshot"
)

var injectedSelector = LabelInjected + "=true"

// Intent is what chaosd records in the cluster before (or atomically with) a
// change: enough for any chaosd replica to revert it without local state.
type Intent struct {
	Run        string            `json:"run"`
	Experiment string            `json:"experiment"`
	Action     config.ActionType `json:"action"`
	// By is the identity of the chaosd replica that injected.
	By         string    `json:"by,omitempty"`
	InjectedAt time.Time `json:"injectedAt"`
	// ExpiresAt is when the fault must be gone at the latest: inject time
	// plus duration plus a grace margin. Past it, recovery reverts the
	// injection even if its run still claims it.
	ExpiresAt time.Time `json:"expiresAt"`
	// Original is the action kind's record of what was there before.
	Original json.RawMessage `json:"original,omitempty"`
}

// withOriginal returns a copy of the intent carrying v as its Original.
func (in Intent) withOriginal(v any) (Intent, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return in, fmt.Errorf("encode original state: %w", err)
	}
	in.Original = raw
	return in, nil
}

// readIntent returns the intent recorded on an object, if any.
func readIntent(obj metav1.Object) (Intent, bool, error) {
	raw, ok := obj.GetAnnotations()[AnnotationInjection]
	if !ok {
		return Intent{}, false, nil
	}
	var in Intent
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return Intent{}, true, fmt.Errorf("decode %s annotation: %w", AnnotationInjection, err)
	}
	return in, true, nil
}

// writeIntent records in on obj (annotation and label).
func writeIntent(obj metav1.Object, in Intent) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode intent: %w", err)
	}
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationInjection] = string(raw)
	obj.SetAnnotations(ann)
	lbl := obj.GetLabels()
	if lbl == nil {
		lbl = map[string]string{}
	}
	lbl[LabelInjected] = "true"
	obj.SetLabels(lbl)
	return nil
}

// clearIntent removes what writeIntent added, leaving empty maps nil so the
// object serializes as it did before.
func clearIntent(obj metav1.Object) {
	ann := obj.GetAnnotations()
	delete(ann, AnnotationInjection)
	if len(ann) == 0 {
		ann = nil
	}
	obj.SetAnnotations(ann)
	lbl := obj.GetLabels()
	delete(lbl, LabelInjected)
	if len(lbl) == 0 {
		lbl = nil
	}
	obj.SetLabels(lbl)
}

// revertIntent picks the intent a revert acts on: the one recorded on the
// object when it belongs to the same run, else the in-memory one (the
// annotation was lost but chaosd's change may still be there). ok is false
// when the object carries another run's intent: that is not ours to touch.
func revertIntent(obj metav1.Object, mine Intent) (in Intent, ok bool, err error) {
	cur, found, err := readIntent(obj)
	if err != nil {
		return Intent{}, false, err
	}
	if !found {
		return mine, true, nil
	}
	if cur.Run != mine.Run {
		return cur, false, nil
	}
	return cur, true, nil
}

// landed reports whether obj carries exactly the intent of this injection:
// a write whose response was lost (timeout, connection reset) may still have
// been applied, and must then be held and reverted like any other.
func landed(obj metav1.Object, mine Intent) (Intent, bool) {
	cur, found, err := readIntent(obj)
	if err != nil || !found || cur.Run != mine.Run || !cur.InjectedAt.Equal(mine.InjectedAt) {
		return Intent{}, false
	}
	return cur, true
}
