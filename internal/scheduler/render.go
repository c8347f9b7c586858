package scheduler

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// timeLayout shows the weekday and the zone abbreviation, so windows and
// daylight-saving changes can be checked by eye.
const timeLayout = "Mon 2006-01-02 15:04:05 MST"

// WritePlan renders plans as the text "chaosd plan" prints: one block per
// experiment with a row per activation (scheduled time, jitter window and
// the drawn start time). The output depends only on plans.
func WritePlan(w io.Writer, plans []ExperimentPlan) error {
	var b strings.Builder
	for i, p := range plans {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeExperimentPlan(&b, p)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

func writeExperimentPlan(b *strings.Builder, p ExperimentPlan) {
	fmt.Fprintf(b, "%s  schedule %q  jitter %s\n", p.Experiment, p.Schedule, p.Jitter)
	if p.Disabled {
		b.WriteString("  disabled: not scheduled\n")
		return
	}
	if len(p.Activations) > 0 {
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tSCHEDULED\tJITTER WINDOW\tRUNS AT")
		for i, a := range p.Activations {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", i+1, a.Scheduled.Format(timeLayout), jitterWindow(a.Scheduled, p.Jitter), a.At.Format(timeLayout))
		}
		_ = tw.Flush() // writes to a strings.Builder cannot fail
	}
	if total := p.SkippedTotal(); total > 0 {
		fmt.Fprintf(b, "  skipped %d outside windows: %s\n", total, skipSummary(p.Skipped))
	}
	if p.Exhausted != "" {
		fmt.Fprintf(b, "  %s\n", p.Exhausted)
	}
}

// jitterWindow renders [Scheduled, Scheduled+jitter] as clock times, with
// the end's weekday when it falls on another day; "-" without jitter.
func jitterWindow(scheduled time.Time, jitter time.Duration) string {
	if jitter <= 0 {
		return "-"
	}
	end := scheduled.Add(jitter)
	endLayout := "15:04:05"
	if end.Format(time.DateOnly) != scheduled.Format(time.DateOnly) {
		endLayout = "Mon 15:04:05"
	}
	return fmt.Sprintf("%s-%s", scheduled.Format("15:04:05"), end.Format(endLayout))
}

// skipSummary lists skip reasons, most frequent first.
func skipSummary(skipped map[string]int) string {
	reasons := slices.SortedFunc(maps.Keys(skipped), func(a, b string) int {
		return cmp.Or(cmp.Compare(skipped[b], skipped[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s (%d)", r, skipped[r])
	}
	return strings.Join(parts, ", ")
}
