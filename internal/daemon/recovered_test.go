package daemon

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
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

// In namespaced mode a node snapshot left by a cluster-wide chaosd cannot be
// restored: recovery reports it once, not at every pass.
func TestUnrestorableSnapshotIsReportedOnce(t *testing.T) {
	in, err := json.Marshal(experiments.Intent{Run: "20261125t100000z-delete-dead", Experiment: "delete", Action: config.ActionNodeDelete,
		By: "chaosd-old", InjectedAt: testNow.Add(-2 * time.Hour), ExpiresAt: testNow.Add(-time.Hour), Original: json.RawMessage(`{"node":"n5","restore":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	snap := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "chaosd-injection-dead-n5",
		Labels:      map[string]string{experiments.LabelInjected: "true", experiments.LabelSnapshot: "true"},
		Annotations: map[string]string{experiments.AnnotationInjection: string(in)}}}
	clk := clocktesting.NewFakeClock(testNow)
	engine, err := experiments.NewEngine(experiments.Options{Kube: fake.NewClientset(snap), Namespace: testNamespace,
		Namespaces: []string{"shop"}, Identity: "chaosd-0", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	d := &daemon{o: Options{Clock: clk, RecoverEvery: time.Minute}, log: zap.New(core), engine: engine}
	for range 3 { // three passes, a minute apart
		d.recover(context.Background())
		clk.Step(time.Minute)
	}
	if n := logs.FilterMessage("a fault recovery cannot revert here; reported once").Len(); n != 1 {
		t.Errorf("the snapshot was reported %d times in 3 passes, want once", n)
	}
	if n := logs.FilterLevelExact(zap.ErrorLevel).Len(); n != 0 {
		t.Errorf("%d error logs, want none: %v", n, logs.All())
	}
}
