package config

import (
	"fmt"
	"slices"
	"strings"
)

// ValidateScope checks the config against namespaced mode (chaosd
// --namespaced --watch-namespaces=..., the Helm chart's
// rbac.scope=namespaced), where chaosd's RBAC is a Role in each watched
// namespace and nothing cluster-wide. It reports every problem at once, as
// an *Errors like Parse does:
//
//   - node and zone targets: nodes are cluster-scoped;
//   - pod and virtualservice targets without an explicit namespaces list,
//     which would mean every namespace;
//   - target namespaces that are not watched;
//   - namespaceSelector: a Role cannot read Namespace objects.
//
// Disabled experiments are checked too: enabling one is a one-line reload.
// No watched namespaces means cluster-wide mode, where nothing is refused.
func (c *Config) ValidateScope(watched []string) error {
	if len(watched) == 0 {
		return nil
	}
	errs := &Errors{File: c.file, lines: c.lines}
	list := strings.Join(watched, ",")
	for i, e := range c.Experiments {
		path := experimentPath(i) + ".target"
		t := e.Target
		switch t.Kind {
		case TargetNode, TargetZone:
			errs.add(path+".kind", "target kind %s needs cluster-wide access to nodes; it cannot run with --namespaced", t.Kind)
		case TargetPod, TargetVirtualService:
			if len(t.Namespaces) == 0 {
				errs.add(path+".namespaces", "is required with --namespaced: list the target namespaces, out of the watched %s", list)
			}
			for j, ns := range t.Namespaces {
				if !slices.Contains(watched, ns) {
					errs.add(fmt.Sprintf("%s.namespaces[%d]", path, j), "namespace %q is not watched (--watch-namespaces=%s), so chaosd has no access to it", ns, list)
				}
			}
			if t.NamespaceSelector != "" {
				errs.add(path+".namespaceSelector", "cannot be used with --namespaced: a Role cannot read Namespace objects; list the namespaces instead")
			}
		}
	}
	if len(errs.List) == 0 {
		return nil
	}
	errs.sortByLine()
	return errs
}
