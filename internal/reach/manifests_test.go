package reach

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// loadManifests reads testdata files, multi-document YAML as kubectl
// applies it, into a Mesh and the last VirtualService found.
func loadManifests(t *testing.T, files ...string) (Mesh, *istiov1.VirtualService) {
	t.Helper()
	var m Mesh
	var vs *istiov1.VirtualService
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var u unstructured.Unstructured
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			into := func(obj any) {
				if err := yaml.Unmarshal(doc, obj); err != nil {
					t.Fatalf("%s: %s %s: %v", f, u.GetKind(), u.GetName(), err)
				}
			}
			switch u.GetKind() {
			case "Namespace":
				var o corev1.Namespace
				into(&o)
				m.Namespaces = append(m.Namespaces, o)
			case "Pod":
				var o corev1.Pod
				into(&o)
				m.Pods = append(m.Pods, o)
			case "Service":
				var o corev1.Service
				into(&o)
				m.Services = append(m.Services, o)
			case "Gateway":
				o := &istiov1.Gateway{}
				into(o)
				m.Gateways = append(m.Gateways, o)
			case "ServiceEntry":
				o := &istiov1.ServiceEntry{}
				into(o)
				m.ServiceEntries = append(m.ServiceEntries, o)
			case "HTTPRoute":
				m.HTTPRoutes = append(m.HTTPRoutes, HTTPRouteOf(&u))
			case "VirtualService":
				vs = &istiov1.VirtualService{}
				into(vs)
			default:
				t.Fatalf("%s: unexpected kind %q", f, u.GetKind())
			}
		}
	}
	return m, vs
}
