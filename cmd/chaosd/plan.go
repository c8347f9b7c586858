package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/scheduler"
)

func newPlanCommand() *cobra.Command {
	var (
		file  string
		next  int
		from  string
		seed  uint64
		live  clusterPlan
		scope scopeFlags
	)
	cmd := &cobra.Command{
		Use:   "plan -f FILE [--next N] [--from TIME] [--cluster]",
		Short: "Show the next activations of every experiment, or with --cluster what each would pick now",
		Long: `Plan prints the next N activations of each experiment in the configured
timezone: the scheduled time, its jitter window and one drawn run time, skipping
(and counting) activations that fall outside the configured windows.
With --seed the drawn times are reproducible.

With --cluster it reads the cluster instead and prints, for each experiment, how
many candidates exist right now, which blast-radius rules exclude the others
(and a few examples), a sample pick, and the pick's reach: whether its fault can
affect anything and why (callers whose data plane applies a VirtualService,
who replaces a killed pod or that the kill is permanent, what a drain evicts,
the guard's own Prometheus and Alertmanager included). A run skips a target
its fault cannot reach (reason unreachable). It changes nothing.

With --watch-namespaces the config is checked for namespaced mode first, and
--cluster reads only those namespaces, as chaosd run --namespaced does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			watch, err := scope.namespaces()
			if err != nil {
				return err
			}
			cfg, err := config.LoadFile(file)
			if err == nil {
				err = cfg.ValidateScope(watch)
			}
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings() {
				fmt.Fprintln(cmd.ErrOrStderr(), w)
			}
			start := time.Now()
			if from != "" {
				if start, err = time.Parse(time.RFC3339, from); err != nil {
					return fmt.Errorf("--from must be RFC 3339 like 2026-11-23T08:00:00+01:00: %w", err)
				}
			}
			if !cmd.Flags().Changed("seed") {
				seed = rand.Uint64()
			}
			if live.enabled {
				return live.run(cmd.Context(), cmd.OutOrStdout(), cfg, file, seed, watch)
			}
			rng := scheduler.NewRand(seed)
			plans := scheduler.Plan(cfg, start, next, rng)
			fmt.Fprintf(cmd.OutOrStdout(), "# chaosd plan for %s from %s (timezone %s, seed %d)\n", file, start.In(cfg.Location()).Format(time.RFC3339), cfg.Location(), seed)
			return scheduler.WritePlan(cmd.OutOrStdout(), plans)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "config file")
	cmd.Flags().IntVar(&next, "next", 5, "activations to show per experiment")
	cmd.Flags().StringVar(&from, "from", "", "start time (RFC 3339); default now")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed for jitter and sample picks (default random)")
	live.register(cmd.Flags())
	scope.register(cmd.Flags(), false)
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
