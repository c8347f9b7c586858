package helm

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func deployment(t *testing.T, ms []manifest) appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	decodeStrict(t, only(t, ms, "Deployment"), &d)
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("Deployment has %d containers, want 1", n)
	}
	return d
}

func containerArgs(t *testing.T, ms []manifest) []string {
	t.Helper()
	return deployment(t, ms).Spec.Template.Spec.Containers[0].Args
}

func appVersion(t *testing.T) string {
	t.Helper()
	v, _ := readYAMLFile(t, filepath.Join(chartDir, "Chart.yaml"))["appVersion"].(string)
	if v == "" {
		t.Fatal("Chart.yaml has no appVersion")
	}
	return v
}

// TestContainerArgs pins the CLI contract between the chart and `chaosd run`.
func TestContainerArgs(t *testing.T) {
	contract := func(leaderElect string, extra ...string) []string {
		return append([]string{
			"run",
			"--config=/etc/chaosd/config.yaml",
			"--listen=:8080",
			"--namespace=$(POD_NAMESPACE)",
			"--identity=$(POD_NAME)",
			"--leader-elect=" + leaderElect,
			"--lease-name=chaosd",
			"--configmap=chaosd-config",
			"--journal-dir=/var/lib/chaosd/journal",
			"--log-format=json",
			"--log-level=info",
		}, extra...)
	}
	tests := []struct {
		name string
		set  []string
		want []string
	}{
		{"two replicas elect a leader", nil, contract("true")},
		{"one replica does not", []string{"replicaCount=1"}, contract("false")},
		{"one replica with leaderElection.enabled does", []string{"replicaCount=1", "leaderElection.enabled=true"}, contract("true")},
		{"namespaced scope", []string{"rbac.scope=namespaced", "rbac.namespaces={go-demo-8}"}, contract("true", "--namespaced", "--watch-namespaces=go-demo-8")},
		{"extra args come last", []string{"extraArgs={--foo=bar}"}, contract("true", "--foo=bar")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := renderOpts{set: tt.set}
			if slices.Contains(tt.set, "rbac.scope=namespaced") {
				o.files = []string{"testdata/namespaced.values.yaml"} // the default experiment names no namespace
			}
			got := containerArgs(t, parseManifests(t, render(t, o)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("args:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestContainerArgsFollowNames(t *testing.T) {
	got := containerArgs(t, parseManifests(t, render(t, renderOpts{set: []string{
		"fullnameOverride=chaos", "logLevel=debug",
	}})))
	for _, want := range []string{"--lease-name=chaos", "--configmap=chaos-config", "--log-level=debug"} {
		if !slices.Contains(got, want) {
			t.Errorf("args %q lack %s", got, want)
		}
	}
	got = containerArgs(t, parseManifests(t, render(t, renderOpts{set: []string{"existingConfigMap=my-chaos"}})))
	if !slices.Contains(got, "--configmap=my-chaos") {
		t.Errorf("args %q lack --configmap=my-chaos", got)
	}
}

func TestPodSpec(t *testing.T) {
	d := deployment(t, parseManifests(t, render(t, renderOpts{})))
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]

	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", *d.Spec.Replicas)
	}
	if want := "ghcr.io/chaosd/chaosd:" + appVersion(t); c.Image != want {
		t.Errorf("image %s, want %s", c.Image, want)
	}
	if got := *pod.TerminationGracePeriodSeconds; got != 120 {
		t.Errorf("terminationGracePeriodSeconds %d, want 120: long enough to revert active faults", got)
	}
	if pod.ServiceAccountName != releaseName {
		t.Errorf("serviceAccountName %q", pod.ServiceAccountName)
	}
	t.Run("restricted security", func(t *testing.T) {
		psc, sc := pod.SecurityContext, c.SecurityContext
		switch {
		case psc == nil || sc == nil:
			t.Fatal("missing security contexts")
		case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot, psc.RunAsUser == nil || *psc.RunAsUser != 65532:
			t.Errorf("pod must run as non-root 65532: %+v", psc)
		case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			t.Errorf("pod seccomp profile %+v", psc.SeccompProfile)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Error("root filesystem must be read-only")
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Error("privilege escalation must be off")
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("capabilities %+v, want drop ALL", sc.Capabilities)
		}
	})

	t.Run("probes and port", func(t *testing.T) {
		if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
			t.Errorf("ports %+v, want http 8080", c.Ports)
		}
		for name, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || p.HTTPGet.Port != intstr.FromString("http") {
				t.Errorf("probe %s: %+v", name, p)
			}
		}
	})

	t.Run("resources", func(t *testing.T) {
		r := c.Resources
		if r.Requests.Cpu().String() != "50m" || r.Requests.Memory().String() != "80Mi" || r.Limits.Memory().String() != "128Mi" {
			t.Errorf("resources %+v", r)
		}
	})

	// NODE_NAME is how chaosd knows its own node, which node and zone
	// experiments never take (--node-name defaults to it).
	t.Run("downward API env", func(t *testing.T) {
		want := map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace", "NODE_NAME": "spec.nodeName"}
		for _, e := range c.Env {
			if path, ok := want[e.Name]; ok {
				if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != path {
					t.Errorf("env %s: %+v, want fieldRef %s", e.Name, e.ValueFrom, path)
				}
				delete(want, e.Name)
			}
		}
		if len(want) > 0 {
			t.Errorf("env lacks %v", want)
		}
	})

	t.Run("chaosd excludes itself", func(t *testing.T) {
		if got := d.Spec.Template.Annotations["chaosd.io/exclude"]; got != "true" {
			t.Errorf("pod annotation chaosd.io/exclude=%q, want true", got)
		}
	})
}

// TestConfigIsHotReloadable: the ConfigMap is mounted as a directory (a subPath
// mount never sees updates) and no checksum of it restarts the pods.
func TestConfigIsHotReloadable(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			d := deployment(t, parseManifests(t, render(t, v.opts())))
			for k := range d.Spec.Template.Annotations {
				if strings.Contains(k, "checksum") && strings.Contains(k, "config") {
					t.Errorf("pod annotation %s would restart chaosd on every config change", k)
				}
			}
			mounts := mountsByPath(d)
			cfg, ok := mounts["/etc/chaosd"]
			if !ok {
				t.Fatal("nothing mounted at /etc/chaosd")
			}
			if cfg.SubPath != "" || cfg.SubPathExpr != "" {
				t.Errorf("config mounted with subPath %q: updates would never arrive", cfg.SubPath)
			}
			if vol := volume(t, d, cfg.Name); vol.ConfigMap == nil || vol.ConfigMap.Name != "chaosd-config" {
				t.Errorf("/etc/chaosd is %+v, want ConfigMap chaosd-config", vol.VolumeSource)
			}
			sec, ok := mounts["/etc/chaosd/secrets"]
			if !ok || sec.SubPath != "" {
				t.Fatalf("secrets mount %+v", sec)
			}
			if vol := volume(t, d, sec.Name); vol.Secret == nil || vol.Secret.SecretName != "chaosd" {
				t.Errorf("/etc/chaosd/secrets is %+v, want Secret chaosd", vol.VolumeSource)
			}
			if _, ok := d.Spec.Template.Annotations["checksum/secret"]; !ok {
				t.Error("no checksum/secret annotation: new webhook URLs would not roll the pods")
			}
		})
	}
}

