package targets

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	policyinformers "k8s.io/client-go/informers/policy/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Reads from the informers' caches: what a pick checks of each candidate it
// visits (the pod's readiness, its workload's replicas and pods, its
// namespace's PDBs). They are as fresh as the watch, which is what the
// Eviction API's own PDB check and the disruption controller act on too;
// the Ledger covers the lag after chaosd's own picks.

// cachedPod is what a pick needs of a pod beyond its metadata.
type cachedPod struct {
	phase corev1.PodPhase
	node  string
	ready bool
}

// podInformer watches a namespace's pods (all with "") in full and keeps
// each as a Meta with its cachedPod.
func podInformer(client kubernetes.Interface, namespace string) cache.SharedIndexInformer {
	return withTransform(coreinformers.NewFilteredPodInformer(client, namespace, 0, cache.Indexers{}, nil), podTransform)
}

// podTransform compacts a Pod into a *cachedMeta. Like every transform
// here it is idempotent: client-go may pass it objects already transformed
// (the streamed initial list is transformed twice), and tombstones.
func podTransform(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	st := PodStatusOf(p)
	return &cachedMeta{
		Meta:            compactMeta(&p.ObjectMeta, true),
		resourceVersion: p.ResourceVersion,
		pod:             &cachedPod{phase: corev1.PodPhase(intern(string(st.Phase))), node: intern(st.Node), ready: st.Ready},
	}, nil
}

// workloadInformers watches the four workload kinds a pod can belong to,
// keeping each as a Meta (no labels: workloads are looked up by name) with
// its desired replicas.
func workloadInformers(client kubernetes.Interface, namespace string) map[string]cache.SharedIndexInformer {
	none := cache.Indexers{}
	return map[string]cache.SharedIndexInformer{
		KindDeployment:  withTransform(appsinformers.NewFilteredDeploymentInformer(client, namespace, 0, none, nil), workloadTransform),
		KindStatefulSet: withTransform(appsinformers.NewFilteredStatefulSetInformer(client, namespace, 0, none, nil), workloadTransform),
		KindReplicaSet:  withTransform(appsinformers.NewFilteredReplicaSetInformer(client, namespace, 0, none, nil), workloadTransform),
		KindDaemonSet:   withTransform(appsinformers.NewFilteredDaemonSetInformer(client, namespace, 0, none, nil), workloadTransform),
	}
}

func workloadTransform(obj any) (any, error) {
	var om *metav1.ObjectMeta
	var desired int
	switch w := obj.(type) {
	case *appsv1.Deployment:
		om, desired = &w.ObjectMeta, replicas(w.Spec.Replicas)
	case *appsv1.StatefulSet:
		om, desired = &w.ObjectMeta, replicas(w.Spec.Replicas)
	case *appsv1.ReplicaSet:
		om, desired = &w.ObjectMeta, replicas(w.Spec.Replicas)
	case *appsv1.DaemonSet:
		om, desired = &w.ObjectMeta, int(w.Status.DesiredNumberScheduled)
	default:
		return obj, nil
	}
	return &cachedMeta{Meta: compactMeta(om, false), resourceVersion: om.ResourceVersion, desired: desired}, nil
}

// replicas reads spec.replicas, which defaults to 1.
func replicas(r *int32) int {
	if r == nil {
		return 1
	}
	return int(*r)
}

// cachedPDB is how a PodDisruptionBudget sits in its informer's store.
type cachedPDB struct {
	PDB
	resourceVersion string
	// err is set when its selector does not parse: picks in its namespace
	// fail rather than ignore a budget.
	err error
}

var _ metav1.ObjectMetaAccessor = (*cachedPDB)(nil)

func (c *cachedPDB) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name, ResourceVersion: c.resourceVersion}
}

// pdbInformer watches a namespace's PodDisruptionBudgets, indexed by
// namespace: a pick reads one namespace's.
func pdbInformer(client kubernetes.Interface, namespace string) cache.SharedIndexInformer {
	byNamespace := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	return withTransform(policyinformers.NewFilteredPodDisruptionBudgetInformer(client, namespace, 0, byNamespace, nil), pdbTransform)
}

