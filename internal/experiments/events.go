package experiments

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// EventRecorder emits Kubernetes Events; k8s.io/client-go/tools/events
// recorders (and its FakeRecorder) satisfy it.
type EventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// Event reasons chaosd emits on the objects it changes.
const (
	ReasonInjected     = "ChaosInjected"
	ReasonReverted     = "ChaosReverted"
	ReasonRevertFailed = "ChaosRevertFailed"
	// ReasonFaultLeft (a Warning) says a revert left a fault in place
	// because another writer changed it while chaosd held it.
	ReasonFaultLeft = "ChaosFaultLeft"
)

// maxNote keeps Event notes under the API's 1 kB limit.
const maxNote = 1000

// emit records one Event on every object in refs.
func (e *Engine) emit(refs []corev1.ObjectReference, eventtype, reason, action, note string) {
	if e.recorder == nil {
		return
	}
	if len(note) > maxNote {
		note = note[:maxNote-3] + "..."
	}
	for i := range refs {
		ref := refs[i]
		e.recorder.Eventf(&ref, nil, eventtype, reason, action, "%s", note)
	}
}

func joinNotes(notes []string) string {
	return strings.Join(notes, "; ")
}
