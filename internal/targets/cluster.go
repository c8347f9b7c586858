package targets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	istioclient "istio.io/client-go/pkg/clientset/versioned"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// ClusterOptions configures a ClusterSource.
type ClusterOptions struct {
	// Kube serves the pod, workload and PDB informers and the live reads.
	Kube kubernetes.Interface
	// Metadata serves the namespace informer (cluster-wide mode only).
	Metadata metadata.Interface
	// Istio may be nil when no experiment targets VirtualServices.
	Istio istioclient.Interface
	// PageSize bounds every live LIST (default 500), so a large list never
	// sits in memory whole.
	PageSize int64
	// Namespaces, when set, confines the source to these namespaces (chaosd
	// --namespaced): see ClusterSource.
	Namespaces []string
}

// ClusterSource is the Source the daemon uses; it costs little memory at
// 100k pods and answers a pick from its informers' caches, so a pick costs
// no request to the API server unless it targets nodes or VirtualServices.
//
//   - Pods, ReplicaSets, Deployments, StatefulSets, DaemonSets and PDBs come
//     from informers whose initial list is streamed (client-go's
//     WatchListClient gate is on by default since 1.35, so the reflector
//     opens a WATCH with sendInitialEvents and falls back to a paged LIST by
//     itself when the server refuses it; KUBE_FEATURE_WatchListClient=false
//     forces the LIST). A transform compacts each object as it arrives into
//     a Meta, dropping managedFields, specs and every annotation but
//     chaosd's own, and interning shared strings: a pod keeps its labels and
//     its phase, readiness and node; a workload its desired replicas and no
//     labels; a PDB its selector and allowance. The pod informer's handlers
//     keep a PodIndex (sorted, counted) that picks read without walking the
//     store. Namespaces come from a metadata-only informer.
//   - A visited pod's status, its workload's replicas and pods, and its
//     namespace's PDBs are read from those caches: as fresh as the watch,
//     which is what the Eviction API's own PDB check acts on too (the
//     disruption controller computes disruptionsAllowed from its informers).
//     The lag after chaosd's own kills is covered by the Ledger, which
//     counts a reserved pod unavailable until its run ends.
//   - Nodes and VirtualServices are listed live, in pages, at pick time:
//     node faults are rare, their safety floors must see the cluster as it
//     is, and Node objects are too large to cache whole.
//
// With Namespaces set (namespaced mode, where chaosd's RBAC is a Role in
// each of them) it never reads anything cluster-wide: the pod and workload
// informers run once per namespace; there is no namespace informer, so the
// namespaces carry no labels or annotations (a Role cannot read Namespace
// objects; the watched list itself is the namespace-level opt-in, and an
// opt-out must sit on the workload or the pod); VirtualServices are listed
// per namespace; nodes cannot be read at all.
//
// Start it, then wait for WaitForCacheSync (or poll HasSynced for /readyz)
// before picking: until then Pods fails rather than pick from a partial
// inventory.
type ClusterSource struct {
	kube     kubernetes.Interface
	istio    istioclient.Interface
	pageSize int64

	// watched lists the namespaces of namespaced mode, sorted; nil means
	// cluster-wide.
	watched []string
	// namespaces is nil in namespaced mode.
	namespaces cache.SharedIndexInformer
	// scopes holds the pod and workload informers by namespace: one entry
	// per watched namespace, or the single entry "" (all) cluster-wide.
	scopes map[string]*inventory
	// pods is every scope's pods, sorted for picking; the pod informers'
	// event handlers keep it current.
	pods *PodIndex

	startOnce sync.Once

	// denials holds, per informer, the last list or watch the API server
	// refused (403/401) while the informer had not synced.
	denialsMu sync.Mutex
	denials   map[cache.SharedIndexInformer]error
}

// inventory is the pod, workload and PodDisruptionBudget informers of one
// namespace, or of all.
type inventory struct {
	pods cache.SharedIndexInformer
	// indexed reports whether the PodIndex has every pod of the initial list.
	indexed   cache.ResourceEventHandlerRegistration
	workloads map[string]cache.SharedIndexInformer // by kind
	pdbs      cache.SharedIndexInformer
}

