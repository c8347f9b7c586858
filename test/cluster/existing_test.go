package cluster

import "testing"

func TestExistingFromEnv(t *testing.T) {
	if got := ExistingFromEnv(envMap(map[string]string{EnvPrometheusURL: "http://p"})); got != nil {
		t.Errorf("without kubeconfig got %+v, want nil", got)
	}
	got := ExistingFromEnv(envMap(map[string]string{EnvKubeconfig: "/k", EnvPrometheusURL: "http://p", EnvAlertmanagerURL: "http://a"}))
	if got == nil || *got != (ExistingCluster{Kubeconfig: "/k", PrometheusURL: "http://p", AlertmanagerURL: "http://a"}) {
		t.Errorf("ExistingFromEnv() = %+v", got)
	}
}
