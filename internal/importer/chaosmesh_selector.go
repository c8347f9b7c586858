package importer

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/chaosd/chaosd/internal/config"
)

// cmModes maps Chaos Mesh's selector modes to chaosd's, as chaos-mesh
// v2.8.3 pkg/selector/generic/mode.go counts them: fixed takes
// min(value, pods); fixed-percent ceil(pods*value/100), at least one as
// value > 0; random-max-percent draws a percentage in [0, value] and rounds
// up the same way, so a draw of 0 kills nothing.
var cmModes = map[string]string{
	"one": "", "all": "all", "fixed": "count", "fixed-percent": "percent", "random-max-percent": "maxPercent",
}

// validateCMPodChaos refuses what the PodChaos CRD schema and webhook
// (api/v1alpha1 podchaos_types.go, podchaos_webhook.go, common_webhook.go
// PodSelector.Validate) refuse, and selectors its pod selector fails on.
func validateCMPodChaos(spec cmPodChaosSpec) error {
	switch spec.Action {
	case "pod-kill", "pod-failure", "container-kill":
	case "":
		return fmt.Errorf("action is required (pod-kill, pod-failure or container-kill)")
	default:
		return fmt.Errorf("action %q is not one of pod-kill, pod-failure, container-kill", spec.Action)
	}
	if spec.Action == "container-kill" && len(spec.ContainerNames) == 0 {
		return fmt.Errorf("the name of container is required on container-kill action (containerNames), as Chaos Mesh's webhook says")
	}
	if spec.GracePeriod != nil && *spec.GracePeriod < 0 {
		return fmt.Errorf("gracePeriod %d: must be at least 0", *spec.GracePeriod)
	}
	if spec.Duration != nil && *spec.Duration != "" {
		if _, err := time.ParseDuration(*spec.Duration); err != nil {
			return fmt.Errorf("duration %q: %w", *spec.Duration, err)
		}
	}
	return validateCMSelector(spec.cmPodSelector)
}

func validateCMSelector(ps cmPodSelector) error {
	if ps.Selector == nil {
		return fmt.Errorf("selector is required (the CRD schema says so; selector: {} with namespaces defaulted is the smallest)")
	}
	value := string(ps.Value)
	switch ps.Mode {
	case "one", "all":
	case "fixed":
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			return fmt.Errorf("value %q: mode fixed needs a whole number greater than 0", value)
		}
	case "fixed-percent", "random-max-percent":
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 || n > 100 {
			return fmt.Errorf("value %q: mode %s needs a whole number in (0,100]", value, ps.Mode)
		}
	case "":
		return fmt.Errorf("mode is required (one, all, fixed, fixed-percent or random-max-percent)")
	default:
		return fmt.Errorf("mode %q is not one of one, all, fixed, fixed-percent, random-max-percent", ps.Mode)
	}
	if _, err := cmLabelSelector(*ps.Selector); err != nil {
		return fmt.Errorf("selector: Chaos Mesh would select no pod: %w", err)
	}
	if _, _, err := cmPhases(ps.Selector.PodPhaseSelectors); err != nil {
		return fmt.Errorf("selector.podPhaseSelectors: Chaos Mesh would select no pod: %w", err)
	}
	if _, err := labels.Parse(labels.Set(ps.Selector.AnnotationSelectors).String()); err != nil {
		return fmt.Errorf("selector.annotationSelectors: Chaos Mesh would select no pod: %w", err)
	}
	return nil
}

// cmLabelSelector builds the selector chaos-mesh's label selector does
// (pkg/selector/generic/label/selector.go): labelSelectors as matchLabels,
// expressionSelectors as matchExpressions, through LabelSelectorAsSelector.
func cmLabelSelector(s cmPodSelectorSpec) (labels.Selector, error) {
	ls := &metav1.LabelSelector{MatchLabels: s.LabelSelectors}
	for _, r := range s.ExpressionSelectors {
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: r.Key, Operator: metav1.LabelSelectorOperator(r.Operator), Values: r.Values,
		})
	}
	return metav1.LabelSelectorAsSelector(ls)
}

