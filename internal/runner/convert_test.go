package runner

import (
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
)

// TestInjectionOfNothingToRevert: a fault with nothing to give back is
// journaled as such (and "reverted" at its injection, so nothing-left checks
// see it done); a reversible one is not, and has no revert time until reverted.
func TestInjectionOfNothingToRevert(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		reversible bool
		want       bool
	}{
		{name: "pod kill", reversible: false, want: true},
		{name: "virtualservice abort", reversible: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := injectionOf(&experiments.Injection{Action: config.ActionPodKill, InjectedAt: at, Reversible: tt.reversible})
			if got.NothingToRevert != tt.want {
				t.Errorf("NothingToRevert = %v, want %v", got.NothingToRevert, tt.want)
			}
			if tt.want && (got.RevertedAt == nil || !got.RevertedAt.Equal(at)) {
				t.Errorf("RevertedAt = %v, want the injection time", got.RevertedAt)
			}
			if !tt.want && got.RevertedAt != nil {
				t.Errorf("RevertedAt = %v, want none before the revert", got.RevertedAt)
			}
		})
	}
}