func TestWritableVolumes(t *testing.T) {
	tests := []struct {
		name    string
		set     []string
		wantPVC string // claim behind the journal, "" for an emptyDir
	}{
		{"emptyDir by default", nil, ""},
		{"claim with persistence", []string{"persistence.enabled=true"}, "chaosd-journal"},
		{"existing claim", []string{"persistence.enabled=true", "persistence.existingClaim=mine"}, "mine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := parseManifests(t, render(t, renderOpts{set: tt.set}))
			d := deployment(t, ms)
			mounts := mountsByPath(d)
			if tmp := volume(t, d, mounts["/tmp"].Name); tmp.EmptyDir == nil {
				t.Errorf("/tmp is %+v, want an emptyDir", tmp.VolumeSource)
			}
			j := volume(t, d, mounts["/var/lib/chaosd/journal"].Name)
			switch {
			case tt.wantPVC == "" && j.EmptyDir == nil:
				t.Errorf("journal is %+v, want an emptyDir", j.VolumeSource)
			case tt.wantPVC != "" && (j.PersistentVolumeClaim == nil || j.PersistentVolumeClaim.ClaimName != tt.wantPVC):
				t.Errorf("journal is %+v, want claim %s", j.VolumeSource, tt.wantPVC)
			}
			pvcs := ofKind(ms, "PersistentVolumeClaim")
			if wantCreated := tt.wantPVC == "chaosd-journal"; (len(pvcs) == 1) != wantCreated {
				t.Errorf("rendered claims %v, want created=%v", pvcs, wantCreated)
			}
			for _, m := range pvcs {
				var pvc corev1.PersistentVolumeClaim
				decodeStrict(t, m, &pvc)
			}
		})
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	tests := []struct {
		name string
		set  []string
		want bool
	}{
		{"two replicas", nil, true},
		{"one replica", []string{"replicaCount=1"}, false},
		{"disabled", []string{"podDisruptionBudget.enabled=false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := parseManifests(t, render(t, renderOpts{set: tt.set}))
			pdbs := ofKind(ms, "PodDisruptionBudget")
			if (len(pdbs) == 1) != tt.want {
				t.Fatalf("rendered %v, want a PDB=%v", pdbs, tt.want)
			}
			if !tt.want {
				return
			}
			var pdb policyv1.PodDisruptionBudget
			decodeStrict(t, pdbs[0], &pdb)
			if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) {
				t.Errorf("maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
			}
			if sel := pdb.Spec.Selector.MatchLabels; sel["app.kubernetes.io/instance"] != releaseName {
				t.Errorf("selector %v", sel)
			}
		})
	}
}

func TestServiceAccount(t *testing.T) {
	ms := parseManifests(t, render(t, renderOpts{set: []string{"serviceAccount.create=false", "serviceAccount.name=existing"}}))
	if sa := ofKind(ms, "ServiceAccount"); len(sa) > 0 {
		t.Errorf("serviceAccount.create=false rendered %v", sa)
	}
	if got := deployment(t, ms).Spec.Template.Spec.ServiceAccountName; got != "existing" {
		t.Errorf("serviceAccountName %q, want existing", got)
	}
}

func mountsByPath(d appsv1.Deployment) map[string]corev1.VolumeMount {
	out := map[string]corev1.VolumeMount{}
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		out[m.MountPath] = m
	}
	return out
}

func volume(t *testing.T, d appsv1.Deployment, name string) corev1.Volume {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %q", name)
	return corev1.Volume{}
}
