package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// workloadKinds are the kinds kube-monkey reads its labels from.
var workloadKinds = []string{"Deployment", "StatefulSet", "DaemonSet"}

type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	} `yaml:"spec"`
	Items []manifest `yaml:"items"` // kind: List, as kubectl get -o yaml prints
}

// KubeMonkeyApps reads the apps from Kubernetes manifests: YAML documents
// (or a List) of Deployments, StatefulSets and DaemonSets, as `kubectl get
// deploy,sts,ds -A -o yaml` prints them. Other kinds are skipped. Only
// matchLabels of a selector are read; matchExpressions leave PodSelector
// empty, so pods are then selected by kube-monkey/identifier.
func KubeMonkeyApps(manifests []byte) ([]App, error) {
	dec := yaml.NewDecoder(bytes.NewReader(manifests))
	var apps []App
	for i := 0; ; i++ {
		var m manifest
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return apps, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read manifest document %d: %w", i+1, err)
		}
		for _, w := range append([]manifest{m}, m.Items...) {
			if slices.Contains(workloadKinds, w.Kind) {
				apps = append(apps, App{
					Namespace:   w.Metadata.Namespace,
					Name:        w.Metadata.Name,
					Labels:      w.Metadata.Labels,
					PodSelector: matchLabels(w.Spec.Selector.MatchLabels),
				})
			}
		}
	}
}

// matchLabels writes matchLabels as a selector, keys sorted.
func matchLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}
