// Package reach answers, before a fault is injected, whether it can affect
// anything at all, and why:
//
//   - a VirtualService fault acts only where a data plane applies the
//     route: a gateway workload the VirtualService is bound to, or, for
//     in-mesh ("mesh") routes, a caller in a namespace the VirtualService
//     is exported to that runs an Envoy sidecar, proxyless gRPC, or
//     ambient mode with a waypoint in front of the destination; and only
//     on hosts some Service or ServiceEntry serves;
//   - a pod kill is answered by who replaces the pod (its controller), or
//     that nothing does and the kill is permanent;
//   - a node drain by what it will evict, the guard's own Prometheus and
//     Alertmanager named when they are among it.
//
// The rules (virtualservice.go, pods.go, drain.go) are pure functions of
// cluster objects, tested on real manifests in testdata; reader.go reads
// those objects from the API server. It never changes the cluster and
// never decides what happens to an unreachable fault (the runner does).
package reach
