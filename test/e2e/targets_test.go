//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
	"github.com/chaosd/chaosd/test/cluster"
)

// targetsSeeds is how many seeds each "random pick" case draws: enough to
// see every candidate of a handful picked, few enough to stay quick.
const targetsSeeds = 40

// targetsConfig is the book's blast-radius cases as chaosd config: each
// experiment is one case the picker must answer against the real cluster.
const targetsConfig = `guard: {unguarded: true} # picks only, nothing is judged
policies:
  default: {}
  ignore-pdbs: {respectPodDisruptionBudgets: false}
experiments:
  - name: go-demo-8-pod
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: pod-kill}
  - name: any-pod
    schedule: "@every 1h"
    target: {kind: pod, mode: one}
    action: {type: pod-kill}
  - name: go-demo-8-node
    schedule: "@every 1h"
    target: {kind: node, podNamespace: go-demo-8, mode: one}
    action: {type: node-cordon}
    duration: 1m
  - name: db-pod
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8-db, mode: one}
    action: {type: pod-kill}
  - name: db-pod-ignoring-pdbs
    schedule: "@every 1h"
    policy: ignore-pdbs
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8-db, mode: one}
    action: {type: pod-kill}
  - name: every-api-pod
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [go-demo-8], selector: app=go-demo-8, mode: all}
    action: {type: pod-kill}
  - name: zone-outage
    schedule: "@every 1h"
    target: {kind: zone, mode: one}
    action: {type: node-cordon}
    duration: 1m
`

// targetsNamespace is where chaosd would run; it is excluded from targets.
const targetsNamespace = "chaosd"