var _ Source = (*ClusterSource)(nil)

// gvrNamespaces is what the metadata informer watches: a namespace's labels
// and annotations are all a pick reads of it.
var gvrNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// NewClusterSource builds the informers; nothing is read before Start.
func NewClusterSource(o ClusterOptions) *ClusterSource {
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	s := &ClusterSource{
		kube:     o.Kube,
		istio:    o.Istio,
		pageSize: o.PageSize,
		scopes:   map[string]*inventory{},
		pods:     &PodIndex{},
		denials:  map[cache.SharedIndexInformer]error{},
	}
	watched := sets.New(o.Namespaces...)
	watched.Delete(metav1.NamespaceAll) // "" would mean every namespace
	if watched.Len() == 0 {
		s.namespaces = metaInformer(o.Metadata, gvrNamespaces, metav1.NamespaceAll, true)
		s.scopes[metav1.NamespaceAll] = newInventory(o.Kube, metav1.NamespaceAll, s.pods)
	} else {
		s.watched = sets.List(watched) // sorted
		for _, ns := range s.watched {
			s.scopes[ns] = newInventory(o.Kube, ns, s.pods)
		}
	}
	for _, inf := range s.informers() {
		if err := inf.SetWatchErrorHandlerWithContext(s.watchErrorHandler(inf)); err != nil {
			panic(fmt.Sprintf("set watch error handler on a new informer: %v", err)) // only fails once started
		}
	}
	return s
}

// watchErrorHandler remembers the API server's refusals for Denied, then
// leaves the retry with backoff to client-go.
func (s *ClusterSource) watchErrorHandler(inf cache.SharedIndexInformer) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *cache.Reflector, err error) {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			s.denialsMu.Lock()
			s.denials[inf] = err
			s.denialsMu.Unlock()
		}
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}
}

