package reach

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DataPlane is what applies a VirtualService for one caller pod.
type DataPlane string

const (
	// Sidecar: an Envoy sidecar (istio-proxy) routes the pod's calls.
	Sidecar DataPlane = "sidecar"
	// ProxylessGRPC: grpc-go itself applies the routes, for calls that
	// dial xds:///.
	ProxylessGRPC DataPlane = "proxyless gRPC"
	// Ambient: ztunnel carries the pod's traffic; HTTP routes apply only
	// through a waypoint proxy in front of the destination.
	Ambient DataPlane = "ambient"
	// NoDataPlane: nothing of Istio's sees the pod's calls.
	NoDataPlane DataPlane = "none"
	// UnknownDataPlane: the namespace's labels could not be read, and the
	// pod's own do not decide.
	UnknownDataPlane DataPlane = "a data plane unknown (namespace labels not readable)"
)

// Labels and annotations Istio reads to decide a pod's data plane.
const (
	labelInjection     = "istio-injection"
	labelRevision      = "istio.io/rev"
	keySidecarInject   = "sidecar.istio.io/inject"
	annotationTemplate = "inject.istio.io/templates"
	labelDataplaneMode = "istio.io/dataplane-mode"
	labelUseWaypoint   = "istio.io/use-waypoint"
	proxyContainer     = "istio-proxy"
	grpcAgentTemplate  = "grpc-agent"
)

// DataPlaneOf says which data plane routes pod's outbound calls, given its
// namespace (nil when unknown), as Istio's injector and CNI decide it:
// the pod's own sidecar.istio.io/inject (label, then annotation) wins over
// the namespace's istio-injection or istio.io/rev label; the
// inject.istio.io/templates annotation with grpc-agent makes an injected
// pod proxyless gRPC; a pod already running istio-proxy has a sidecar
// whatever the labels say now; istio.io/dataplane-mode=ambient on the
// namespace or pod (none on the pod opts out) is ambient.
func DataPlaneOf(pod *corev1.Pod, ns *corev1.Namespace) DataPlane {
	if slicesHasProxy(pod.Spec.Containers) || slicesHasProxy(pod.Spec.InitContainers) {
		if strings.Contains(pod.Annotations[annotationTemplate], grpcAgentTemplate) {
			return ProxylessGRPC
		}
		return Sidecar
	}
	if injected(pod, ns) {
		if strings.Contains(pod.Annotations[annotationTemplate], grpcAgentTemplate) {
			return ProxylessGRPC
		}
		return Sidecar
	}
	mode := pod.Labels[labelDataplaneMode]
	if mode == "" {
		mode = nsLabels(ns)[labelDataplaneMode]
	}
	if mode == "ambient" {
		return Ambient
	}
	return NoDataPlane
}

// injected reports whether the sidecar injector injects pod.
func injected(pod *corev1.Pod, ns *corev1.Namespace) bool {
	for _, v := range []string{pod.Labels[keySidecarInject], pod.Annotations[keySidecarInject]} {
		switch v {
		case "true":
			return true
		case "false":
			return false
		}
	}
	l := nsLabels(ns)
	switch l[labelInjection] {
	case "enabled":
		return true
	case "disabled":
		return false
	}
	return l[labelRevision] != "" || pod.Labels[labelRevision] != ""
}

func slicesHasProxy(cs []corev1.Container) bool {
	for _, c := range cs {
		if c.Name == proxyContainer {
			return true
		}
	}
	return false
}

// live reports whether a pod can still make calls: not finished, not
// being deleted.
func live(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}
