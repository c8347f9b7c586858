// Package cluster runs a real, throw-away Kubernetes control plane on the
// loopback interface for chaosd's end-to-end tests and demos.
//
// Up starts, in a fresh temporary directory and on freshly reserved ports:
//   - etcd, kube-apiserver, kube-controller-manager and kube-scheduler built
//     from upstream sources by hack/e2e-bins.sh;
//   - kwok, which plays the kubelet for fake Nodes so that Pods become Running
//     and Ready without containers;
//   - optionally the Istio CRDs, Prometheus, Alertmanager, an in-process demo
//     exporter and the go-demo-8 workload.
//
// Every process runs in its own process group with a parent-death signal, so
// nothing survives the test binary. Down (or the test cleanup registered by
// Start) stops them all; on failure the component logs are kept.
//
// The package owns only test infrastructure: it must never be imported by
// chaosd's production code.
package cluster