// TestTargetsPickInsideBlastRadius proves the picker, reading the real API
// server through the metadata-informer ClusterSource, picks only what the
// book's blast-radius cases allow and says why it refused the rest.
func TestTargetsPickInsideBlastRadius(t *testing.T) {
	cfg := targetsParse(t, targetsConfig)
	// Six nodes, two per zone: the four go-demo-8 pods leave at least two
	// nodes without one, so "nodes running go-demo-8" is a real subset.
	c := cluster.Start(t, cluster.Options{Kwok: true, Nodes: 6, IstioCRDs: true, DemoWorkload: true})
	// A kube-system Deployment whose pods are real candidates for an
	// unrestricted pod target, so the exclusion has something to exclude.
	targetsCreateDeployment(t, c, "kube-system", "system-agent", 2)
	src := targetsStartSource(t, c)
	picker := targets.NewPicker(targets.Options{Source: src, OwnNamespace: targetsNamespace})
	plan := targets.NewPicker(targets.Options{Source: src, OwnNamespace: targetsNamespace, Exhaustive: true})
	pick := func(t *testing.T, p *targets.Picker, name string, seed uint64) targets.Result {
		t.Helper()
		exp, ok := cfg.Experiment(name)
		if !ok {
			t.Fatalf("no experiment %q", name)
		}
		res, err := p.Pick(context.Background(), exp, cfg.PolicyFor(exp), rand.New(rand.NewPCG(seed, seed)))
		if err != nil {
			t.Fatalf("pick %s (seed %d): %v", name, seed, err)
		}
		return res
	}
	// The inventory is informer-fed: wait until it holds every pod that exists.
	systemPods := targetsPodNames(t, c, "kube-system", "")
	eventually(t, time.Minute, "the inventory to see every pod", func() bool {
		return pick(t, plan, "any-pod", 1).Considered == len(systemPods)+len(targetsPodNames(t, c, "go-demo-8", ""))
	})

	t.Run("random pod of app=go-demo-8", func(t *testing.T) {
		want := targetsPodNames(t, c, "go-demo-8", "app=go-demo-8")
		seen := sets.New[string]()
		for seed := range uint64(targetsSeeds) {
			res := pick(t, picker, "go-demo-8-pod", seed)
			if len(res.Targets) != 1 {
				t.Fatalf("seed %d: picked %v, want one pod (%+v)", seed, res.Targets, res)
			}
			got := res.Targets[0]
			if got.Namespace != "go-demo-8" || !want.Has(got.Name) || got.Owner != "Deployment/go-demo-8" {
				t.Fatalf("seed %d: picked %+v, want a pod of Deployment go-demo-8 among %v", seed, got, sets.List(want))
			}
			pod, err := c.Kube.CoreV1().Pods(got.Namespace).Get(context.Background(), got.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if pod.Labels["app"] != "go-demo-8" || pod.Spec.NodeName != got.Node {
				t.Fatalf("seed %d: picked %+v, but the pod has labels %v on node %q", seed, got, pod.Labels, pod.Spec.NodeName)
			}
			seen.Insert(got.Name)
		}
		if !seen.Equal(want) {
			t.Errorf("%d seeds picked %v, want every replica %v", targetsSeeds, sets.List(seen), sets.List(want))
		}
	})

	t.Run("any pod but never in kube-system", func(t *testing.T) {
		demo := targetsPodNames(t, c, "go-demo-8", "")
		seen := sets.New[string]()
		for seed := range uint64(targetsSeeds) {
			res := pick(t, picker, "any-pod", seed)
			if len(res.Targets) != 1 || res.Targets[0].Namespace != "go-demo-8" {
				t.Fatalf("seed %d: picked %v, want one go-demo-8 pod", seed, res.Targets)
			}
			seen.Insert(res.Targets[0].Name)
		}
		if seen.Len() < 2 || !demo.IsSuperset(seen) {
			t.Errorf("%d seeds picked %v, want several of %v", targetsSeeds, sets.List(seen), sets.List(demo))
		}
		res := pick(t, plan, "any-pod", 1)
		t.Logf("plan: considered %d, eligible %d, rejected %v", res.Considered, res.Eligible, res.Rejected)
		if res.Considered != demo.Len()+len(systemPods) || res.Rejected[targets.ReasonNamespaceExcluded] != len(systemPods) {
			t.Errorf("considered %d, rejected %v; want %d go-demo-8 and %d kube-system pods considered, every kube-system pod rejected as %q",
				res.Considered, res.Rejected, demo.Len(), len(systemPods), targets.ReasonNamespaceExcluded)
		}
		for _, r := range res.Samples {
			if r.Target.Namespace == "kube-system" && r.Reason != targets.ReasonNamespaceExcluded {
				t.Errorf("%s rejected as %q, want %q", r.Target, r.Reason, targets.ReasonNamespaceExcluded)
			}
		}
		// Naming kube-system explicitly is a config error, not an empty pick.
		_, err := config.Parse("bad.yaml", []byte(`experiments:
  - name: system
    schedule: "@every 1h"
    target: {kind: pod, namespaces: [kube-system]}
    action: {type: pod-kill}
`))
		if err == nil {
			t.Error("a pod target in kube-system passed validation")
		}
	})

	t.Run("node only among those running go-demo-8", func(t *testing.T) {
		hosting := sets.New[string]()
		pods, err := c.Kube.CoreV1().Pods("go-demo-8").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			hosting.Insert(p.Spec.NodeName)
		}
		all := targetsNodeNames(t, c, "")
		if hosting.Len() == 0 || hosting.Equal(all) {
			t.Fatalf("go-demo-8 runs on %v of %v: need some nodes without it", sets.List(hosting), sets.List(all))
		}
		seen := sets.New[string]()
		for seed := range uint64(targetsSeeds) {
			res := pick(t, picker, "go-demo-8-node", seed)
			if len(res.Targets) != 1 || !hosting.Has(res.Targets[0].Name) {
				t.Fatalf("seed %d: picked %v, want one of %v (go-demo-8 runs there), never one of %v",
					seed, res.Targets, sets.List(hosting), sets.List(all.Difference(hosting)))
			}
			seen.Insert(res.Targets[0].Name)
		}
		res := pick(t, plan, "go-demo-8-node", 1)
		if res.Considered != hosting.Len() || res.Eligible != hosting.Len() {
			t.Errorf("plan considered %d, eligible %d; want both %d", res.Considered, res.Eligible, hosting.Len())
		}
		if !seen.Equal(hosting) {
			t.Errorf("%d seeds picked %v, want every node of %v", targetsSeeds, sets.List(seen), sets.List(hosting))
		}
	})

	t.Run("pdb allowing no disruption refuses the pick", func(t *testing.T) {
		targetsCreatePDB(t, c, "go-demo-8", "go-demo-8-db", "app=go-demo-8-db", 1)
		targetsWaitPDB(t, c, "go-demo-8", "go-demo-8-db", 0)
		targetsWaitPDB(t, c, "go-demo-8", "go-demo-8", 1) // from the demo manifest
		// The source reads PDBs from its informer: let the watch deliver
		// what the API server just said.
		eventually(t, 30*time.Second, "the source's PDBs to match the API server's", func() bool {
			pdbs, err := src.PDBs(context.Background(), "go-demo-8")
			allowed := map[string]int{}
			for _, p := range pdbs {
				allowed[p.Name] = p.DisruptionsAllowed
			}
			return err == nil && len(allowed) == 2 && allowed["go-demo-8-db"] == 0 && allowed["go-demo-8"] == 1
		})
		for seed := range uint64(5) {
			res := pick(t, picker, "db-pod", seed)
			if len(res.Targets) != 0 || res.Rejected[targets.ReasonPDB] != 1 {
				t.Fatalf("seed %d: picked %v, rejected %v; want nothing, one pod rejected as %q", seed, res.Targets, res.Rejected, targets.ReasonPDB)
			}
		}
		// The same pod is fair game once the policy ignores PDBs: it was
		// the PDB, nothing else, that refused it.
		if res := pick(t, picker, "db-pod-ignoring-pdbs", 1); len(res.Targets) != 1 {
			t.Fatalf("ignoring PDBs: picked %v, rejected %v; want the db pod", res.Targets, res.Rejected)
		}
		// go-demo-8's own PDB allows one disruption: mode all takes one
		// replica and refuses the second, whose budget the first used up.
		for seed := range uint64(5) {
			res := pick(t, picker, "every-api-pod", seed)
			if len(res.Targets) != 1 || res.Eligible != 2 || res.Rejected[targets.ReasonPDB] != 1 {
				t.Fatalf("seed %d: picked %v, eligible %d, rejected %v; want one of two, the other refused as %q",
					seed, res.Targets, res.Eligible, res.Rejected, targets.ReasonPDB)
			}
		}
	})

	// Last: it cordons nodes (and uncordons them when done).
	t.Run("zone pick never takes the last zone", func(t *testing.T) {
		zoneOf := map[string]string{}
		nodes, err := c.Kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		byZone := map[string][]string{}
		for _, n := range nodes.Items {
			z := n.Labels[config.DefaultZoneLabel]
			zoneOf[n.Name] = z
			byZone[z] = append(byZone[z], n.Name)
		}
		zonesSeen := func(t *testing.T) sets.Set[string] {
			t.Helper()
			seen := sets.New[string]()
			for seed := range uint64(targetsSeeds) {
				res := pick(t, picker, "zone-outage", seed)
				if len(res.Targets) != 1 {
					t.Fatalf("seed %d: picked %v, rejected %v; want one zone", seed, res.Targets, res.Rejected)
				}
				z := res.Targets[0]
				got := slices.Sorted(slices.Values(z.Nodes))
				if want := slices.Sorted(slices.Values(byZone[z.Zone])); !slices.Equal(got, want) {
					t.Fatalf("seed %d: zone %s takes nodes %v, want %v", seed, z.Zone, got, want)
				}
				seen.Insert(z.Zone)
			}
			return seen
		}
		if seen := zonesSeen(t); !seen.Equal(sets.New("zone-a", "zone-b", "zone-c")) {
			t.Errorf("with every zone up, %d seeds picked %v, want each of zone-a, zone-b, zone-c", targetsSeeds, sets.List(seen))
		}

		targetsCordon(t, c, byZone["zone-a"]...)
		if seen := zonesSeen(t); seen.Has("zone-a") || seen.Len() != 2 {
			t.Errorf("with zone-a cordoned, %d seeds picked %v, want zone-b and zone-c only", targetsSeeds, sets.List(seen))
		}

		targetsCordon(t, c, byZone["zone-b"]...)
		for seed := range uint64(5) {
			res := pick(t, picker, "zone-outage", seed)
			if len(res.Targets) != 0 {
				t.Fatalf("seed %d: picked %v with only zone-c schedulable; the last zone must be refused", seed, res.Targets)
			}
			why := map[string]targets.Reason{}
			for _, r := range res.Samples {
				why[r.Target.Zone] = r.Reason
			}
			want := map[string]targets.Reason{"zone-a": targets.ReasonNoEligibleNodes, "zone-b": targets.ReasonNoEligibleNodes, "zone-c": targets.ReasonLastZone}
			if fmt.Sprint(why) != fmt.Sprint(want) {
				t.Fatalf("seed %d: rejections %v, want %v", seed, why, want)
			}
		}
	})

	// With zones a and b cordoned and the db PDB in place, the plan must
	// show each refusal the subtests above proved, by its reason.
	t.Run("chaosd plan --cluster says why", func(t *testing.T) {
		for _, z := range []string{"zone-a", "zone-b"} {
			targetsCordon(t, c, sets.List(targetsNodeNames(t, c, config.DefaultZoneLabel+"="+z))...)
		}
		cfgFile := newConfigDir(t, targetsConfig).Path
		code, out := runChaosdCommand(t, c, 2*time.Minute, "plan", "--cluster", "-f", cfgFile, "--namespace", targetsNamespace, "--seed", "7")
		t.Logf("chaosd plan --cluster:\n%s", out)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		section := func(name string) string {
			_, rest, ok := strings.Cut(out, "\n"+name+" (")
			if !ok {
				t.Fatalf("no section for %s", name)
			}
			before, _, _ := strings.Cut(rest, "\n\n")
			return before
		}
		for name, want := range map[string][]string{
			"go-demo-8-pod":        {"candidates: 2 match the selectors, 2 eligible, 0 excluded", "would pick: pod/go-demo-8/go-demo-8-"},
			"any-pod":              {"excluded:   2 namespace excluded", "e.g.        pod/kube-system/system-agent-", "would pick: pod/go-demo-8/"},
			"db-pod":               {"1 pdb allows no disruption", "would pick: nothing"},
			"db-pod-ignoring-pdbs": {"would pick: pod/go-demo-8/go-demo-8-db-"},
			"zone-outage":          {"1 last zone", "2 no eligible nodes", "would pick: nothing"},
		} {
			got := section(name)
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("%s: plan lacks %q:\n%s", name, w, got)
				}
			}
		}
		if n := len(targetsPodNames(t, c, "go-demo-8", "")); n != 4 {
			t.Errorf("go-demo-8 has %d pods after the plan, want the 4 it had", n)
		}
	})
}