// pdbTransform reduces a budget to a PDB. A budget whose status predates
// its spec (observedGeneration behind) allows no disruption, as the
// Eviction API decides too.
func pdbTransform(obj any) (any, error) {
	p, ok := obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return obj, nil
	}
	allowed := int(p.Status.DisruptionsAllowed)
	if p.Status.ObservedGeneration < p.Generation {
		allowed = 0
	}
	c := &cachedPDB{PDB: PDB{Namespace: p.Namespace, Name: p.Name, DisruptionsAllowed: allowed}, resourceVersion: p.ResourceVersion}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil {
		c.err = fmt.Errorf("parse selector of PodDisruptionBudget %s/%s: %w", p.Namespace, p.Name, err)
		sel = labels.Nothing()
	}
	c.Selector = sel
	return c, nil
}

// withTransform sets a transform on a new informer.
func withTransform(inf cache.SharedIndexInformer, transform cache.TransformFunc) cache.SharedIndexInformer {
	if err := inf.SetTransform(transform); err != nil {
		panic(fmt.Sprintf("set transform on a new informer: %v", err)) // only fails once started
	}
	return inf
}

// PodStatus implements PodSource.
func (s *ClusterSource) PodStatus(_ context.Context, namespace, name string) (PodStatus, bool, error) {
	inv := s.scope(namespace)
	if inv == nil {
		return PodStatus{}, false, nil
	}
	c, err := cached(inv.pods, namespace, name)
	if c == nil || c.pod == nil || err != nil {
		return PodStatus{}, false, err
	}
	return c.status(), true, nil
}

func (c *cachedMeta) status() PodStatus {
	return PodStatus{Name: c.Name, Phase: c.pod.phase, Ready: c.pod.ready, Terminating: c.Deleting, Node: c.pod.node}
}

// WorkloadPods implements PodSource: the workload's desired replicas from
// its informer, and the pods it controls from the pod inventory (its
// namespace is one range of the index), through the ReplicaSets it owns for
// a Deployment. A sibling whose ReplicaSet the inventory does not know yet
// is not counted available: the budget errs on the safe side.
func (s *ClusterSource) WorkloadPods(ctx context.Context, w WorkloadRef) (int, []PodStatus, error) {
	wl, err := s.cachedWorkload(w.Kind, w.Namespace, w.Name)
	if wl == nil || err != nil {
		return 0, nil, err
	}
	idx, err := s.Pods(ctx)
	if err != nil {
		return 0, nil, err
	}
	inv := s.scope(w.Namespace)
	owns := map[string]bool{} // by ReplicaSet name, for a Deployment
	var pods []PodStatus
	for _, m := range idx.view(nil).inNamespace(w.Namespace) {
		if !s.controls(w, m.Owner, owns) {
			continue
		}
		c, err := cached(inv.pods, m.Namespace, m.Name)
		if err != nil {
			return 0, nil, err
		}
		if c != nil && c.pod != nil {
			pods = append(pods, c.status())
		}
	}
	return wl.desired, pods, nil
}

// controls reports whether w controls a pod whose controller is owner;
// owns caches, per ReplicaSet, whether w (a Deployment) owns it.
func (s *ClusterSource) controls(w WorkloadRef, owner Owner, owns map[string]bool) bool {
	if w.Kind != KindDeployment {
		return owner == Owner{Kind: w.Kind, Name: w.Name}
	}
	if owner.Kind != KindReplicaSet {
		return false
	}
	owned, seen := owns[owner.Name]
	if !seen {
		rs, err := s.cachedWorkload(KindReplicaSet, w.Namespace, owner.Name)
		owned = err == nil && rs != nil && rs.Owner == Owner{Kind: KindDeployment, Name: w.Name}
		owns[owner.Name] = owned
	}
	return owned
}

// PDBs implements PodSource.
func (s *ClusterSource) PDBs(_ context.Context, namespace string) ([]PDB, error) {
	inv := s.scope(namespace)
	if inv == nil {
		return nil, nil
	}
	if !inv.pdbs.HasSynced() {
		return nil, errNotSynced
	}
	objs, err := inv.pdbs.GetIndexer().ByIndex(cache.NamespaceIndex, namespace)
	if err != nil {
		return nil, fmt.Errorf("read PodDisruptionBudgets in %s: %w", namespace, err)
	}
	out := make([]PDB, 0, len(objs))
	for _, obj := range objs {
		c, ok := obj.(*cachedPDB)
		if !ok {
			continue
		}
		if c.err != nil {
			return nil, c.err
		}
		out = append(out, c.PDB)
	}
	// In name order, as a LIST returns them: a seed replays the same pick.
	slices.SortFunc(out, func(a, b PDB) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}
