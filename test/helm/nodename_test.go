package helm

import "testing"

// TestDeploymentSetsNodeName: chaosd never targets the node it runs on, but
// only knows that node from $NODE_NAME. The chart must set it from the
// downward API (spec.nodeName) in every scope, or a drain, delete or zone
// outage can take the leader's own node. What chaosd does with it is proven
// by e2e TestExperimentsNeverPickOwnNode.
func TestDeploymentSetsNodeName(t *testing.T) {
	tests := []struct {
		name string
		o    renderOpts
	}{
		{name: "default values"},
		{name: "node experiments", o: renderOpts{set: []string{"rbac.nodeExperiments=true"}}},
		{name: "namespaced scope", o: renderOpts{files: []string{"testdata/namespaced.values.yaml"}, set: []string{"rbac.scope=namespaced", "rbac.namespaces={go-demo-8}"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := deployment(t, parseManifests(t, render(t, tt.o))).Spec.Template.Spec.Containers[0]
			found := 0
			for _, e := range c.Env {
				if e.Name != "NODE_NAME" {
					continue
				}
				found++
				if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
					t.Errorf("NODE_NAME is %+v, want valueFrom.fieldRef.fieldPath spec.nodeName", e)
				}
			}
			if found != 1 {
				t.Errorf("the container sets NODE_NAME %d times, want once from spec.nodeName; env: %+v", found, c.Env)
			}
		})
	}
}
