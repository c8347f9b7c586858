package targets

import (
	"slices"
	"strings"
	"time"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Annotations chaosd reads on targets, their workloads and namespaces.
const (
	// AnnotationEnabled = "true" opts an object in, for experiments with optIn.
	AnnotationEnabled = "chaosd.io/enabled"
	// AnnotationExclude = "true" opts an object out; it always wins.
	AnnotationExclude = "chaosd.io/exclude"
	// AnnotationInjection is set by the experiments while a fault holds the
	// object; whatever its value, the object counts as held.
	AnnotationInjection = "chaosd.io/injection"
)

// Marks is what chaosd's own annotations say about an object.
type Marks struct {
	OptIn    bool // chaosd.io/enabled: "true"
	OptOut   bool // chaosd.io/exclude: "true"
	Injected bool // chaosd.io/injection present
}

// MarksOf reads chaosd's annotations from an object's annotation map.
func MarksOf(annotations map[string]string) Marks {
	_, injected := annotations[AnnotationInjection]
	return Marks{
		OptIn:    annotations[AnnotationEnabled] == "true",
		OptOut:   annotations[AnnotationExclude] == "true",
		Injected: injected,
	}
}

// Owner is an object's controlling owner reference, reduced to kind and name.
// The zero Owner means no controller (a bare pod, a top-level workload).
type Owner struct {
	Kind string
	Name string
}

// Meta is the compact, metadata-only view the inventory keeps of every pod,
// workload, namespace and VirtualService. It holds only what selection needs;
// strings shared by many objects (namespaces, owners, label sets) are
// interned, so 100k pods cost a few hundred bytes each. A Meta handed out by
// a Source is never mutated: updates replace it.
type Meta struct {
	Namespace string
	Name      string
	Labels    Labels
	Owner     Owner
	Created   time.Time
	// Deleting is set once the object has a deletionTimestamp.
	Deleting bool
	Marks    Marks
	// Host is a VirtualService's first host, for SLI queries.
	Host string
}

// MetaOf compacts an object's metadata. Labels are kept only when
// withLabels is set: workloads are looked up by name and need none.
func MetaOf(om *metav1.ObjectMeta, withLabels bool) *Meta {
	m := compactMeta(om, withLabels)
	return &m
}

func compactMeta(om *metav1.ObjectMeta, withLabels bool) Meta {
	m := Meta{
		Namespace: intern(om.Namespace),
		Name:      om.Name,
		Created:   om.CreationTimestamp.Time,
		Deleting:  om.DeletionTimestamp != nil,
		Marks:     MarksOf(om.Annotations),
	}
	if withLabels {
		m.Labels = NewLabels(om.Labels)
	}
	if ref := metav1.GetControllerOfNoCopy(om); ref != nil {
		m.Owner = Owner{Kind: intern(ref.Kind), Name: intern(ref.Name)}
	}
	return m
}

func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// Labels is an immutable label set stored as one interned string of sorted
// "key=value" pairs separated by NUL. Replicas of one workload share their
// label set, so a pod's labels usually cost one pointer. It implements
// labels.Labels, so selectors match it directly. The zero value is empty.
type Labels struct {
	h unique.Handle[string]
}

var _ labels.Labels = Labels{}

// NewLabels interns a label map.
func NewLabels(m map[string]string) Labels {
	if len(m) == 0 {
		return Labels{}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
	}
	return Labels{h: unique.Make(b.String())}
}

func (l Labels) encoded() string {
	if l.h == (unique.Handle[string]{}) {
		return ""
	}
	return l.h.Value()
}

// Lookup returns a label's value and whether it is set. Label keys and
// values cannot contain '=' or NUL, so the encoding is unambiguous.
func (l Labels) Lookup(key string) (string, bool) {
	s := l.encoded()
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "\x00")
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v, true
		}
	}
	return "", false
}

// Has reports whether a label is set.
func (l Labels) Has(key string) bool {
	_, ok := l.Lookup(key)
	return ok
}

// Get returns a label's value, or "" when unset.
func (l Labels) Get(key string) string {
	v, _ := l.Lookup(key)
	return v
}

// Map returns the labels as a new map.
func (l Labels) Map() map[string]string {
	s := l.encoded()
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for kv := range strings.SplitSeq(s, "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// String renders the labels as a selector would: k=v,k=v.
func (l Labels) String() string { return strings.ReplaceAll(l.encoded(), "\x00", ",") }
