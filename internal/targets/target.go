// Package targets owns "what may be hit right now, and which one do we hit":
// it watches the cluster cheaply, filters candidates through the experiment's
// selectors and blast-radius policy (recording why each rejected candidate
// was rejected), and samples without replacement from an injected random
// source.
//
// It never changes anything in the cluster, never reads config from
// anywhere but its arguments, and never imports the packages downstream of
// it (experiments, runner, scheduler): they call Picker.Pick, say what they
// hold through the Held interface defined here, and reserve what they
// picked in a Ledger until their run ends.
package targets

import (
	"fmt"

	"github.com/chaosd/chaosd/internal/config"
)

// Target is one thing an experiment hits. Which fields are set depends on Kind.
type Target struct {
	Kind      config.TargetKind `json:"kind"`
	Namespace string            `json:"namespace,omitempty"`
	Name      string            `json:"name,omitempty"`
	// Owner is the pod's controlling workload, as Kind/name (pods only).
	Owner string `json:"owner,omitempty"`
	// Node is where a pod runs (pods only).
	Node string `json:"node,omitempty"`
	// Zone and Nodes describe a zone target: the nodes with that label value
	// that the outage takes. Name repeats the zone, as Held looks it up.
	Zone  string   `json:"zone,omitempty"`
	Nodes []string `json:"nodes,omitempty"`
	// URL is a load burst's endpoint (url only).
	URL string `json:"url,omitempty"`
	// Host is a VirtualService's first host (virtualservices only), for
	// SLI queries.
	Host string `json:"host,omitempty"`
}

// String names the target the way logs, Events and journals do.
func (t Target) String() string {
	switch t.Kind {
	case config.TargetZone:
		return fmt.Sprintf("zone/%s", t.Zone)
	case config.TargetURL:
		return t.URL
	case config.TargetNode:
		return fmt.Sprintf("node/%s", t.Name)
	}
	return fmt.Sprintf("%s/%s/%s", t.Kind, t.Namespace, t.Name)
}
