package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/report"
)

func newReportCommand() *cobra.Command {
	var out, title string
	var scoreWindow int
	cmd := &cobra.Command{
		Use:   "report JOURNAL... -o report.html",
		Short: "Render run journals into one self-contained HTML or Markdown report",
		Long: `Report renders one or many run journals (files, or directories of them) into
a single report with a summary table and a timeline per run; a report of
several runs also gives each experiment's resiliency score against each
workload (docs/verdicts.md). The output format follows the file extension:
.html (self-contained, no external assets) or .md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("no output file: use -o report.html or -o report.md")
			}
			if scoreWindow < 1 {
				return fmt.Errorf("--score-window must be at least 1, got %d", scoreWindow)
			}
			recs, err := report.LoadRecords(args...)
			if err != nil {
				return err
			}
			if err := report.WriteFile(out, recs, report.Options{Title: title, GeneratedAt: time.Now(), ScoreWindow: scoreWindow}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d run(s))\n", out, len(recs))
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (.html or .md)")
	cmd.Flags().StringVar(&title, "title", "chaosd report", "report title")
	cmd.Flags().IntVar(&scoreWindow, "score-window", config.DefaultScoreWindow,
		"runs of each experiment against each workload the resiliency score looks at (as guard.scoreWindow)")
	return cmd
}
