package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.uber.org/zap"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/targets"
)

// Actuator injects and reverts one kind of fault. The Engine is its only
// caller; an Actuator never emits Events or metrics itself.
type Actuator interface {
	// Plan computes what Inject would change. It reads the cluster and
	// never writes to it: dry runs are built on it.
	Plan(ctx context.Context, s Spec) (Plan, error)
	// Inject records the intent and makes the change. A Record with
	// Applied set means something changed and must be reverted, even when
	// an error is returned as well.
	Inject(ctx context.Context, s Spec) (Record, error)
	// Revert gives back what Inject changed, and only that. It must be
	// idempotent: a second call finds nothing left to do.
	Revert(ctx context.Context, r Record) (Outcome, error)
}

// Spec is one fault to inject.
type Spec struct {
	Intent Intent
	Action config.Action
	Target targets.Target
	// Log carries the run's stable keys (experiment, run, action, target).
	Log *zap.Logger
}

func (s Spec) log() *zap.Logger {
	if s.Log == nil {
		return zap.NewNop()
	}
	return s.Log
}

// Record is what an Actuator hands back to revert the fault later. It is
// rebuilt from the cluster by recovery, so Revert must rely only on Target
// and Intent (Detail is a best-effort fallback and journal material).
type Record struct {
	Target targets.Target
	Intent Intent
	// Applied is true once anything changed in the cluster.
	Applied bool
	// Reversible is false for faults with nothing to give back (pod-kill,
	// http-load, node-delete without restore).
	Reversible bool
	// Refs name the objects changed, for Kubernetes Events.
	Refs []corev1.ObjectReference
	// Detail is the action kind's report for the journal: *PodKill,
	// *LoadReport, *NodeReport, *RouteReport, *NodeSnapshot, or a Plan in a
	// dry run.
	Detail any
}

// Outcome says what a revert found.
type Outcome struct {
	// Gone is true when the target no longer exists: nothing is left to
	// revert, which counts as reverted.
	Gone bool
	// Notes explain what was deliberately left alone (someone else's
	// change, a route that disappeared, a node that was cordoned before).
	Notes []string
	// Left lists the faults chaosd injected that it left in place because
	// another writer changed them meanwhile: nobody owns them now, which
	// the Engine reports loudly (a Warning Event, chaosd_faults_left_total).
	Left []LeftFault
}

// LeftFault is one fault a revert left in place: the parts of it (abort,
// delay) that were chaosd's until another writer changed them.
type LeftFault struct {
	Object string   `json:"object"` // e.g. virtualservice/ns/name
	Route  string   `json:"route"`  // "name", or #index for an unnamed route
	Parts  []string `json:"parts"`  // abort, delay
	// ChangedBy is the field manager that last wrote the routes (from
	// managedFields), or "an unknown writer".
	ChangedBy string `json:"changedBy"`
}

// String is the line reports and Events show.
func (l LeftFault) String() string {
	return fmt.Sprintf("fault left in place on route %s of %s (%s): changed by %s", l.Route, l.Object, strings.Join(l.Parts, ", "), l.ChangedBy)
}

func (o *Outcome) note(format string, args ...any) {
	o.Notes = append(o.Notes, fmt.Sprintf(format, args...))
}

// Plan lists the writes an injection would make, for dry runs and logs.
type Plan struct {
	Changes []Change `json:"changes"`
}

// Change is one write: the verb, the object, and what would change.
type Change struct {
	Verb   string `json:"verb"`
	Object string `json:"object"`
	// Diff is a JSON merge patch from the current object to the one that
	// would be written, or the request body for creates and evictions.
	Diff json.RawMessage `json:"diff,omitempty"`
	Note string          `json:"note,omitempty"`
}

// diff returns the JSON merge patch turning before into after.
func diff(before, after any) (json.RawMessage, error) {
	b, err := json.Marshal(before)
	if err != nil {
		return nil, fmt.Errorf("encode current object: %w", err)
	}
	a, err := json.Marshal(after)
	if err != nil {
		return nil, fmt.Errorf("encode changed object: %w", err)
	}
	p, err := jsonpatch.CreateMergePatch(b, a)
	if err != nil {
		return nil, fmt.Errorf("diff objects: %w", err)
	}
	return p, nil
}
