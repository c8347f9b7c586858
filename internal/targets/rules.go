package targets

import (
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

// The rules below are pure: each looks at one candidate and answers one
// question, so each is tested on its own and the pickers read as a list.

// Node labels marking control-plane nodes. The legacy master label is still
// set by some installers; either one is enough.
const (
	LabelControlPlane = "node-role.kubernetes.io/control-plane"
	labelLegacyMaster = "node-role.kubernetes.io/master"
)

// ExcludedNamespaces returns the namespaces a policy never lets chaosd touch:
// the policy's own and built-in exclusions, plus chaosd's own namespace
// unless the policy allows it.
func ExcludedNamespaces(policy config.Policy, ownNamespace string) sets.Set[string] {
	out := sets.New(config.ExcludedNamespaces(policy)...)
	if ownNamespace != "" && !sets.New(policy.AllowNamespaces...).Has(ownNamespace) {
		out.Insert(ownNamespace)
	}
	return out
}

// optedOut reports whether any of the objects (a target, its workload, its
// namespace; nil entries are skipped) carries chaosd.io/exclude=true.
func optedOut(objs ...*Meta) bool {
	for _, m := range objs {
		if m != nil && m.Marks.OptOut {
			return true
		}
	}
	return false
}

// optedIn reports whether any of the objects carries chaosd.io/enabled=true.
func optedIn(objs ...*Meta) bool {
	for _, m := range objs {
		if m != nil && m.Marks.OptIn {
			return true
		}
	}
	return false
}

// isHeld reports whether another fault holds a target: by the injection
// annotation it carries, or by the runner's own bookkeeping (h may be nil).
func isHeld(h Held, kind config.TargetKind, namespace, name string, marks Marks) bool {
	return marks.Injected || (h != nil && h.IsHeld(kind, namespace, name))
}

// tooYoung reports whether an object created at created is younger than
// minAge at now.
func tooYoung(created, now time.Time, minAge time.Duration) bool {
	return minAge > 0 && now.Sub(created) < minAge
}

// isControlPlane reports whether a node's labels mark it as control plane.
func isControlPlane(l labels.Labels) bool {
	return l.Has(LabelControlPlane) || l.Has(labelLegacyMaster)
}

// OwnPod identifies chaosd's own pods, which are never targets: pods in
// Namespace matching Selector, or named Name. Both are optional, but
// Namespace is required for either to apply.
type OwnPod struct {
	Namespace string
	Selector  labels.Selector
	Name      string
}

func (o OwnPod) matches(m *Meta) bool {
	if o.Namespace == "" || m.Namespace != o.Namespace {
		return false
	}
	return (o.Name != "" && m.Name == o.Name) || (o.Selector != nil && o.Selector.Matches(m.Labels))
}

// matchesSelectors reports whether an object's namespace passes the target's
// namespace list and namespace selector (ns may be nil for a namespace not
// yet in the inventory, whose labels are then empty) and its labels pass the
// label selector.
func matchesSelectors(sel targetSelectors, ns *Meta, obj *Meta) bool {
	if sel.namespaces.Len() > 0 && !sel.namespaces.Has(obj.Namespace) {
		return false
	}
	if sel.namespace != nil {
		var nsLabels labels.Labels = Labels{}
		if ns != nil {
			nsLabels = ns.Labels
		}
		if !sel.namespace.Matches(nsLabels) {
			return false
		}
	}
	return sel.labels.Matches(obj.Labels)
}

// targetSelectors is config.Target's selectors, parsed once per Pick.
type targetSelectors struct {
	namespaces sets.Set[string]
	namespace  labels.Selector // nil when unset
	labels     labels.Selector // labels.Everything when unset
}

func parseSelectors(t config.Target) (targetSelectors, error) {
	out := targetSelectors{namespaces: sets.New(t.Namespaces...)}
	var err error
	if out.labels, err = labels.Parse(t.Selector); err != nil {
		return out, err
	}
	if t.NamespaceSelector != "" {
		if out.namespace, err = labels.Parse(t.NamespaceSelector); err != nil {
			return out, err
		}
	}
	return out, nil
}