// Denied returns a refusal (403 or 401) the API server gave an informer
// that has not synced yet, or nil. Waiting does not cure a refusal, only an
// RBAC change does, so one-shot callers stop on it and the daemon's
// /readyz reports it.
func (s *ClusterSource) Denied() error {
	s.denialsMu.Lock()
	defer s.denialsMu.Unlock()
	var msgs []string
	for inf, err := range s.denials {
		if !inf.HasSynced() {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	slices.Sort(msgs)
	return fmt.Errorf("%w: %s", ErrDenied, msgs[0])
}

// ErrDenied means the API server refused to list or watch what the
// inventory needs: chaosd's RBAC does not cover it.
var ErrDenied = errors.New("the API server refused the inventory's list or watch (check chaosd's RBAC)")

func newInventory(client kubernetes.Interface, namespace string, pods *PodIndex) *inventory {
	inv := &inventory{
		pods:      podInformer(client, namespace),
		workloads: workloadInformers(client, namespace),
		pdbs:      pdbInformer(client, namespace),
	}
	var err error
	if inv.indexed, err = inv.pods.AddEventHandler(indexPods(pods)); err != nil {
		panic(fmt.Sprintf("add an event handler to a new informer: %v", err)) // only fails once stopped
	}
	return inv
}

// indexPods keeps a PodIndex in step with a pod informer. The Metas it
// indexes are the ones the informer stores: the index costs a pointer and
// a slot per pod, not a copy.
func indexPods(idx *PodIndex) cache.ResourceEventHandlerFuncs {
	upsert := func(obj any) {
		if c, ok := obj.(*cachedMeta); ok {
			idx.Upsert(&c.Meta)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    upsert,
		UpdateFunc: func(_, obj any) { upsert(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				if ns, name, err := cache.SplitMetaNamespaceKey(tomb.Key); err == nil {
					idx.Delete(ns, name)
				}
				return
			}
			if c, ok := obj.(*cachedMeta); ok {
				idx.Delete(c.Namespace, c.Name)
			}
		},
	}
}

// metaInformer watches one resource's metadata in a namespace ("" for
// all), compacted into Metas, without indexes.
func metaInformer(client metadata.Interface, gvr schema.GroupVersionResource, namespace string, withLabels bool) cache.SharedIndexInformer {
	inf := metadatainformer.NewFilteredMetadataInformer(client, gvr, namespace, 0, cache.Indexers{}, nil).Informer()
	return withTransform(inf, compactTransform(withLabels))
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
// and reports whether they synced. It keeps waiting through refusals, as a
// daemon must while its RBAC is being fixed; see WaitSynced.
func (s *ClusterSource) WaitForCacheSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), s.synced()...)
}

// WaitSynced blocks until every informer has synced and returns nil, or
// returns an error wrapping ErrDenied as soon as the API server refuses a
// list or watch, or ctx's error with the last refusal if any.
func (s *ClusterSource) WaitSynced(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.HasSynced() {
			return nil
		}
		if err := s.Denied(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("inventory of pods and workloads not synced: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
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
	var out []cache.SharedIndexInformer
	if s.namespaces != nil {
		out = append(out, s.namespaces)
	}
	for _, inv := range s.scopes {
		out = append(out, inv.pods, inv.pdbs)
		for _, inf := range inv.workloads {
			out = append(out, inf)
		}
	}
	return out
}

func (s *ClusterSource) synced() []cache.InformerSynced {
	var out []cache.InformerSynced
	for _, inf := range s.informers() {
		out = append(out, inf.HasSynced)
	}
	for _, inv := range s.scopes {
		out = append(out, inv.indexed.HasSynced)
	}
	return out
}

// errNotSynced is returned until the inventory is complete.
var errNotSynced = errors.New("inventory not synced yet")

// Namespaces implements NamespaceSource. In namespaced mode it returns the
// watched namespaces, without labels or annotations.
func (s *ClusterSource) Namespaces(context.Context) ([]*Meta, error) {
	if s.namespaces == nil {
		out := make([]*Meta, len(s.watched))
		for i, ns := range s.watched {
			out[i] = &Meta{Name: ns}
		}
		return out, nil
	}
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

// Pods implements PodSource: every watched pod, once each scope's initial
// list has reached the index.
func (s *ClusterSource) Pods(context.Context) (*PodIndex, error) {
	for _, inv := range s.scopes {
		if !inv.pods.HasSynced() || !inv.indexed.HasSynced() {
			return nil, errNotSynced
		}
	}
	return s.pods, nil
}

// Workload implements PodSource.
func (s *ClusterSource) Workload(_ context.Context, kind, namespace, name string) (*Meta, error) {
	c, err := s.cachedWorkload(kind, namespace, name)
	if c == nil || err != nil {
		return nil, err
	}
	return &c.Meta, nil
}

// scope returns the inventory that holds a namespace, or nil when the
// namespace is not watched.
func (s *ClusterSource) scope(namespace string) *inventory {
	if s.watched != nil {
		return s.scopes[namespace]
	}
	return s.scopes[metav1.NamespaceAll]
}

// cached reads one object from a synced informer's store; nil when absent.
func cached(inf cache.SharedIndexInformer, namespace, name string) (*cachedMeta, error) {
	if !inf.HasSynced() {
		return nil, errNotSynced
	}
	obj, found, err := inf.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !found {
		return nil, err
	}
	c, _ := obj.(*cachedMeta)
	return c, nil
}

// cachedWorkload reads a workload from its kind's informer; nil when it is
// not known or its namespace is not watched.
func (s *ClusterSource) cachedWorkload(kind, namespace, name string) (*cachedMeta, error) {
	inv := s.scope(namespace)
	if inv == nil {
		return nil, nil // not a watched namespace: nothing is known there
	}
	inf, ok := inv.workloads[kind]
	if !ok {
		return nil, nil
	}
	return cached(inf, namespace, name)
}

// cachedMeta is how a Meta sits in an informer's store. client-go keys its
// stores through meta.Accessor and records resource versions; answering
// with a throwaway ObjectMeta keeps the stored object small.
type cachedMeta struct {
	Meta
	resourceVersion string
	// pod is a pod's status; nil for every other kind.
	pod *cachedPod
	// desired is a workload's desired replicas (a DaemonSet's desired
	// number scheduled).
	desired int
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
