package reach

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Monitor is one of the guard's endpoints (Prometheus, Alertmanager).
type Monitor struct {
	// Role names it in answers: "the guard's Prometheus".
	Role string
	URL  string
}

// NodeDrain answers for draining node: the pods it will evict (as
// kubectl drain picks them: not mirror pods, not finished pods, not
// DaemonSet pods; with DaemonSet pods and ignoreDaemonSets false the drain
// refuses, which is a warning), and which of them serve the
// guard's own monitoring, found through the Service or pod address each
// guard URL names. A drain always reaches its node (it cordons it); an
// empty eviction list is said, not judged unreachable.
func NodeDrain(node string, pods []corev1.Pod, services []corev1.Service, monitors []Monitor, ignoreDaemonSets bool) Answer {
	a := Answer{Reachable: true}
	watchers := monitorPods(pods, services, monitors)
	var daemons int
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName != node || !live(p) {
			continue
		}
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
			continue
		}
		if controllerKind(p) == "DaemonSet" {
			daemons++ // never evicted: its controller would put it back at once
			continue
		}
		id := p.Namespace + "/" + p.Name
		a.Evicts = append(a.Evicts, id)
		if role, ok := watchers[id]; ok {
			a.warning(fmt.Sprintf("evicts %s, which serves %s: the guard may go blind while the node drains", id, role))
		}
	}
	if len(a.Evicts) == 0 {
		a.reason(fmt.Sprintf("cordons %s and evicts nothing", node))
	} else {
		a.reason(fmt.Sprintf("cordons %s and evicts %d pod(s): %s", node, len(a.Evicts), named(append([]string(nil), a.Evicts...))))
	}
	switch {
	case daemons > 0 && ignoreDaemonSets:
		a.reason(fmt.Sprintf("leaves %d DaemonSet pod(s)", daemons))
	case daemons > 0:
		a.warning(fmt.Sprintf("%d DaemonSet pod(s) on the node and ignoreDaemonSets is false: the drain will refuse", daemons))
	}
	return a
}

func controllerKind(p *corev1.Pod) string {
	for _, o := range p.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			return o.Kind
		}
	}
	return ""
}

// monitorPods maps namespace/name of every pod behind a guard URL to the
// role it plays. A URL's host is a Service's DNS name (name.namespace...),
// a Service's cluster IP, or a pod's IP.
func monitorPods(pods []corev1.Pod, services []corev1.Service, monitors []Monitor) map[string]string {
	out := map[string]string{}
	for _, mon := range monitors {
		u, err := url.Parse(mon.URL)
		if err != nil || u.Hostname() == "" {
			continue
		}
		host := u.Hostname()
		var sel labels.Selector
		var selNS string
		ip := net.ParseIP(host)
		for i := range services {
			s := &services[i]
			byName := ip == nil && hostNamesService(host, s)
			byIP := ip != nil && s.Spec.ClusterIP == host
			if (byName || byIP) && len(s.Spec.Selector) > 0 {
				sel, selNS = labels.SelectorFromSet(s.Spec.Selector), s.Namespace
			}
		}
		for i := range pods {
			p := &pods[i]
			match := sel != nil && p.Namespace == selNS && sel.Matches(labels.Set(p.Labels))
			if match || (ip != nil && p.Status.PodIP == host) {
				out[p.Namespace+"/"+p.Name] = mon.Role + " (" + mon.URL + ")"
			}
		}
	}
	return out
}

// hostNamesService reports whether host is s's DNS name: name.namespace,
// name.namespace.svc or name.namespace.svc.<cluster domain>. A bare name
// is ambiguous without chaosd's own namespace and is not matched.
func hostNamesService(host string, s *corev1.Service) bool {
	prefix := s.Name + "." + s.Namespace
	return host == prefix || strings.HasPrefix(host, prefix+".svc")
}
