package helm

import (
	"maps"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// grants flattens RBAC rules into "group/resource" -> sorted verbs, the shape
// the expectations below are written in. resourceNames are ignored: a grant
// limited to names is still a grant of that verb.
func grants(rules []rbacv1.PolicyRule) map[string][]string {
	out := map[string][]string{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				key := g + "/" + res
				for _, v := range r.Verbs {
					if !slices.Contains(out[key], v) {
						out[key] = append(out[key], v)
					}
				}
				slices.Sort(out[key])
			}
		}
	}
	return out
}

func sorted(verbs ...string) []string { return slices.Sorted(slices.Values(verbs)) }

// targetGrants is what chaosd needs wherever it targets pods and
// VirtualServices, in both scopes.
func targetGrants() map[string][]string {
	return map[string][]string{
		"/pods":                               sorted("get", "list", "watch", "delete"),
		"/pods/eviction":                      sorted("create"),
		"networking.istio.io/virtualservices": sorted("get", "list", "watch", "patch", "update"),
		// Reach: read only.
		"/services":                            sorted("get", "list"),
		"networking.istio.io/serviceentries":   sorted("get", "list"),
		"networking.istio.io/gateways":         sorted("get", "list"),
		"gateway.networking.k8s.io/httproutes": sorted("get", "list"),
		"policy/poddisruptionbudgets":          sorted("get", "list", "watch"),
		"apps/deployments":                     sorted("get", "list", "watch"),
		"apps/statefulsets":                    sorted("get", "list", "watch"),
		"apps/replicasets":                     sorted("get", "list", "watch"),
		"apps/daemonsets":                      sorted("get", "list", "watch"),
		"/events":                              sorted("create", "patch"),
		"events.k8s.io/events":                 sorted("create", "patch"),
	}
}

// ownNamespaceGrants is the Role in the release namespace, in both scopes.
var ownNamespaceGrants = map[string][]string{
	"coordination.k8s.io/leases": sorted("get", "create", "update", "delete"),
	"/configmaps":                sorted("get", "list", "watch", "update", "patch", "create", "delete"),
	"/pods":                      sorted("get", "patch"), // the leader label on chaosd's own Pod
	"/events":                    sorted("create", "patch"),
	"events.k8s.io/events":       sorted("create", "patch"),
}

func assertGrants(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("%s grants %s verbs %v, want %v", what, k, got[k], want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s grants %s %v, which it must not", what, k, got[k])
		}
	}
}

func TestClusterRoleGrantsExactly(t *testing.T) {
	tests := []struct {
		name      string
		opts      renderOpts
		nodeVerbs []string
	}{
		{"default", renderOpts{}, sorted("get", "list", "watch", "patch", "update")},
		{"nodeExperiments", renderOpts{set: []string{"rbac.nodeExperiments=true"}},
			sorted("get", "list", "watch", "patch", "update", "delete", "create")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := parseManifests(t, render(t, tt.opts))
			var cr rbacv1.ClusterRole
			decodeStrict(t, only(t, ms, "ClusterRole"), &cr)
			want := targetGrants()
			want["/nodes"] = tt.nodeVerbs
			want["/namespaces"] = sorted("get", "list", "watch")
			assertGrants(t, "ClusterRole", grants(cr.Rules), want)

			var crb rbacv1.ClusterRoleBinding
			decodeStrict(t, only(t, ms, "ClusterRoleBinding"), &crb)
			assertBinding(t, crb.RoleRef, crb.Subjects, "ClusterRole", cr.Name)

			assertOwnRole(t, ms)
		})
	}
}

