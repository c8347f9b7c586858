package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosd/chaosd/internal/daemon"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
)

// Exit codes of chaosd once, for CD pipelines.
const (
	exitPassed   = 0
	exitWeakness = 1
	exitFailed   = 2
	exitSkipped  = 3
	exitAborted  = 4
	// exitFaultLeft: a revert left a fault in place because another writer
	// changed it while chaosd held it; nobody owns it now.
	exitFaultLeft = 5
	// exitAlertGap: an SLI moved beyond tolerance and no alert fired.
	exitAlertGap = 6
	// exitNoEffect: the fault did not take effect, or too little traffic.
	exitNoEffect = 7
)

func newOnceCommand(g *globalOptions) *cobra.Command {
	var (
		f      daemonFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "once EXPERIMENT -f FILE",
		Short: "Run one experiment now, for CD pipelines; the exit code is the verdict",
		Long: `Once runs one experiment immediately, honouring the guard, the blast radius and
the pause switches, prints the run summary and writes its journal.

Exit codes: 0 passed, 1 weakness found, 2 error (the run failed, or chaosd
could not run it, or a fault is still held because its revert kept failing
for two minutes), 3 skipped (the guard blocked the start, chaosd is paused or
its pause switch on the ConfigMap cannot be read, or no target was eligible),
4 aborted (stopped before a verdict; faults reverted), 5 fault left in place
(another writer changed a fault while chaosd held it, so the revert left it:
the summary names the route and the writer; remove it by hand if it should
go), 6 alert gap (an SLI moved beyond its tolerance and no blocking alert
fired), 7 no effect (the fault did not take effect, or the target carried
too little traffic to judge). 2 for a held fault wins over 5, and 5 over the
verdict's code. docs/verdicts.md ranks every verdict.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options(g)
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			defer func() { _ = o.Logger.Sync() }()
			rec, err := daemon.Once(cmd.Context(), o, args[0])
			held := errors.Is(err, daemon.ErrFaultsHeld)
			if err != nil && !held {
				return &exitError{code: onceErrorCode(err), err: err}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				_ = enc.Encode(rec)
			} else {
				printSummary(cmd.OutOrStdout(), rec)
			}
			if held { // whatever the verdict: the run did not clean up
				return &exitError{code: exitFailed, err: err}
			}
			if left := rec.FaultsLeft(); len(left) > 0 { // whatever the verdict: a fault is still there
				return &exitError{code: exitFaultLeft, err: fmt.Errorf("%d fault(s) left in place: %s", len(left), strings.Join(left, "; "))}
			}
			if code := verdictExitCode(rec.Verdict); code != exitPassed {
				return &exitError{code: code, err: errors.New("")}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole journal record as JSON")
	return cmd
}

// onceErrorCode is the exit code of a run refused before it started: 3
// (skipped) when chaosd is paused or its pause switch cannot be read, so a
// pipeline neither fails the deploy nor counts it as passed; else 2.
func onceErrorCode(err error) int {
	if errors.Is(err, daemon.ErrPaused) {
		return exitSkipped
	}
	return exitFailed
}

func verdictExitCode(v guard.Verdict) int {
	switch v {
	case guard.Passed:
		return exitPassed
	case guard.Weakness:
		return exitWeakness
	case guard.Skipped:
		return exitSkipped
	case guard.Aborted:
		return exitAborted
	case guard.AlertGap:
		return exitAlertGap
	case guard.NoEffect:
		return exitNoEffect
	}
	return exitFailed
}

func printSummary(w io.Writer, rec journal.Record) {
	fmt.Fprintf(w, "run %s of %s: %s\n", rec.RunID, rec.Experiment, strings.ToUpper(string(rec.Verdict)))
	fmt.Fprintf(w, "  reason:  %s\n", rec.Reason)
	if t := rec.Targets(); len(t) > 0 {
		fmt.Fprintf(w, "  targets: %s\n", strings.Join(t, ", "))
	}
	fmt.Fprintf(w, "  took:    %.1fs (seed %d, dry run %v)\n", rec.DurationSeconds, rec.Seed, rec.DryRun)
	if rec.TraceID != "" {
		fmt.Fprintf(w, "  trace:   %s\n", rec.TraceID)
	}
	for _, e := range rec.Evidence {
		fmt.Fprintf(w, "  evidence: %s %s %s\n", e.Source, e.Name, e.Message)
	}
	for _, l := range rec.FaultsLeft() {
		fmt.Fprintf(w, "  left:    %s\n", l)
	}
}