// targetsParse parses a config as chaosd would load it.
func targetsParse(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("targets.yaml", []byte(yaml))
	if errs, ok := err.(*config.Errors); ok {
		t.Fatalf("%v:\n%s", err, strings.Join(errs.Messages(), "\n"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// targetsStartSource starts a ClusterSource on real clients, as the daemon
// builds it, and waits for its inventory.
func targetsStartSource(t testing.TB, c *cluster.Cluster) *targets.ClusterSource {
	t.Helper()
	meta, err := metadata.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	src := targets.NewClusterSource(targets.ClusterOptions{Kube: c.Kube, Metadata: meta, Istio: c.Istio})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	src.Start(ctx)
	syncCtx, done := context.WithTimeout(ctx, 2*time.Minute)
	defer done()
	if !src.WaitForCacheSync(syncCtx) {
		t.Fatal("inventory did not sync within 2m")
	}
	return src
}

// targetsCreateDeployment creates a Deployment of pause pods on the kwok
// nodes and waits until it is available.
func targetsCreateDeployment(t testing.TB, c *cluster.Cluster, namespace, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:                 map[string]string{cluster.NodeTypeLabel: cluster.NodeTypeKwok},
					AutomountServiceAccountToken: ptr.To(false),
					Containers: []corev1.Container{{
						Name: "app", Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("1Mi"),
						}},
					}},
				},
			},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.Kube.AppsV1().Deployments(namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/%s: %v", namespace, name, err)
	}
	if err := c.WaitDeploymentsAvailable(ctx, namespace, name); err != nil {
		t.Fatal(err)
	}
}

