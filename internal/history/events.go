package history

import (
	"time"

	"github.com/chaosd/chaosd/internal/chart"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/journal"
)

// Events are the shaded windows and the marks of runs and held faults:
//   - a window per injection, from injected to reverted; one not reverted
//     yet (or a run still going) ends at now; a kill, which nothing
//     reverts, is an instant;
//   - a window per fault held now that no record covers yet;
//   - a "halt" mark per halt in a run's timeline, a verdict mark at the end
//     of each finished run (skipped runs injected nothing and are left out).
func Events(recs []journal.Record, active []control.ActiveFault, now time.Time) ([]chart.Window, []chart.Mark) {
	var (
		windows []chart.Window
		marks   []chart.Mark
		covered = map[string]bool{}
	)
	for _, r := range recs {
		for _, inj := range r.Injections {
			end, held := now, ""
			switch {
			case inj.RevertedAt != nil:
				end = *inj.RevertedAt
			case inj.NothingToRevert:
				end = inj.InjectedAt
			case !r.FinishedAt.IsZero():
				end = r.FinishedAt
			default:
				held = ", held now"
			}
			windows = append(windows, chart.Window{From: inj.InjectedAt, To: end,
				Label: r.Experiment + ": " + string(inj.Action) + " on " + inj.Target + " (run " + r.RunID + held + ")"})
			covered[r.RunID+" "+inj.Target] = true
		}
		for _, e := range r.Timeline {
			if e.Phase == journal.PhaseHalt {
				marks = append(marks, chart.Mark{At: e.At, Kind: "halt", Label: "halt of run " + r.RunID + ": " + e.Message})
			}
		}
		if r.Verdict != "" && r.Verdict != journal.VerdictSkipped && !r.FinishedAt.IsZero() {
			marks = append(marks, chart.Mark{At: r.FinishedAt, Kind: string(r.Verdict),
				Label: "run " + r.RunID + " of " + r.Experiment + ": " + string(r.Verdict)})
		}
	}
	for _, a := range active {
		if covered[a.RunID+" "+a.Target] {
			continue
		}
		windows = append(windows, chart.Window{From: a.Since, To: now,
			Label: a.Experiment + ": " + a.Action + " on " + a.Target + " (run " + a.RunID + ", held now)"})
	}
	return windows, marks
}
