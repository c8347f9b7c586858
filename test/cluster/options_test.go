package cluster

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr []string // substrings; nil means valid
	}{
		{name: "zero value is a bare control plane", opts: Options{}},
		{name: "full options", opts: FullOptions()},
		{name: "nodes without kwok", opts: Options{Nodes: 2}, wantErr: []string{"nodes: fake nodes need kwok"}},
		{
			name:    "demo without kwok and CRDs reports both",
			opts:    Options{DemoWorkload: true},
			wantErr: []string{"pods only become ready with kwok", "needs istioCRDs"},
		},
		{
			name:    "demo without workload controllers",
			opts:    Options{Kwok: true, IstioCRDs: true, DemoWorkload: true, NoWorkloadControllers: true},
			wantErr: []string{"demoWorkload: its Deployments need the workload controllers"},
		},
		{name: "rules without prometheus", opts: Options{Prometheus: PrometheusOptions{Rules: "groups: []"}}, wantErr: []string{"prometheus.rules"}},
		{
			name:    "target without addresses",
			opts:    Options{Prometheus: PrometheusOptions{Enabled: true, Targets: []ScrapeTarget{{Job: "chaosd"}}}},
			wantErr: []string{"prometheus.targets[0]"},
		},
		{name: "istiod without CRDs", opts: Options{Istiod: true}, wantErr: []string{"istiod: needs istioCRDs"}},
		{name: "traffic without istiod", opts: Options{IstioCRDs: true, Traffic: true}, wantErr: []string{"traffic: needs istiod"}},
		{name: "traffic through istiod", opts: Options{IstioCRDs: true, Istiod: true, Traffic: true}},
		{name: "webhook without alertmanager", opts: Options{Alertmanager: AlertmanagerOptions{WebhookURL: "http://x"}}, wantErr: []string{"alertmanager.webhookURL"}},
		{
			name: "demo on an existing cluster needs no kwok",
			opts: Options{DemoWorkload: true, IstioCRDs: true, Existing: &ExistingCluster{Kubeconfig: "k"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.withDefaults().validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("validate() = nil, want errors %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("validate() = %v, want it to mention %q", err, want)
				}
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	got := Options{Kwok: true}.withDefaults()
	if got.Nodes != defaultNodes || got.PodsPerNode != defaultPodsPerNode || got.StartTimeout != defaultStartTimeout || got.Logf == nil {
		t.Errorf("withDefaults() = %+v", got)
	}
	if n := (Options{}).withDefaults().Nodes; n != 0 {
		t.Errorf("nodes without kwok defaulted to %d, want 0", n)
	}
}