// targetsCreatePDB creates a PodDisruptionBudget with minAvailable.
func targetsCreatePDB(t testing.TB, c *cluster.Cluster, namespace, name, selector string, minAvailable int) {
	t.Helper()
	sel, err := metav1.ParseToLabelSelector(selector)
	if err != nil {
		t.Fatal(err)
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(int32(minAvailable))), Selector: sel},
	}
	if _, err := c.Kube.PolicyV1().PodDisruptionBudgets(namespace).Create(context.Background(), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PodDisruptionBudget %s/%s: %v", namespace, name, err)
	}
}

// targetsWaitPDB waits until the disruption controller has observed a PDB
// and allows exactly `allowed` disruptions.
func targetsWaitPDB(t testing.TB, c *cluster.Cluster, namespace, name string, allowed int32) {
	t.Helper()
	var last policyv1.PodDisruptionBudgetStatus
	eventually(t, time.Minute, fmt.Sprintf("PodDisruptionBudget %s/%s observed with %d disruptions allowed", namespace, name, allowed), func() bool {
		p, err := c.Kube.PolicyV1().PodDisruptionBudgets(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		last = p.Status
		return p.Status.ObservedGeneration >= p.Generation && p.Status.ExpectedPods > 0 &&
			p.Status.CurrentHealthy >= p.Status.DesiredHealthy && p.Status.DisruptionsAllowed == allowed
	})
	t.Logf("PodDisruptionBudget %s/%s: healthy %d/%d expected %d, disruptions allowed %d",
		namespace, name, last.CurrentHealthy, last.DesiredHealthy, last.ExpectedPods, last.DisruptionsAllowed)
}

// targetsCordon cordons nodes and uncordons them when the test ends.
func targetsCordon(t testing.TB, c *cluster.Cluster, nodes ...string) {
	t.Helper()
	set := func(name string, unschedulable bool) error {
		patch := fmt.Appendf(nil, `{"spec":{"unschedulable":%t}}`, unschedulable)
		_, err := c.Kube.CoreV1().Nodes().Patch(context.Background(), name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	for _, n := range nodes {
		t.Cleanup(func() {
			if err := set(n, false); err != nil {
				t.Errorf("uncordon %s: %v", n, err)
			}
		})
		if err := set(n, true); err != nil {
			t.Fatalf("cordon %s: %v", n, err)
		}
	}
}

// targetsPodNames lists the names of a namespace's pods matching selector.
func targetsPodNames(t testing.TB, c *cluster.Cluster, namespace, selector string) sets.Set[string] {
	t.Helper()
	list, err := c.Kube.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := sets.New[string]()
	for _, p := range list.Items {
		out.Insert(p.Name)
	}
	return out
}

// targetsNodeNames lists the names of the nodes matching selector.
func targetsNodeNames(t testing.TB, c *cluster.Cluster, selector string) sets.Set[string] {
	t.Helper()
	list, err := c.Kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := sets.New[string]()
	for _, n := range list.Items {
		out.Insert(n.Name)
	}
	return out
}
