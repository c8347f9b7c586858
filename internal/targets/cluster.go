package targets

import (
	"context"
	"errors"
	"fmt"
	"sync"

	istioclient "istio.io/client-go/pkg/clientset/versioned"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// ClusterOptions configures a ClusterSource.
type ClusterOptions struct {
	Kube     kubernetes.Interface
	Metadata metadata.Interface
	// Istio may be nil when no experiment targets VirtualServices.
	Istio istioclient.Interface
	// PageSize bounds every live LIST (default 500), so a large list never
	// sits in memory whole.
	PageSize int64
}

// ClusterSource is the Source the daemon uses; it costs little memory at
// 100k pods and reads the API server only for what a pick visits.
//
//   - Pods, ReplicaSets, Deployments, StatefulSets, DaemonSets and namespaces
//     come from metadata-only informers (protobuf metadata, initial list
//     streamed). A transform compacts each object into a Meta as it arrives,
//     dropping managedFields and every annotation but chaosd's own, and
//     interning shared strings; workloads keep no labels.
//   - A visited pod's status, its workload's replicas and pods, and its
//     namespace's PDBs are read live: a pod's readiness must be current, and
//     only a few workloads are visited per pick.
//   - Nodes and VirtualServices are listed live, in pages, at pick time:
//     node faults are rare, their safety floors must see the cluster as it
//     is, and Node objects are too large to cache whole.
//
// Start it, then wait for WaitForCacheSync (or poll HasSynced for /readyz)
// before picking: until then Pods fails rather than pick from a partial
// inventory.
type ClusterSource struct {
	kube     kubernetes.Interface
	istio    istioclient.Interface
	pageSize int64

	namespaces cache.SharedIndexInformer
	pods       cache.SharedIndexInformer
	workloads  map[string]cache.SharedIndexInformer // by kind

	startOnce sync.Once
}

var _ Source = (*ClusterSource)(nil)

// Resources the metadata informers watch.
var (
	gvrNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrPods       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	workloadGVRs  = map[string]schema.GroupVersionResource{
		KindReplicaSet:  {Group: "apps", Version: "v1", Resource: "replicasets"},
		KindDeployment:  {Group: "apps", Version: "v1", Resource: "deployments"},
		KindStatefulSet: {Group: "apps", Version: "v1", Resource: "statefulsets"},
		KindDaemonSet:   {Group: "apps", Version: "v1", Resource: "daemonsets"},
	}
)

// NewClusterSource builds the informers; nothing is read before Start.
func NewClusterSource(o ClusterOptions) *ClusterSource {
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	s := &ClusterSource{
		kube:       o.Kube,
		istio:      o.Istio,
		pageSize:   o.PageSize,
		namespaces: metaInformer(o.Metadata, gvrNamespaces, true),
		pods:       metaInformer(o.Metadata, gvrPods, true),
		workloads:  map[string]cache.SharedIndexInformer{},
	}
	for kind, gvr := range workloadGVRs {
		s.workloads[kind] = metaInformer(o.Metadata, gvr, false)
	}
	return s
}

// metaInformer watches one resource's metadata, compacted into Metas. It
// has no indexes: a pick walks every pod anyway, and each index would cost
// another map entry per pod.
func metaInformer(client metadata.Interface, gvr schema.GroupVersionResource, withLabels bool) cache.SharedIndexInformer {
	inf := metadatainformer.NewFilteredMetadataInformer(client, gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	if err := inf.SetTransform(compactTransform(withLabels)); err != nil {
		panic(fmt.Sprintf("set transform on a new informer: %v", err)) // only fails once started
	}
	return inf
}

// Start runs the informers until ctx is done. Calling it again does nothing.
func (s *ClusterSource) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		for _, inf := range s.informers() {
			go inf.RunWithContext(ctx)
		}
	})
}

// WaitForCacheSync blocks until every informer has synced or ctx is done,
// and reports whether they synced.
func (s *ClusterSource) WaitForCacheSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), s.synced()...)
}

// HasSynced reports whether every informer has synced, for /readyz.
func (s *ClusterSource) HasSynced() bool {
	for _, ok := range s.synced() {
		if !ok() {
			return false
		}
	}
	return true
}

func (s *ClusterSource) informers() []cache.SharedIndexInformer {
	out := []cache.SharedIndexInformer{s.namespaces, s.pods}
	for _, inf := range s.workloads {
		out = append(out, inf)
	}
	return out
}

func (s *ClusterSource) synced() []cache.InformerSynced {
	var out []cache.InformerSynced
	for _, inf := range s.informers() {
		out = append(out, inf.HasSynced)
	}
	return out
}

// errNotSynced is returned until the inventory is complete.
var errNotSynced = errors.New("inventory not synced yet")

// Namespaces implements NamespaceSource.
func (s *ClusterSource) Namespaces(context.Context) ([]*Meta, error) {
	if !s.namespaces.HasSynced() {
		return nil, errNotSynced
	}
	items := s.namespaces.GetStore().List()
	out := make([]*Meta, 0, len(items))
	for _, obj := range items {
		if c, ok := obj.(*cachedMeta); ok {
			out = append(out, &c.Meta)
		}
	}
	return out, nil
}

// Pods implements PodSource.
func (s *ClusterSource) Pods(_ context.Context, fn func(*Meta) error) error {
	if !s.pods.HasSynced() {
		return errNotSynced
	}
	for _, obj := range s.pods.GetStore().List() {
		if c, ok := obj.(*cachedMeta); ok {
			if err := fn(&c.Meta); err != nil {
				return err
			}
		}
	}
	return nil
}

// Workload implements PodSource.
func (s *ClusterSource) Workload(_ context.Context, kind, namespace, name string) (*Meta, error) {
	inf, ok := s.workloads[kind]
	if !ok {
		return nil, nil
	}
	if !inf.HasSynced() {
		return nil, errNotSynced
	}
	obj, found, err := inf.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !found {
		return nil, err
	}
	if c, ok := obj.(*cachedMeta); ok {
		return &c.Meta, nil
	}
	return nil, nil
}

// cachedMeta is how a Meta sits in an informer's store. client-go keys its
// stores through meta.Accessor and records resource versions; answering
// with a throwaway ObjectMeta keeps the stored object small.
type cachedMeta struct {
	Meta
	resourceVersion string
}

var _ metav1.ObjectMetaAccessor = (*cachedMeta)(nil)

func (c *cachedMeta) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name, ResourceVersion: c.resourceVersion}
}

// compactTransform turns PartialObjectMetadata into a *cachedMeta before it
// is stored. It must be idempotent: client-go may pass it objects already
// transformed (the streamed initial list is transformed twice).
func compactTransform(withLabels bool) cache.TransformFunc {
	return func(obj any) (any, error) {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
			return &cachedMeta{Meta: compactMeta(&m.ObjectMeta, withLabels), resourceVersion: m.ResourceVersion}, nil
		}
		return obj, nil // already compacted, or a tombstone
	}
}
