package daemon

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// A run whose chaosd died holding a fault gets a journal record saying that
// recovery reverted it: its own in-progress record when the journal has it
// (a restarted daemon), else a new one.
func TestRecoveryJournalsTheRunItCleanedUpAfter(t *testing.T) {
	const run = "20261125t100000z-cordon-dead" // orphanedCordon's run
	tests := []struct {
		name       string
		inProgress bool
	}{
		{name: "run unknown to this journal"},
		{name: "run left in progress in this journal", inProgress: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := testDaemon(t, inScope, fake.NewClientset(orphanedCordon(t, "n1")), nil, false)
			if tt.inProgress {
				rec := journal.Record{SchemaVersion: journal.SchemaVersion, RunID: run, Experiment: "cordon", StartedAt: testNow.Add(-2 * 3600e9)}
				rec.AddTimeline(rec.StartedAt, journal.PhasePick, "", "chose node/n1", nil)
				if err := d.journal.Write(rec); err != nil {
					t.Fatal(err)
				}
			}
			d.recover(context.Background())
			rec, err := d.journal.Get(run)
			if err != nil {
				t.Fatalf("no journal record of the recovered run: %v", err)
			}
			if rec.Verdict != guard.Aborted || !strings.Contains(rec.Reason, "recovery by chaosd-0 reverted") {
				t.Errorf("verdict %q reason %q, want aborted, reverted by recovery", rec.Verdict, rec.Reason)
			}
			last := rec.Timeline[len(rec.Timeline)-1]
			if last.Phase != journal.PhaseRevert || last.Target != "node/n1" || !strings.Contains(last.Message, "recovered by chaosd-0") {
				t.Errorf("last timeline entry %+v, want the recovery of node/n1", last)
			}
			if tt.inProgress && (len(rec.Timeline) != 2 || rec.Timeline[0].Phase != journal.PhasePick) {
				t.Errorf("timeline %+v: the run's own entries were not kept", rec.Timeline)
			}
		})
	}
}
