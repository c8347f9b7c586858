package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

const istioAPIModule = "istio.io/api"

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// istioCRDPath finds customresourcedefinitions.gen.yaml of the istio.io/api
// version this module requires, so the CRDs match the generated client
// chaosd uses. In order: CHAOSD_E2E_ISTIO_CRDS; `go list -m` in the module
// containing cwd (tests, go run); the version in this binary's build info
// under GOMODCACHE (a built CLI; test binaries carry no dependency info).
func istioCRDPath(getenv func(string) string, cwd string) (string, error) {
	if p := getenv("CHAOSD_E2E_ISTIO_CRDS"); p != "" {
		return p, nil
	}
	const rel = "kubernetes/customresourcedefinitions.gen.yaml"
	var errs []error
	if root, ok := moduleRoot(cwd); ok {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", istioAPIModule)
		cmd.Dir = root
		out, err := cmd.Output()
		if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
			return filepath.Join(dir, rel), nil
		}
		errs = append(errs, fmt.Errorf("go list -m %s in %s: %w", istioAPIModule, root, err))
	}
	if version := buildInfoVersion(istioAPIModule); version != "" {
		modCache := getenv("GOMODCACHE")
		if modCache == "" {
			out, err := exec.Command("go", "env", "GOMODCACHE").Output()
			if err != nil {
				return "", fmt.Errorf("go env GOMODCACHE: %w", err)
			}
			modCache = strings.TrimSpace(string(out))
		}
		path := filepath.Join(modCache, istioAPIModule+"@"+version, rel)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
		errs = append(errs, fmt.Errorf("%s not found (go mod download %s@%s)", path, istioAPIModule, version))
	}
	errs = append(errs, errors.New("set CHAOSD_E2E_ISTIO_CRDS to the Istio CRD file"))
	return "", fmt.Errorf("locate istio CRDs: %w", errors.Join(errs...))
}

// buildInfoVersion is the version of module linked into this binary, or "".
func buildInfoVersion(module string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == module {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return ""
}

// decodeManifests splits a multi-document YAML stream into objects,
// skipping empty documents.
func decodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decode manifest %d: %w", len(objs)+1, err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

// installCRDs creates the CRDs in path that do not exist yet (an existing
// cluster's CRDs, e.g. from a real Istio, are left untouched) and waits until
// all of them are Established, i.e. servable.
func installCRDs(ctx context.Context, dyn dynamic.Interface, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read CRDs: %w", err)
	}
	crds, err := decodeManifests(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	client := dyn.Resource(crdGVR)
	for _, crd := range crds {
		if crd.GetKind() != "CustomResourceDefinition" {
			continue
		}
		_, err := client.Create(ctx, crd, metav1.CreateOptions{FieldManager: fieldManager})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", crd.GetName(), err)
		}
	}
	for _, crd := range crds {
		name := crd.GetName()
		err := poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
			got, err := client.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			return crdEstablished(got), "not established", nil
		})
		if err != nil {
			return fmt.Errorf("wait for CRD %s: %w", name, err)
		}
	}
	return nil
}

func crdEstablished(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
