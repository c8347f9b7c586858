package config

import (
	"strings"
	"testing"
)

// TestLandingQueryTemplates: landing queries see the same lower-case names
// as SLI queries, and any other name is refused when the config loads.
func TestLandingQueryTemplates(t *testing.T) {
	vars := LandingVars{Namespace: "shop", Name: "cart", Host: "cart.shop.svc.cluster.local", Window: "30s", Flag: "FI"}
	tests := []struct {
		query   string
		want    string // rendered; empty when parsing must fail
		wantErr string
	}{
		{query: `sum(increase(x{ns="{{.namespace}}",vs="{{.name}}",dst="{{.host}}",f=~"{{.flag}}"}[{{.window}}]))`,
			want: `sum(increase(x{ns="shop",vs="cart",dst="cart.shop.svc.cluster.local",f=~"FI"}[30s]))`},
		{query: `sum(increase(x[{{.Window}}]))`, wantErr: "Window"},
		{query: `sum(increase(x{w="{{.workload}}"}[1m]))`, wantErr: "workload"},
		{query: `sum(x{{`, wantErr: "invalid template"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			tmpl, err := ParseLandingQuery(tt.query)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLandingQuery() error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := RenderLandingQuery(tmpl, vars)
			if err != nil || got != tt.want {
				t.Errorf("RenderLandingQuery() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
