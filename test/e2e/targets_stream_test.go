//go:build e2e

package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chaosd/chaosd/test/cluster"
)

// streamConfig gives chaosd one experiment that never fires during the
// test: the inventory starts all the same.
const streamConfig = `guard: {unguarded: true}
experiments:
  - name: any-pod
    schedule: "@every 1h"
    target: {kind: pod, mode: one}
    action: {type: pod-kill}
`

// TestTargetsInventoryStreamsInitialList: chaosd's informers (metadata-only
// for namespaces, protobuf objects for pods, workloads and PDBs) fill the
// inventory with a streamed list (a WATCH with sendInitialEvents=true) from
// the real API server, not with a LIST. An API proxy between chaosd and the
// server counts, per inventory resource, the streamed watches and the
// unselective LISTs an informer would otherwise page through.
// chaosd's /readyz turning 200 (which waits for the inventory) is the
// positive signal that the sync is over.
func TestTargetsInventoryStreamsInitialList(t *testing.T) {
	c := cluster.Start(t, cluster.Options{IstioCRDs: true})
	proxy := cluster.NewAPIProxy(t, c)
	resources := map[string]string{
		"pods":         "/api/v1/pods",
		"namespaces":   "/api/v1/namespaces",
		"deployments":  "/apis/apps/v1/deployments",
		"replicasets":  "/apis/apps/v1/replicasets",
		"statefulsets": "/apis/apps/v1/statefulsets",
		"daemonsets":   "/apis/apps/v1/daemonsets",
		"pdbs":         "/apis/policy/v1/poddisruptionbudgets",
	}
	type counters struct{ streamed, listed func() int64 }
	seen := map[string]counters{}
	for name, path := range resources {
		seen[name] = counters{
			streamed: proxy.Count(func(r *http.Request) bool {
				q := r.URL.Query()
				return r.URL.Path == path && q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true"
			}),
			listed: proxy.Count(func(r *http.Request) bool {
				q := r.URL.Query()
				return r.URL.Path == path && q.Get("watch") == "" && q.Get("labelSelector") == "" && q.Get("fieldSelector") == ""
			}),
		}
	}
	// The pods' stream, the inventory's largest transfer, comes in protobuf
	// (client-go's typed clients prefer it for built-in kinds) and whole:
	// not the metadata client's PartialObjectMetadata.
	podsInProtobuf := proxy.Count(func(r *http.Request) bool {
		return r.URL.Path == resources["pods"] && r.URL.Query().Get("watch") == "true" &&
			strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.kubernetes.protobuf") &&
			!strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadata")
	})
	cfg := newConfigDir(t, streamConfig)
	startChaosdVia(t, c, proxy.Kubeconfig, cfg.Path) // returns once /readyz is 200

	if n := podsInProtobuf(); n == 0 {
		t.Error("no pod watch asked for protobuf first")
	}

	for name, n := range seen {
		streamed, listed := n.streamed(), n.listed()
		t.Logf("%s: %d streamed watch(es) with sendInitialEvents, %d LIST(s)", name, streamed, listed)
		if streamed == 0 || listed != 0 {
			t.Errorf("%s: %d streamed initial lists and %d LISTs; want at least one stream and no LIST", name, streamed, listed)
		}
	}
}
