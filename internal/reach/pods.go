package reach

import (
	"fmt"
	"strings"
)

// replacingControllers re-create a pod that is deleted. A Deployment's
// pods count through their ReplicaSet, which targets resolves to the
// Deployment.
var replacingControllers = map[string]bool{
	"Deployment": true, "ReplicaSet": true, "StatefulSet": true, "DaemonSet": true, "Job": true,
}

// PodKill answers for killing a pod whose workload is owner, as
// targets.Target.Owner spells it ("Kind/name", "" for a bare pod). A
// pod-kill always reaches its pod; what matters is whether anything puts
// it back.
func PodKill(owner string) Answer {
	a := Answer{Reachable: true}
	kind, _, _ := strings.Cut(owner, "/")
	switch {
	case owner == "":
		a.Permanent = true
		a.reason("bare pod: no controller replaces it, the kill is permanent")
	case replacingControllers[kind]:
		a.reason(fmt.Sprintf("%s replaces it", owner))
	default:
		a.reason(fmt.Sprintf("owned by %s, a controller chaosd does not know: it may or may not replace it", owner))
		a.warning("the replacement of a pod of " + owner + " is not guaranteed")
	}
	return a
}
