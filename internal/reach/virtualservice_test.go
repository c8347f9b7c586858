package reach

import (
	"strings"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
)

// TestVirtualServiceReach judges real manifests: which data planes apply
// a VirtualService fault, and which bindings keep it from every caller.
func TestVirtualServiceReach(t *testing.T) {
	abort := config.Action{Type: config.ActionHTTPAbort, Status: 503}
	tests := []struct {
		name          string
		files         []string
		action        config.Action
		want          bool
		wantReason    string
		wantWarning   string
		wantNoWarning bool
	}{
		{name: "sidecar caller", files: []string{"sidecar.yaml"}, want: true, wantReason: "1 caller(s) with sidecar: shop/frontend-7d9f8-abcde", wantNoWarning: true},
		{name: "injection on, the only caller opted out", files: []string{"sidecar-opted-out.yaml"}, want: false, wantReason: "no live pod in any namespace runs a data plane"},
		{name: "ambient with a waypoint", files: []string{"ambient-waypoint.yaml"}, want: true, wantReason: "ambient caller(s) through waypoint waypoint"},
		{name: "ambient without a waypoint", files: []string{"ambient-no-waypoint.yaml"}, want: false, wantReason: "ztunnel ignores HTTP routes"},
		{name: "ambient with an HTTPRoute on the same service", files: []string{"ambient-httproute.yaml"}, want: false,
			wantReason: "HTTPRoute shop/cart-canary on Service shop/cart makes the waypoint's routing undefined", wantWarning: "Istio leaves the result undefined"},
		{name: "proxyless gRPC", files: []string{"proxyless-grpc.yaml"}, want: true, wantReason: "1 caller(s) with proxyless gRPC: grpc-demo/client-5c6d7-qwert",
			wantWarning: `route "grpc-demo": its delay has no percentage (legacy percent only)`},
		{name: "gateway only, gateway without pods", files: []string{"gateway-only.yaml"}, want: false, wantReason: "no live pod matches its selector istio=ingressgateway"},
		{name: "gateway only, gateway with a pod", files: []string{"gateway-only.yaml", "gateway-pod.yaml"}, want: true, wantReason: "gateway istio-system/public runs on istio-system/istio-ingressgateway-6b8f9-zxcvb"},
		{name: "host nobody serves", files: []string{"unserved-host.yaml"}, want: false, wantReason: "no Service or ServiceEntry serves its hosts ghost.shop.svc.cluster.local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, vs := loadManifests(t, tt.files...)
			if vs == nil {
				t.Fatal("no VirtualService in the manifests")
			}
			action := tt.action
			if action.Type == "" {
				action = abort
			}
			a := VirtualService(vs, action, m)
			t.Log(a.Summary(), a.Warnings)
			if a.Reachable != tt.want {
				t.Errorf("reachable = %v, want %v: %s", a.Reachable, tt.want, a.Summary())
			}
			if !strings.Contains(a.Summary(), tt.wantReason) {
				t.Errorf("summary %q does not contain %q", a.Summary(), tt.wantReason)
			}
			warnings := strings.Join(a.Warnings, "\n")
			if tt.wantWarning != "" && !strings.Contains(warnings, tt.wantWarning) {
				t.Errorf("warnings %q do not contain %q", warnings, tt.wantWarning)
			}
			if tt.wantNoWarning && len(a.Warnings) > 0 {
				t.Errorf("unexpected warnings: %q", a.Warnings)
			}
		})
	}
}

// TestNamespacesUnread: in namespaced mode namespace labels cannot be
// read; a pod that does not opt out counts, with its data plane unknown.
func TestNamespacesUnread(t *testing.T) {
	m, vs := loadManifests(t, "sidecar-opted-out.yaml")
	m.Namespaces, m.NamespacesUnread = nil, true
	if a := VirtualService(vs, config.Action{Type: config.ActionHTTPAbort, Status: 503}, m); a.Reachable {
		t.Errorf("the only pod opts out, reachable: %s", a.Summary())
	}
	delete(m.Pods[0].Labels, "sidecar.istio.io/inject")
	a := VirtualService(vs, config.Action{Type: config.ActionHTTPAbort, Status: 503}, m)
	if !a.Reachable || !strings.Contains(a.Summary(), "data plane unknown") {
		t.Errorf("unreadable namespace: %s, want reachable with the data plane unknown", a.Summary())
	}
}

// TestExportTo: a VirtualService exported only to its own namespace does
// not reach sidecars elsewhere.
func TestExportTo(t *testing.T) {
	m, vs := loadManifests(t, "sidecar.yaml")
	vs.Namespace = "backend"
	vs.Spec.Hosts = []string{"cart.shop.svc.cluster.local"}
	vs.Spec.ExportTo = []string{"."}
	if a := VirtualService(vs, config.Action{Type: config.ActionHTTPAbort, Status: 503}, m); a.Reachable {
		t.Errorf("exported to backend only, reachable: %s", a.Summary())
	}
	vs.Spec.ExportTo = []string{".", "shop"}
	if a := VirtualService(vs, config.Action{Type: config.ActionHTTPAbort, Status: 503}, m); !a.Reachable {
		t.Errorf("exported to shop, unreachable: %s", a.Summary())
	}
}
