package cluster

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// fieldManager owns every field the harness applies.
const fieldManager = "chaosd-e2e"

// Apply server-side applies a multi-document YAML manifest, like
// `kubectl apply --server-side --force-conflicts`: objects are created or
// brought back to the manifest's state, whoever changed them since.
func (c *Cluster) Apply(ctx context.Context, manifest []byte) error {
	return applyManifest(ctx, c.Kube.Discovery(), c.dynamic, manifest)
}

func applyManifest(ctx context.Context, disc discovery.DiscoveryInterface, dyn dynamic.Interface, manifest []byte) error {
	objs, err := decodeManifests(manifest)
	if err != nil {
		return err
	}
	// Discover per call: CRDs installed since the last call must resolve.
	groups, err := restmapper.GetAPIGroupResources(disc)
	if err != nil {
		return fmt.Errorf("discover API resources: %w", err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("map %s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		var client dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			client = dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
		}
		_, err = client.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
		if err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}
