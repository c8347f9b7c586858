package experiments

import (
	"context"

	"go.uber.org/zap"
)

// dryRun wraps an Actuator for dry runs. It goes through the actuator's own
// code path up to the API call (Plan reads the target and computes the exact
// change) and logs what would change; it never calls Inject or Revert. The
// Engine wraps actuators in it in exactly one place.
type dryRun struct {
	next Actuator
}

var _ Actuator = dryRun{}

func (d dryRun) Plan(ctx context.Context, s Spec) (Plan, error) {
	return d.next.Plan(ctx, s)
}

func (d dryRun) Inject(ctx context.Context, s Spec) (Record, error) {
	p, err := d.next.Plan(ctx, s)
	if err != nil {
		return Record{}, err
	}
	for _, c := range p.Changes {
		s.log().Info("dry run: would change",
			zap.String("verb", c.Verb), zap.String("object", c.Object),
			zap.ByteString("diff", c.Diff), zap.String("note", c.Note))
	}
	return Record{Target: s.Target, Intent: s.Intent, Detail: p}, nil
}

func (d dryRun) Revert(context.Context, Record) (Outcome, error) {
	return Outcome{Notes: []string{"dry run: nothing was changed, nothing to revert"}}, nil
}