// cmPhases parses podPhaseSelectors as pkg/selector/pod/phase_selector.go
// does: the list joined by commas is a label selector over the set
// {phase: ""}; "Running" includes, "!Failed" excludes, anything else fails.
func cmPhases(list []string) (include, exclude []string, err error) {
	sel, err := labels.Parse(strings.Join(list, ","))
	if err != nil {
		return nil, nil, err
	}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Exists:
			include = append(include, r.Key())
		case selection.DoesNotExist:
			exclude = append(exclude, r.Key())
		default:
			return nil, nil, fmt.Errorf("unsupported operator: %s", r.Operator())
		}
	}
	return include, exclude, nil
}

// cmSelectorConv maps a PodSelector onto one experiment's target.
type cmSelectorConv struct {
	d    *draft
	exp  *draftExperiment
	path string
}

func (s *cmSelectorConv) disable(format string, args ...any) {
	s.exp.disabled = true
	s.d.warn(wUnsupportedFilter, s.exp, "%s; the experiment is disabled rather than run against more pods", fmt.Sprintf(format, args...))
}

// convert maps the selector as pkg/selector/pod/selector.go (v2.8.3)
// applies it: namespaces default to the object's own (PodSelector.Default in
// common_webhook.go); pods, when given, replace every other selector;
// otherwise label, expression, annotation, field, node and phase selectors
// all apply (AND). chaosd picks only Running, Ready pods, respecting PDBs.
func (s *cmSelectorConv) convert(obj cmObject, ps cmPodSelector) {
	sel := *ps.Selector
	t := &s.exp.target
	t.namespaces = sel.Namespaces
	if len(t.namespaces) == 0 {
		ns := obj.Metadata.Namespace
		if ns == "" {
			ns = "default"
			s.d.warn(wAssumedNamespace, s.exp, "%s: no selector.namespaces and no metadata.namespace: Chaos Mesh targets the namespace the object is created in, kubectl's current one; namespace default is assumed", s.path)
		}
		t.namespaces = []string{ns}
	}
	s.mode(ps)
	if len(sel.Pods) > 0 {
		var names []string
		for ns, pods := range sel.Pods {
			for _, p := range pods {
				names = append(names, ns+"/"+p)
			}
		}
		sort.Strings(names)
		s.disable("%s.selector.pods %s: chaosd cannot select pods by name (and Chaos Mesh ignores every other selector when pods is given); label the pods and select by label", s.path, strings.Join(names, ", "))
		return
	}
	ls, _ := cmLabelSelector(sel) // validated
	if !ls.Empty() {
		t.selector = ls.String()
	}
	s.fields(sel.FieldSelectors)
	s.annotations(sel.AnnotationSelectors)
	if len(sel.Nodes) > 0 || len(sel.NodeSelectors) > 0 {
		s.disable("%s.selector.nodes/nodeSelectors %s: chaosd cannot select pods by the node they run on", s.path, describeNodes(sel))
	}
	s.phases(sel.PodPhaseSelectors)
	s.allowNamespaces()
}

func describeNodes(sel cmPodSelectorSpec) string {
	parts := slices.Clone(sel.Nodes)
	if len(sel.NodeSelectors) > 0 {
		parts = append(parts, labels.Set(sel.NodeSelectors).String())
	}
	return strings.Join(parts, ", ")
}

func (s *cmSelectorConv) mode(ps cmPodSelector) {
	kind := cmModes[ps.Mode]
	switch ps.Mode {
	case "one", "all":
		if ps.Value != "" {
			s.d.note(nDriverIgnored, s.exp, "%s.value %q: Chaos Mesh ignores it in mode %s; so does chaosd", s.path, ps.Value, ps.Mode)
		}
		s.exp.target.mode = kind
		return
	}
	n, _ := strconv.Atoi(string(ps.Value)) // validated
	s.exp.target.mode = fmt.Sprintf("%s:%d", kind, n)
	if ps.Mode == "fixed" && n == 1 {
		s.exp.target.mode = ""
	}
	if ps.Mode == "random-max-percent" {
		s.d.warn(wApproxMode, s.exp, "%s mode random-max-percent %d: Chaos Mesh draws a percentage from 0 to %d and rounds up, so one run in %d kills no pod; chaosd's maxPercent:%d draws from 1 to %d and always kills at least one", s.path, n, n, n+1, n, n)
	}
}

