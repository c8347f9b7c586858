package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The Chaos Mesh objects the importer reads, field for field as in
// chaos-mesh/chaos-mesh v2.8.3 (60ec97f1fd5d5edb2fb5c722c8888e18b618d1a0):
// api/v1alpha1/selector.go (PodSelectorSpec, PodSelector),
// podchaos_types.go (PodChaosSpec), schedule_types.go (ScheduleSpec),
// httpchaos_types.go and podhttpchaos_types.go (HTTPChaosSpec). They are
// defined here rather than imported from github.com/chaos-mesh/chaos-mesh/api:
// that package links controller-runtime's webhook, manager and cache (+4.2 MB,
// +63 packages), and compiles only with a controller-runtime it does not pin
// (docs/benchmarks.md has the measurement). Decoding is strict, as
// kubectl's default --validate=strict: an unknown field is refused, so
// every field either maps or is named in a finding.

// cmGroupVersion is the apiVersion of every Chaos Mesh kind.
const cmGroupVersion = "chaos-mesh.org/v1alpha1"

// cmHeader is what every document is first read as.
type cmHeader struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   cmMeta      `yaml:"metadata"`
	Spec       yaml.Node   `yaml:"spec"`
	Status     yaml.Node   `yaml:"status"`
	Items      []yaml.Node `yaml:"items"` // kind: List, as kubectl get -o yaml prints
}

// cmMeta is ObjectMeta as far as the conversion needs it; Other keeps the
// rest (labels, uid, managedFields...) so each can be named in a note.
type cmMeta struct {
	Name      string         `yaml:"name"`
	Namespace string         `yaml:"namespace"`
	Other     map[string]any `yaml:",inline"`
}

// cmPodSelectorSpec is api/v1alpha1 PodSelectorSpec (GenericSelectorSpec inlined).
type cmPodSelectorSpec struct {
	Namespaces          []string            `yaml:"namespaces"`
	FieldSelectors      map[string]string   `yaml:"fieldSelectors"`
	LabelSelectors      map[string]string   `yaml:"labelSelectors"`
	ExpressionSelectors []cmRequirement     `yaml:"expressionSelectors"`
	AnnotationSelectors map[string]string   `yaml:"annotationSelectors"`
	Nodes               []string            `yaml:"nodes"`
	Pods                map[string][]string `yaml:"pods"`
	NodeSelectors       map[string]string   `yaml:"nodeSelectors"`
	PodPhaseSelectors   []string            `yaml:"podPhaseSelectors"`
}

// cmRequirement is metav1.LabelSelectorRequirement.
type cmRequirement struct {
	Key      string   `yaml:"key"`
	Operator string   `yaml:"operator"`
	Values   []string `yaml:"values"`
}

// cmPodSelector is api/v1alpha1 PodSelector: selector, mode and value.
type cmPodSelector struct {
	Selector *cmPodSelectorSpec `yaml:"selector"` // required by the CRD schema
	Mode     string             `yaml:"mode"`
	Value    cmString           `yaml:"value"`
}

// cmPodChaosSpec is api/v1alpha1 PodChaosSpec (ContainerSelector inlined).
type cmPodChaosSpec struct {
	cmPodSelector  `yaml:",inline"`
	ContainerNames []string `yaml:"containerNames"`
	Action         string   `yaml:"action"`
	Duration       *string  `yaml:"duration"`
	GracePeriod    *int64   `yaml:"gracePeriod"`
	RemoteCluster  string   `yaml:"remoteCluster"`
}

// cmScheduleSpec is api/v1alpha1 ScheduleSpec; Items holds ScheduleItem's
// embedded specs (podChaos, networkChaos, ..., workflow) by their key.
type cmScheduleSpec struct {
	Schedule                string               `yaml:"schedule"`
	StartingDeadlineSeconds *int64               `yaml:"startingDeadlineSeconds"`
	ConcurrencyPolicy       string               `yaml:"concurrencyPolicy"`
	HistoryLimit            *int                 `yaml:"historyLimit"`
	Type                    string               `yaml:"type"`
	Items                   map[string]yaml.Node `yaml:",inline"`
}

