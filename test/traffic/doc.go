// Package traffic is the playground's demo service with real requests: a
// small gRPC server, a client that reaches it through istiod as a proxyless
// gRPC data plane (grpc-go's xDS resolver, `xds:///host:port`), and a
// bounded open-loop load that records the outcome of every request.
//
// Faults are never emulated here: an http-abort or http-delay chaosd writes
// into the demo's VirtualService reaches the client only as istiod's xDS
// configuration, and grpc-go's own xDS fault filter applies it. Both sides
// export request metrics through the gRPC ecosystem's Prometheus middleware
// (grpc_client_handled_total, grpc_client_handling_seconds and their
// server twins), on a registry the caller passes in.
//
// Everything listens on 127.0.0.0/8 and every load is bounded in rate,
// count and time.
package traffic
