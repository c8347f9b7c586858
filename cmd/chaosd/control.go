package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
)

// controlFlags locate chaosd's ConfigMap from a laptop.
type controlFlags struct {
	kube      kubeFlags
	configMap string
}

func (f *controlFlags) register(cmd *cobra.Command) {
	f.kube.register(cmd.Flags(), "chaosd's namespace (default: kubeconfig's, else chaosd)")
	cmd.Flags().StringVar(&f.configMap, "configmap", "chaosd-config", "chaosd's ConfigMap (the Helm chart's <release>-config)")
}

func (f *controlFlags) ref() control.Ref {
	return control.Ref{Namespace: f.kube.resolvedNamespace(), Name: f.configMap}
}

// actor is who the command acts as, asked of the API server, and from
// where, for chaosd's audit trail.
func (f *controlFlags) actor(ctx context.Context, c *kubeClients) control.Actor {
	return control.Identify(ctx, c.kube, f.kube.origin())
}

func newPauseCommand() *cobra.Command {
	var (
		f      controlFlags
		reason string
		revert bool
	)
	cmd := &cobra.Command{
		Use:   "pause [--reason TEXT] [--revert]",
		Short: "Stop new runs now; with --revert also revert every active fault (emergency stop)",
		Long: `Pause annotates chaosd's ConfigMap through the Kubernetes API, so it needs no
extra port or credential. chaosd stops starting runs within seconds; with
--revert it also cancels running runs and reverts every active fault.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.kube.clients()
			if err != nil {
				return err
			}
			mode := config.Paused
			if revert {
				mode = config.PauseRevert
			}
			a := f.actor(cmd.Context(), c)
			p := control.ManualPause{Mode: mode, Reason: reason, By: a.User, Groups: a.Groups, From: a.From, At: time.Now().UTC()}
			if err := control.SetPause(cmd.Context(), c.kube, f.ref(), p); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "paused chaosd (%s) via configmap %s as %s\n", mode, f.ref(), a)
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown in chaosd status and on the status page")
	cmd.Flags().BoolVar(&revert, "revert", false, "also revert every active fault at once")
	return cmd
}

func newResumeCommand() *cobra.Command {
	var f controlFlags
	cmd := &cobra.Command{
		Use:   "resume",
		Short: "Lift a pause set with chaosd pause, and a self-pause after a weakness",
		Long: `Resume removes the manual pause and ends chaosd's self-pause (the cooldown after
a weakness, including cooldown: manual). A pause written in the config file
(paused: true) stays until the file changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.kube.clients()
			if err != nil {
				return err
			}
			a := f.actor(cmd.Context(), c)
			if err := control.Resume(cmd.Context(), c.kube, f.ref(), time.Now(), a); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "resumed chaosd via configmap %s as %s\n", f.ref(), a)
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func newStatusCommand() *cobra.Command {
	var f controlFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show chaosd's state, pause reasons, next activations and active faults",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.kube.clients()
			if err != nil {
				return err
			}
			st, mp, err := control.ReadStatus(cmd.Context(), c.kube, f.ref())
			if err != nil {
				return err
			}
			printStatus(cmd.OutOrStdout(), st, mp, time.Now())
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func printStatus(w io.Writer, st control.Status, mp *control.ManualPause, now time.Time) {
	// The manual pause is read live from the ConfigMap; the leader's status
	// may be a few seconds older. So the manual line comes from the live
	// record only, and a published manual reason without one is a resume
	// the leader has not published yet.
	var others []string
	staleManual := false
	for _, r := range st.PauseReasons {
		if strings.HasPrefix(r, control.ManualPauseReason) {
			staleManual = staleManual || mp == nil
			continue
		}
		others = append(others, r)
	}
	switch {
	case st.UpdatedAt.IsZero():
		fmt.Fprintln(w, "state:   unknown (no leader has published a status yet)")
	case staleManual && len(others) == 0 && st.State == "paused":
		fmt.Fprintf(w, "state:   running (resumed; leader %s's status from %s ago still says paused)\n", st.Leader, now.Sub(st.UpdatedAt).Round(time.Second))
	default:
		fmt.Fprintf(w, "state:   %s (leader %s, updated %s ago)\n", st.State, st.Leader, now.Sub(st.UpdatedAt).Round(time.Second))
	}
	if mp != nil {
		fmt.Fprintf(w, "manual pause: %s by %s at %s: %s\n", mp.Mode, mp.By, mp.At.Format(time.RFC3339), mp.Reason)
	}
	for _, r := range others {
		fmt.Fprintf(w, "paused:  %s\n", r)
	}
	if st.Unguarded {
		fmt.Fprintln(w, "guard:   none (guard.unguarded): every run that completes passes")
	}
	printGuard(w, st.Guard, now)
	if st.ConfigError != "" {
		fmt.Fprintf(w, "config rejected (last good config in force): %s\n", st.ConfigError)
	}
	fmt.Fprintf(w, "active faults: %d\n", len(st.Active))
	for _, a := range st.Active {
		fmt.Fprintf(w, "  %s  %s %s on %s since %s\n", a.RunID, a.Experiment, a.Action, a.Target, a.Since.Format(time.RFC3339))
	}
	fmt.Fprintln(w, "next activations:")
	for _, n := range st.Next {
		fmt.Fprintf(w, "  %-32s %s\n", n.Experiment, n.At.Format(time.RFC3339))
	}
	fmt.Fprintln(w, "recent runs:")
	for _, r := range st.Recent {
		fmt.Fprintf(w, "  %s  %-24s %-8s %s\n", r.FinishedAt.Format(time.RFC3339), r.Experiment, r.Verdict, r.Reason)
	}
	printScores(w, st.Scores)
	printAudit(w, st.Audit)
}

// printAudit prints who paused, stopped, resumed or changed the config.
func printAudit(w io.Writer, audit []control.AuditSummary) {
	fmt.Fprintln(w, "audit (newest first):")
	for _, a := range audit {
		line := fmt.Sprintf("  %s  %-15s %s", a.At.Format(time.RFC3339), a.Action, a.Who)
		if a.From != "" {
			line += " from " + a.From
		}
		if a.Detail != "" {
			line += ": " + a.Detail
		}
		fmt.Fprintln(w, line)
	}
}

// printScores prints the resiliency scores as the status page does.
func printScores(w io.Writer, scores []control.Score) {
	if len(scores) == 0 {
		return
	}
	fmt.Fprintf(w, "resiliency score (last %d runs of each experiment against each workload):\n", scores[0].Window)
	for _, s := range scores {
		fmt.Fprintf(w, "  %-24s %-32s %-8s %d counted (%d passed), %d not counted\n", s.Experiment, s.Workload, s.Percent(), s.Counted, s.Passed, s.Excluded)
	}
}

// printGuard prints what the guard sees: each source's state, the alerts
// that block and each check's last value.
func printGuard(w io.Writer, g *control.GuardState, now time.Time) {
	if g == nil {
		return
	}
	if g.EvaluatedAt.IsZero() {
		fmt.Fprintln(w, "guard:   not asked yet")
	} else {
		fmt.Fprintf(w, "guard:   %s (%s, %s ago)\n", g.State, g.Mode, now.Sub(g.EvaluatedAt).Round(time.Second))
	}
	for _, p := range g.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if am := g.Alertmanager; am != nil {
		match := "any active alert"
		if len(am.Block) > 0 {
			match = strings.Join(am.Block, ", ")
		}
		if len(am.Ignore) > 0 {
			match += " (ignoring " + strings.Join(am.Ignore, ", ") + ")"
		}
		fmt.Fprintf(w, "  alertmanager %s: blocks on %s: %d alerts now\n", orNone(am.State), match, len(am.Alerts))
		for _, a := range am.Alerts {
			fmt.Fprintf(w, "    %s %s since %s %s\n", a.Name, a.State, a.Since.Format(time.RFC3339), a.Labels)
		}
	}
	if p := g.Prometheus; p != nil {
		fmt.Fprintf(w, "  prometheus checks %s:\n", orNone(p.State))
		for _, c := range p.Checks {
			val := c.Value
			if val == "" {
				val = "no data"
			}
			line := fmt.Sprintf("    %-24s %-8s %s (must be %s)", c.Name, c.State, val, c.Bound)
			if c.Reason != "" {
				line += ": " + c.Reason
			}
			fmt.Fprintln(w, line)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "not asked yet"
	}
	return s
}
