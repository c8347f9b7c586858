package helm

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// labelLeader is the label only the leading replica carries on its Pod.
const labelLeader = "chaosd.io/leader"

// TestServiceReachesOnlyTheLeader: Alertmanager's webhook pushes and
// `kubectl port-forward svc/chaosd` must reach the leader, never the
// standby, which drops pushes and has an empty status page. The Service
// selects the label the leader puts on its own Pod, which the Pod template
// must not carry, and the Role lets chaosd patch its Pod.
func TestServiceReachesOnlyTheLeader(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ms := parseManifests(t, render(t, v.opts()))
			var svc corev1.Service
			decodeStrict(t, only(t, ms, "Service"), &svc)
			d := deployment(t, ms)
			want := maps.Clone(d.Spec.Selector.MatchLabels)
			want[labelLeader] = "true"
			if !maps.Equal(svc.Spec.Selector, want) {
				t.Errorf("Service selector %v, want %v: the pods' selector plus the leader label", svc.Spec.Selector, want)
			}
			if _, ok := d.Spec.Template.Labels[labelLeader]; ok {
				t.Errorf("the Pod template carries %s: every replica would receive traffic", labelLeader)
			}
			if _, ok := d.Spec.Selector.MatchLabels[labelLeader]; ok {
				t.Errorf("the Deployment selects on %s, which changes with leadership", labelLeader)
			}
			var role rbacv1.Role
			for _, m := range ofKind(ms, "Role") {
				if m.Ns == releaseNamespace && m.Name == releaseName {
					decodeStrict(t, m, &role)
				}
			}
			if got := grants(role.Rules)["/pods"]; !slices.Contains(got, "get") || !slices.Contains(got, "patch") {
				t.Errorf("release-namespace Role grants pods %v, want get and patch to set the leader label", got)
			}
		})
	}
}
