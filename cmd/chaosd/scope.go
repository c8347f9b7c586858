package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
)

// scopeFlags select namespaced mode, as the Helm chart's
// rbac.scope=namespaced runs chaosd: its Roles cover only the watched
// namespaces, so chaosd reads nothing cluster-wide and refuses configs that
// aim elsewhere or at nodes.
type scopeFlags struct {
	flags      *pflag.FlagSet
	namespaced bool
	watch      []string
}

const watchNamespacesFlag = "watch-namespaces"

// register adds --watch-namespaces, and --namespaced when withNamespaced
// (run and once, which the chart's Deployment and CD pipelines call).
func (s *scopeFlags) register(fs *pflag.FlagSet, withNamespaced bool) {
	s.flags = fs
	if withNamespaced {
		fs.BoolVar(&s.namespaced, "namespaced", false, "namespaced RBAC (Helm rbac.scope=namespaced): read and target only --watch-namespaces; node and zone experiments are refused")
	}
	fs.StringSliceVar(&s.watch, watchNamespacesFlag, nil, "the namespaces chaosd may read and target (comma-separated); implies namespaced mode")
}

// namespaces returns the watched namespaces, sorted, or nil in cluster-wide
// mode. --namespaced without namespaces, or an empty --watch-namespaces, is
// an error: it would silently mean every namespace.
func (s *scopeFlags) namespaces() ([]string, error) {
	var out []string
	for _, ns := range s.watch {
		if ns = strings.TrimSpace(ns); ns == "" {
			continue
		}
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			return nil, fmt.Errorf("--%s: invalid namespace %q: %s", watchNamespacesFlag, ns, msgs[0])
		}
		out = append(out, ns)
	}
	if len(out) == 0 && (s.namespaced || s.flags.Changed(watchNamespacesFlag)) {
		return nil, errors.New("namespaced mode needs --watch-namespaces: the namespaces chaosd may read and target (Helm rbac.namespaces)")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