// fields maps fieldSelectors (pkg/selector/generic/field/selector.go).
// metadata.namespace narrows the namespaces exactly; status.phase is a
// phase; any other field chaosd cannot select on.
func (s *cmSelectorConv) fields(fs map[string]string) {
	keys := make([]string, 0, len(fs))
	for k := range fs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fs[k]
		switch k {
		case "metadata.namespace":
			if !slices.Contains(s.exp.target.namespaces, v) {
				s.disable("%s.selector.fieldSelectors metadata.namespace=%s lies outside the namespaces %s, so Chaos Mesh selects no pod", s.path, v, strings.Join(s.exp.target.namespaces, ","))
				continue
			}
			s.exp.target.namespaces = []string{v}
		case "status.phase":
			s.phases([]string{v})
		default:
			s.disable("%s.selector.fieldSelectors %s=%s: chaosd cannot select pods by %s", s.path, k, v, k)
		}
	}
}

// annotations maps annotationSelectors. Only the opt-in pattern (one
// annotation equal to "true") has an equivalent, chaosd's optIn.
func (s *cmSelectorConv) annotations(as map[string]string) {
	if len(as) == 0 {
		return
	}
	if len(as) == 1 {
		for k, v := range as {
			if v == "true" {
				s.exp.target.optIn = true
				if k != "chaosd.io/enabled" {
					s.d.warn(wOptInAnnotation, s.exp, "%s.selector.annotationSelectors %s=true became optIn: true, which reads chaosd.io/enabled=true on the pod, its workload or its namespace; annotate them so instead of %s", s.path, k, k)
				}
				return
			}
		}
	}
	s.disable("%s.selector.annotationSelectors %s: chaosd cannot select pods by annotation (only opt in with chaosd.io/enabled=true)", s.path, labels.Set(as).String())
}

// phases maps podPhaseSelectors. chaosd only ever picks Running, Ready
// pods, so a selector that keeps Running is met; one that leaves it out
// selects pods chaosd never picks.
func (s *cmSelectorConv) phases(list []string) {
	if len(list) == 0 {
		return
	}
	include, exclude, _ := cmPhases(list) // validated
	running := string(corev1.PodRunning)
	switch {
	case slices.Contains(exclude, running) || (len(include) > 0 && !slices.Contains(include, running)):
		s.disable("%s.selector.podPhaseSelectors %s: chaosd picks only Running pods", s.path, strings.Join(list, ","))
	case len(include) > 1:
		s.d.warn(wUnsupportedFilter, s.exp, "%s.selector.podPhaseSelectors %s: chaosd picks only Running pods; pods in the other phases are left out", s.path, strings.Join(list, ","))
	}
}

// allowNamespaces lets the default policy allow a namespace chaosd
// otherwise never targets, when the source names it.
func (s *cmSelectorConv) allowNamespaces() {
	for _, ns := range s.exp.target.namespaces {
		if slices.Contains(config.AlwaysExcludedNamespaces, ns) {
			if s.d.policy == nil {
				s.d.policy = &draftPolicy{}
			}
			if !slices.Contains(s.d.policy.allow, ns) {
				s.d.policy.allow = append(s.d.policy.allow, ns)
			}
			s.d.note(nBuiltInExclusion, s.exp, "namespace %s is selected, so the default policy allows it (chaosd excludes it otherwise)", ns)
		}
	}
	s.d.note(nRunningOnly, nil, "Chaos Mesh picks pods in any phase, ready or not, and deletes them regardless of PodDisruptionBudgets; chaosd picks only Running, Ready pods and skips those a PDB protects (set respectPodDisruptionBudgets: false in the policy to ignore PDBs)")
}
