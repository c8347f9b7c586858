package daemon

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/runner"
)

// Every self-pause outlives the process that took it: a restart or a
// failover during the same outage must not resume chaos.
func TestSelfPauseSurvivesFailover(t *testing.T) {
	tests := []struct {
		name      string
		pause     func(runner.Pauser)
		verdict   guard.Verdict
		wantUntil time.Duration // zero: until chaosd resume
	}{
		{
			name:    "onUnknown pause",
			pause:   func(p runner.Pauser) { p.PauseManual("guard unknown for too long during run r1 (onUnknown: pause)") },
			verdict: guard.Aborted,
		},
		{
			name: "weakness cooldown",
			pause: func(p runner.Pauser) {
				p.PauseAfterWeakness(config.Cooldown{Duration: 10 * time.Minute}, "weakness found by kill (run r1)")
			},
			verdict: guard.Weakness, wantUntil: 10 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset(chaosdConfigMap(nil))
			old, _ := testDaemon(t, inScope, kube, nil, false)
			old.leading.Store(true)
			// What the runner does when a run ends this way: pause, then report.
			tt.pause(old.pauser)
			runObserver{old}.DispatchFinished(journal.Record{RunID: "r1", Experiment: "kill", Verdict: tt.verdict})
			if paused, _ := old.Paused(testNow); !paused {
				t.Fatal("the leader that took the pause is not paused")
			}

			successor, _ := testDaemon(t, inScope, kube, nil, false)
			successor.restoreCooldown(context.Background())
			paused, why, until := successor.self.Paused(testNow)
			if !paused {
				t.Fatal("a new leader resumed chaos: the self-pause was not recorded on the ConfigMap")
			}
			if want := testNow.Add(tt.wantUntil); tt.wantUntil > 0 && !until.Equal(want) || tt.wantUntil == 0 && !until.IsZero() {
				t.Errorf("paused until %v (%s), want %v", until, why, tt.wantUntil)
			}
		})
	}
}
