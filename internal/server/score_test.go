package server

import (
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/control"
)

// TestPageScores: the status page lists each resiliency score with its
// counted and excluded runs, says "no data" (never 100%) without a counted
// run, and escapes names. Kept as golden files so wording shows in review.
func TestPageScores(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	ratio := func(v float64) *float64 { return &v }
	tests := []struct {
		name   string
		scores []control.Score
		golden string
		want   []string
	}{
		{name: "scores", golden: "scores.html.golden", scores: []control.Score{
			{Experiment: "abort", Workload: "shop/checkout", Ratio: ratio(2.0 / 3), Counted: 3, Passed: 2, Excluded: 1, Window: 20},
			{Experiment: "kill", Workload: "web/<web>", Ratio: ratio(1), Counted: 5, Passed: 5, Window: 20},
			{Experiment: "abort", Workload: "shop/cart", Counted: 0, Excluded: 2, Window: 20},
		}, want: []string{"<td class=\"nw\">66.7%</td>", "<td class=\"nw\">100%</td>", "<td class=\"nw muted\">no data</td>",
			"web/&lt;web&gt;", "last 20 runs"}},
		{name: "none", golden: "scores-none.html.golden", want: []string{"No finished run has hit a workload yet."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			section := pageSection(t, statusPageOf(t, control.Status{State: "running", Scores: tt.scores}, now), "scores")
			for _, w := range tt.want {
				if !strings.Contains(section, w) {
					t.Errorf("scores section lacks %q:\n%s", w, section)
				}
			}
			if strings.Contains(section, "100%") != (tt.name == "scores") {
				t.Errorf("100%% shown where no run counted:\n%s", section)
			}
			checkGolden(t, tt.golden, section)
		})
	}
}