func TestNamespacedScopeHasNoClusterRBAC(t *testing.T) {
	ms := parseManifests(t, render(t, renderOpts{files: []string{"testdata/namespaced.values.yaml"}, set: []string{
		"rbac.namespaces={go-demo-8,shop}",
	}}))
	for _, kind := range []string{"ClusterRole", "ClusterRoleBinding"} {
		if got := ofKind(ms, kind); len(got) > 0 {
			t.Errorf("namespaced scope rendered %v", got)
		}
	}
	for _, ns := range []string{"go-demo-8", "shop"} {
		var role *rbacv1.Role
		var binding *rbacv1.RoleBinding
		for _, m := range ms {
			switch {
			case m.Kind == "Role" && m.Ns == ns:
				role = &rbacv1.Role{}
				decodeStrict(t, m, role)
			case m.Kind == "RoleBinding" && m.Ns == ns:
				binding = &rbacv1.RoleBinding{}
				decodeStrict(t, m, binding)
			}
		}
		if role == nil || binding == nil {
			t.Errorf("namespace %s: want a Role and a RoleBinding, got role=%v binding=%v", ns, role != nil, binding != nil)
			continue
		}
		assertGrants(t, "Role in "+ns, grants(role.Rules), targetGrants())
		assertBinding(t, binding.RoleRef, binding.Subjects, "Role", role.Name)
	}
	assertOwnRole(t, ms)

	args := containerArgs(t, ms)
	for _, want := range []string{"--namespaced", "--watch-namespaces=go-demo-8,shop"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
}

func TestClusterScopeIsNotNamespaced(t *testing.T) {
	for _, arg := range containerArgs(t, parseManifests(t, render(t, renderOpts{}))) {
		if strings.HasPrefix(arg, "--watch-namespaces") || strings.HasPrefix(arg, "--namespaced") {
			t.Errorf("cluster scope passes %q", arg)
		}
	}
}

// TestNoWildcards holds every rendered rule, in every variant, to explicit
// groups, resources and verbs.
func TestNoWildcards(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ms := parseManifests(t, render(t, v.opts()))
			n := 0
			for _, m := range ms {
				var rules []rbacv1.PolicyRule
				switch m.Kind {
				case "ClusterRole":
					var r rbacv1.ClusterRole
					decodeStrict(t, m, &r)
					rules = r.Rules
				case "Role":
					var r rbacv1.Role
					decodeStrict(t, m, &r)
					rules = r.Rules
				default:
					continue
				}
				for _, r := range rules {
					n++
					for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames} {
						for _, s := range list {
							if strings.Contains(s, "*") {
								t.Errorf("%s has a wildcard rule %+v", m, r)
							}
						}
					}
					if len(r.NonResourceURLs) > 0 {
						t.Errorf("%s grants non-resource URLs %v", m, r.NonResourceURLs)
					}
				}
			}
			if n == 0 {
				t.Fatal("no RBAC rules rendered")
			}
		})
	}
}

func TestNodeDeleteOnlyWithNodeExperiments(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			values := map[string]any{}
			if f := v.valuesFile(); f != "" {
				values = readYAMLFile(t, f)
			}
			rbac, _ := values["rbac"].(map[string]any)
			wantDelete := rbac["nodeExperiments"] == true
			ms := parseManifests(t, render(t, v.opts()))
			for _, m := range ofKind(ms, "ClusterRole") {
				var cr rbacv1.ClusterRole
				decodeStrict(t, m, &cr)
				nodes := grants(cr.Rules)["/nodes"]
				for _, verb := range []string{"delete", "create"} {
					if got := slices.Contains(nodes, verb); got != wantDelete {
						t.Errorf("nodes %s granted=%v, want %v (rbac.nodeExperiments=%v)", verb, got, wantDelete, wantDelete)
					}
				}
			}
		})
	}
}

func TestRBACCreateFalseRendersNoRBAC(t *testing.T) {
	ms := parseManifests(t, render(t, renderOpts{set: []string{"rbac.create=false"}}))
	for _, kind := range []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
		if got := ofKind(ms, kind); len(got) > 0 {
			t.Errorf("rbac.create=false rendered %v", got)
		}
	}
}

// assertOwnRole checks the Role in the release namespace: leader election,
// chaosd's ConfigMaps and Events, bound to chaosd's ServiceAccount.
func assertOwnRole(t *testing.T, ms []manifest) {
	t.Helper()
	for _, m := range ms {
		if m.Kind != "Role" || m.Ns != releaseNamespace || m.Name != releaseName {
			continue
		}
		var r rbacv1.Role
		decodeStrict(t, m, &r)
		assertGrants(t, "release-namespace Role", grants(r.Rules), ownNamespaceGrants)
		for _, m := range ms {
			if m.Kind == "RoleBinding" && m.Ns == releaseNamespace && m.Name == releaseName {
				var rb rbacv1.RoleBinding
				decodeStrict(t, m, &rb)
				assertBinding(t, rb.RoleRef, rb.Subjects, "Role", r.Name)
				return
			}
		}
		t.Fatalf("no RoleBinding %s/%s", releaseNamespace, releaseName)
	}
	t.Fatalf("no Role %s/%s", releaseNamespace, releaseName)
}

func assertBinding(t *testing.T, ref rbacv1.RoleRef, subjects []rbacv1.Subject, kind, name string) {
	t.Helper()
	if ref.Kind != kind || ref.Name != name || ref.APIGroup != rbacv1.GroupName {
		t.Errorf("roleRef %+v, want %s %s", ref, kind, name)
	}
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: releaseName, Namespace: releaseNamespace}}
	if !slices.Equal(subjects, want) {
		t.Errorf("subjects %+v, want %+v", subjects, want)
	}
}