// cmHTTPChaosSpec is api/v1alpha1 HTTPChaosSpec; only what decides the
// warning is typed, the rest is kept to be named.
type cmHTTPChaosSpec struct {
	cmPodSelector `yaml:",inline"`
	Target        string         `yaml:"target"`
	Port          int32          `yaml:"port"`
	Path          *string        `yaml:"path"`
	Method        *string        `yaml:"method"`
	Abort         *bool          `yaml:"abort"`
	Delay         *string        `yaml:"delay"`
	Duration      *string        `yaml:"duration"`
	Other         map[string]any `yaml:",inline"`
}

// cmString is a field the CRD schema types as a string: Kubernetes refuses
// `value: 2` (an integer), so the importer does too.
type cmString string

func (s *cmString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return fmt.Errorf("line %d: must be a string (quote it: %q), as the Chaos Mesh CRD requires", n.Line, n.Value)
	}
	*s = cmString(n.Value)
	return nil
}

// scheduleItemKeys maps a Schedule's spec.type to the key of its embedded
// spec (EmbedChaos in api/v1alpha1/common_types.go, ScheduleItem.Workflow).
var scheduleItemKeys = map[string]string{
	"AWSChaos": "awsChaos", "AzureChaos": "azureChaos", "BlockChaos": "blockChaos", "DNSChaos": "dnsChaos",
	"GCPChaos": "gcpChaos", "HTTPChaos": "httpChaos", "IOChaos": "ioChaos", "JVMChaos": "jvmChaos",
	"KernelChaos": "kernelChaos", "NetworkChaos": "networkChaos", "PhysicalMachineChaos": "physicalmachineChaos",
	"PodChaos": "podChaos", "StressChaos": "stressChaos", "TimeChaos": "timeChaos", "Workflow": "workflow",
}

// cmObject is one Chaos Mesh document with where it came from.
type cmObject struct {
	cmHeader
	where string // "a.yaml document 2"
}

// decodeChaosMesh splits a file into its documents (and List items).
func decodeChaosMesh(f File) ([]cmObject, error) {
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var out []cmObject
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s document %d: %w", f.Name, i, err)
		}
		where := fmt.Sprintf("%s document %d", f.Name, i)
		var h cmHeader
		if err := n.Decode(&h); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if h.Kind == "" && h.APIVersion == "" && h.Spec.IsZero() {
			continue // an empty document: a leading or trailing ---
		}
		if h.Kind != "List" {
			out = append(out, cmObject{cmHeader: h, where: where})
			continue
		}
		for j, item := range h.Items {
			var ih cmHeader
			if err := item.Decode(&ih); err != nil {
				return nil, fmt.Errorf("%s items[%d]: %w", where, j, err)
			}
			out = append(out, cmObject{cmHeader: ih, where: fmt.Sprintf("%s items[%d]", where, j)})
		}
	}
}

// strictDecode decodes n into out refusing unknown fields, as kubectl's
// default strict field validation does.
func strictDecode(n *yaml.Node, out any) error {
	if n.IsZero() {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value == "scheduler" {
				return fmt.Errorf("line %d: unknown field \"scheduler\": it is Chaos Mesh 1.x's, and Chaos Mesh 2 refuses it; "+
					"wrap the spec in a Schedule (spec.schedule, spec.type: PodChaos, spec.podChaos) and import that", k.Line)
			}
		}
	}
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		// "field foo not found in type importer.cmPodChaosSpec" names Go
		// types; say it as kubectl does.
		msg := notFoundField.ReplaceAllString(err.Error(), `unknown field "$1"`)
		// Lines count from n, which was re-encoded: count them from the file.
		msg = lineNumber.ReplaceAllStringFunc(msg, func(m string) string {
			k, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
			return fmt.Sprintf("line %d", k+n.Line-1)
		})
		return errors.New(msg)
	}
	return nil
}

var lineNumber = regexp.MustCompile(`line \d+`)

var notFoundField = regexp.MustCompile(`field (\S+) not found in type \S+`)
