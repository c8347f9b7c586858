package daemon

import (
	"context"
	"strings"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
)

const noGuard = "neither alertmanager nor prometheus is set"

// A config that no monitoring judges is refused at start, by run and once
// alike, and on reload, unless it opts out with guard.unguarded; the
// status then says unguarded.
func TestUnguardedConfigIsRefused(t *testing.T) {
	t.Run("run and once refuse it", func(t *testing.T) {
		o := Options{ConfigPath: writeConfig(t, inScopeExperiments)}
		if err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), noGuard) {
			t.Errorf("Run: %v, want the missing guard refused", err)
		}
		if _, err := Once(context.Background(), o, "kill"); err == nil || !strings.Contains(err.Error(), noGuard) {
			t.Errorf("Once: %v, want the missing guard refused", err)
		}
	})
	t.Run("a reload without a guard keeps the last good config", func(t *testing.T) {
		d, _ := testDaemon(t, inScope, nil, nil, true)
		good := d.cfg.Load()
		bad, err := config.Parse("config.yaml", []byte(inScopeExperiments))
		if err != nil {
			t.Fatal(err)
		}
		d.reload(context.Background(), bad, nil)
		if d.cfg.Load() != good {
			t.Error("the unguarded config replaced the last good one")
		}
		if st := d.status(); !strings.Contains(st.ConfigError, noGuard) || st.Unguarded {
			t.Errorf("status configError = %q, unguarded = %v; want the refusal, still guarded", st.ConfigError, st.Unguarded)
		}
	})
	t.Run("the opt-out runs and shows", func(t *testing.T) {
		d, _ := testDaemon(t, "guard: {unguarded: true}\n"+inScopeExperiments, nil, nil, true)
		if st := d.status(); !st.Unguarded {
			t.Errorf("status = %+v, want unguarded", st)
		}
	})
}
