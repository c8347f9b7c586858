package experiments

import "errors"

var (
	// ErrBlockedByPDB reports that an eviction was refused because a
	// PodDisruptionBudget allows no further disruption. It is a finding about
	// the target, not a failure of chaosd.
	ErrBlockedByPDB = errors.New("blocked by PodDisruptionBudget")
	// ErrAlreadyInjected reports that the target already carries a chaosd
	// injection; chaosd never stacks two faults on one object.
	ErrAlreadyInjected = errors.New("target already carries a chaosd injection")
	// ErrNoMatchingRoute reports that no HTTP route of a VirtualService
	// matched the action's route selector; nothing was changed.
	ErrNoMatchingRoute = errors.New("no HTTP route matches")
	// ErrNoOwner reports that a killed pod had no controller, so nothing
	// will replace it.
	ErrNoOwner = errors.New("pod has no controller to replace it")
	// ErrNodeLost reports that a node-delete with restore can no longer be
	// reverted: neither the Node nor its snapshot exists.
	ErrNodeLost = errors.New("node lost")
)
