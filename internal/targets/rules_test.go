package targets

import (
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/chaosd/chaosd/internal/config"
)

func TestExcludedNamespaces(t *testing.T) {
	tests := []struct {
		name   string
		policy config.Policy
		own    string
		want   []string
	}{
		{name: "built-in", want: []string{"kube-system"}},
		{name: "own namespace", own: "chaosd", want: []string{"chaosd", "kube-system"}},
		{name: "policy adds", policy: config.Policy{ExcludeNamespaces: []string{"pay"}}, own: "chaosd", want: []string{"chaosd", "kube-system", "pay"}},
		{name: "policy allows built-in and own", policy: config.Policy{AllowNamespaces: []string{"kube-system", "chaosd"}}, own: "chaosd", want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sets.List(ExcludedNamespaces(tc.policy, tc.own)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPureRules(t *testing.T) {
	withMarks := func(m Marks) *Meta { return &Meta{Marks: m} }
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"opted out by any", optedOut(nil, withMarks(Marks{}), withMarks(Marks{OptOut: true})), true},
		{"not opted out", optedOut(nil, withMarks(Marks{OptIn: true})), false},
		{"opted in by any", optedIn(withMarks(Marks{}), nil, withMarks(Marks{OptIn: true})), true},
		{"not opted in", optedIn(nil, withMarks(Marks{OptOut: true})), false},
		{"held by annotation", isHeld(nil, config.TargetPod, "a", "b", Marks{Injected: true}), true},
		{"held by runner", isHeld(heldSet{"pod/a/b": true}, config.TargetPod, "a", "b", Marks{}), true},
		{"not held", isHeld(heldSet{"pod/a/c": true}, config.TargetPod, "a", "b", Marks{}), false},
		{"too young", tooYoung(testNow.Add(-time.Minute), testNow, 2*time.Minute), true},
		{"exactly old enough", tooYoung(testNow.Add(-2*time.Minute), testNow, 2*time.Minute), false},
		{"no minimum age", tooYoung(testNow, testNow, 0), false},
		{"control-plane label", isControlPlane(labels.Set{LabelControlPlane: ""}), true},
		{"legacy master label", isControlPlane(labels.Set{labelLegacyMaster: "true"}), true},
		{"worker", isControlPlane(labels.Set{"node-role.kubernetes.io/worker": ""}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestOwnPodMatches(t *testing.T) {
	sel := labels.SelectorFromSet(labels.Set{"app": "chaosd"})
	pod := func(ns, name string, l map[string]string) *Meta {
		return &Meta{Namespace: ns, Name: name, Labels: NewLabels(l)}
	}
	tests := []struct {
		name string
		own  OwnPod
		pod  *Meta
		want bool
	}{
		{"by selector", OwnPod{Namespace: "chaosd", Selector: sel}, pod("chaosd", "x", map[string]string{"app": "chaosd"}), true},
		{"by name", OwnPod{Namespace: "chaosd", Name: "chaosd-0"}, pod("chaosd", "chaosd-0", nil), true},
		{"same labels elsewhere", OwnPod{Namespace: "chaosd", Selector: sel}, pod("shop", "x", map[string]string{"app": "chaosd"}), false},
		{"other pod in own namespace", OwnPod{Namespace: "chaosd", Selector: sel, Name: "chaosd-0"}, pod("chaosd", "y", nil), false},
		{"no namespace configured", OwnPod{Name: "chaosd-0"}, pod("", "chaosd-0", nil), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.own.matches(tc.pod); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMarksOf(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want Marks
	}{
		{"none", nil, Marks{}},
		{"enabled", map[string]string{AnnotationEnabled: "true"}, Marks{OptIn: true}},
		{"enabled needs true", map[string]string{AnnotationEnabled: "yes", AnnotationExclude: "false"}, Marks{}},
		{"excluded and injected", map[string]string{AnnotationExclude: "true", AnnotationInjection: ""}, Marks{OptOut: true, Injected: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MarksOf(tc.in); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	l := NewLabels(map[string]string{"b": "2", "a": "1", "app.kubernetes.io/name": "web", "empty": ""})
	tests := []struct {
		name   string
		key    string
		want   string
		exists bool
	}{
		{"first", "a", "1", true},
		{"prefixed key", "app.kubernetes.io/name", "web", true},
		{"empty value", "empty", "", true},
		{"missing", "c", "", false},
		{"prefix of a key", "app", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := l.Lookup(tc.key)
			if got != tc.want || ok != tc.exists || l.Has(tc.key) != tc.exists || l.Get(tc.key) != tc.want {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.exists)
			}
		})
	}
	t.Run("selectors match", func(t *testing.T) {
		sel, _ := labels.Parse("a=1,b in (2,3),!c,app.kubernetes.io/name")
		if !sel.Matches(l) {
			t.Errorf("%s does not match %s", sel, l)
		}
	})
	t.Run("zero value is empty", func(t *testing.T) {
		var zero Labels
		if zero.Has("a") || zero.Map() != nil || !labels.Everything().Matches(zero) || zero.String() != "" {
			t.Error("zero Labels is not empty")
		}
	})
	t.Run("round trip and sharing", func(t *testing.T) {
		m := l.Map()
		if again := NewLabels(m); again != l {
			t.Errorf("NewLabels(%v) is not the same handle", m)
		}
		if l.String() != "a=1,app.kubernetes.io/name=web,b=2,empty=" {
			t.Errorf("String() = %q", l.String())
		}
	})
}
