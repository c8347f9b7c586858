package targets

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
)

// namespacedObjects spans two watched namespaces and one that is not
// (other), plus a node. shop's namespace opts in: a Role cannot read it.
func namespacedObjects() []runtime.Object {
	return cluster(
		namespace("shop", optedInOpt),
		deployment("shop", "web", 2, nil, optedInOpt),
		deployment("shop", "db", 1, nil),
		pdb("shop", "web", "web", 1),
		pod("cart", "bare"),
		deployment("other", "api", 2, nil, optedInOpt),
		virtualService("shop", "web"), virtualService("cart", "cart"), virtualService("other", "api"),
		node("node-1"),
	)
}

// In namespaced mode the source reads only the watched namespaces: the
// fakes refuse everything else with 403, as the API server does for the
// chart's Roles, and every request any of them recorded names a watched
// namespace.
func TestClusterSourceNamespaced(t *testing.T) {
	fc := newFakeCluster(t, namespacedObjects(), "shop", "cart", "shop")
	ctx := context.Background()

	idx, err := fc.Pods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pods []string
	for _, m := range idx.view(nil).pods {
		pods = append(pods, m.Namespace+"/"+m.Name)
	}
	if want := []string{"cart/bare", "shop/db-7d9f-0", "shop/web-7d9f-0", "shop/web-7d9f-1"}; !slices.Equal(pods, want) {
		t.Errorf("pods %v, want %v", pods, want)
	}

	nss, err := fc.Namespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nss) != 2 || *nss[0] != (Meta{Name: "cart"}) || *nss[1] != (Meta{Name: "shop"}) {
		t.Errorf("namespaces %+v, want cart and shop with nothing else known", nss)
	}

	if w, err := fc.Workload(ctx, KindDeployment, "shop", "web"); err != nil || w == nil || !w.Marks.OptIn {
		t.Errorf("Workload(shop/web) = %+v, %v; want the opted-in Deployment", w, err)
	}
	if w, err := fc.Workload(ctx, KindDeployment, "other", "api"); err != nil || w != nil {
		t.Errorf("Workload(other/api) = %+v, %v; want nil, nil (not watched)", w, err)
	}

	var vss []string
	list, err := fc.VirtualServices(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		vss = append(vss, m.Namespace+"/"+m.Name)
	}
	if want := []string{"cart/cart", "shop/web"}; !slices.Equal(vss, want) {
		t.Errorf(`VirtualServices("") = %v, want %v`, vss, want)
	}
	if _, err := fc.VirtualServices(ctx, "other"); !errors.Is(err, ErrNamespaced) {
		t.Errorf(`VirtualServices("other"): err = %v, want ErrNamespaced`, err)
	}
	if _, err := fc.Nodes(ctx); !errors.Is(err, ErrNamespaced) {
		t.Errorf("Nodes: err = %v, want ErrNamespaced", err)
	}
	if _, err := fc.NodesRunning(ctx, "shop"); !errors.Is(err, ErrNamespaced) {
		t.Errorf("NodesRunning: err = %v, want ErrNamespaced", err)
	}

	// A pick with opt-in reads status, workloads and PDBs from the caches.
	// The namespace's opt-in is not seen, the Deployment's is.
	res, err := NewPicker(Options{Source: fc}).Pick(ctx,
		experiment(config.Target{Kind: config.TargetPod, Namespaces: []string{"shop"}, OptIn: true, Mode: mode("all")}), config.Policy{}, newRand(1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(res), []string{"pod/shop/web-7d9f-1"}; res.Considered != 2 || !slices.Equal(got, want) {
		t.Errorf("picked %v of %d considered, want %v of 2 (the PDB allows one)", got, res.Considered, want)
	}

	for client, actions := range map[string][]k8stesting.Action{"kube": fc.kube.Actions(), "metadata": fc.meta.Actions(), "istio": fc.istio.Actions()} {
		if len(actions) == 0 && client == "kube" { // namespaced mode reads no namespace metadata
			t.Errorf("%s client: no request recorded", client)
		}
		for _, a := range actions {
			if ns := a.GetNamespace(); ns != "shop" && ns != "cart" {
				t.Errorf("%s client: %s %s in namespace %q, want only shop and cart", client, a.GetVerb(), a.GetResource().Resource, ns)
			}
		}
	}
}

// Cluster-wide mode keeps one informer per resource over every namespace,
// and a namespace informer.
func TestClusterSourceClusterWideListsEverything(t *testing.T) {
	fc := newFakeCluster(t, namespacedObjects())
	seen := map[string]bool{}
	for _, a := range append(fc.meta.Actions(), fc.kube.Actions()...) {
		if a.GetNamespace() != "" {
			t.Errorf("%s %s in namespace %q, want cluster-wide", a.GetVerb(), a.GetResource().Resource, a.GetNamespace())
		}
		seen[a.GetVerb()+" "+a.GetResource().Resource] = true
	}
	for _, want := range []string{"list namespaces", "watch namespaces", "list pods", "watch pods", "list deployments", "list replicasets",
		"list statefulsets", "list daemonsets", "list poddisruptionbudgets", "watch poddisruptionbudgets"} {
		if !seen[want] {
			t.Errorf("no %s request; got %v", want, seen)
		}
	}
	nss, err := fc.Namespaces(context.Background())
	if err != nil || len(nss) != 3 {
		t.Errorf("namespaces %v, %v; want cart, other and shop", nss, err)
	}
}

// A source whose RBAC does not cover what it watches fails fast in
// WaitSynced, naming the refusal, instead of waiting for a sync that a
// 403 never lets happen; a source that syncs reports no denial.
func TestClusterSourceDenied(t *testing.T) {
	tests := []struct {
		name       string
		namespaces []string // the source's; the fake's Roles cover only "shop"
		wantDenied bool
	}{
		{name: "watched namespaces covered", namespaces: []string{"shop"}},
		{name: "a watched namespace not covered", namespaces: []string{"shop", "cart"}, wantDenied: true},
		{name: "cluster-wide without a ClusterRole", wantDenied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheme := metadatafake.NewTestScheme()
			metav1.AddMetaToScheme(scheme)
			meta := metadatafake.NewSimpleMetadataClient(scheme)
			kube := kubefake.NewClientset()
			for _, f := range []*k8stesting.Fake{&meta.Fake, &kube.Fake} {
				f.PrependReactor("*", "*", forbidOutside([]string{"shop"}))
				f.PrependWatchReactor("*", forbidWatchOutside([]string{"shop"}))
			}
			src := NewClusterSource(ClusterOptions{Kube: kube, Metadata: meta, Namespaces: tt.namespaces})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			src.Start(ctx)
			err := src.WaitSynced(ctx)
			if !tt.wantDenied {
				if err != nil || src.Denied() != nil {
					t.Fatalf("WaitSynced = %v, Denied = %v; want both nil", err, src.Denied())
				}
				return
			}
			if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "forbidden") {
				t.Fatalf("WaitSynced = %v, want ErrDenied with the API server's message", err)
			}
			if ctx.Err() != nil {
				t.Errorf("WaitSynced returned only after its deadline: %v", err)
			}
		})
	}
}
