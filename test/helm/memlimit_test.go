package helm

import (
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/chaosd/chaosd/internal/memlimit"
)

// TestGoMemLimitFollowsTheMemoryLimit follows the chain the chart sets up:
// the downward API gives chaosd its container's memory limit in bytes, and
// chaosd sets GOMEMLIMIT to goMemLimitRatio of it. The kubelet's part (a
// resourceFieldRef with divisor 1 resolves to the limit's value in bytes) is
// played here with the rendered limit.
func TestGoMemLimitFollowsTheMemoryLimit(t *testing.T) {
	tests := []struct {
		name   string
		values string
		want   int64 // GOMEMLIMIT in bytes
	}{
		{name: "defaults: 0.6 of 128Mi", want: 80530636},
		// A values file, not --set: helm --set makes 0.75 a string.
		{name: "raised limit and ratio", values: "resources: {limits: {memory: 256Mi}}\ngoMemLimitRatio: 0.75\n", want: 201326592},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := deployment(t, parseManifests(t, render(t, renderOpts{values: tt.values}))).Spec.Template.Spec.Containers[0]
			env := map[string]corev1.EnvVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			ref := env[memlimit.EnvLimit].ValueFrom
			if ref == nil || ref.ResourceFieldRef == nil {
				t.Fatalf("%s is not from a resourceFieldRef: %+v", memlimit.EnvLimit, env[memlimit.EnvLimit])
			}
			if r := ref.ResourceFieldRef; r.Resource != "limits.memory" || r.ContainerName != c.Name || (!r.Divisor.IsZero() && r.Divisor.Value() != 1) {
				t.Errorf("resourceFieldRef = %+v, want limits.memory of container %s in bytes", r, c.Name)
			}
			if _, ok := env[memlimit.EnvGo]; ok {
				t.Errorf("the chart sets %s itself; it would override the ratio", memlimit.EnvGo)
			}
			limit, ok := c.Resources.Limits[corev1.ResourceMemory]
			if !ok {
				t.Fatal("no memory limit rendered")
			}
			downward := map[string]string{
				memlimit.EnvLimit: strconv.FormatInt(limit.Value(), 10),
				memlimit.EnvRatio: env[memlimit.EnvRatio].Value,
			}
			d, err := memlimit.Compute(func(k string) string { return downward[k] })
			if err != nil {
				t.Fatal(err)
			}
			if d.Limit != tt.want {
				t.Errorf("GOMEMLIMIT = %d, want %d", d.Limit, tt.want)
			}
		})
	}
}
