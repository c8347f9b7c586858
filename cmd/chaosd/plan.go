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
		file string
		next int
		from string
		seed uint64
	)
	cmd := &cobra.Command{
		Use:   "plan -f FILE [--next N] [--from TIME]",
		Short: "Show the next activations of every experiment, without touching any cluster",
		Long: `Plan prints the next N activations of each experiment in the configured
timezone: the scheduled time, its jitter window and one drawn run time, skipping
(and counting) activations that fall outside the configured windows.
With --seed the drawn times are reproducible.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadFile(file)
			if err != nil {
				return err
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
			rng := scheduler.NewRand(seed)
			plans := scheduler.Plan(cfg, start, next, rng)
			fmt.Fprintf(cmd.OutOrStdout(), "# chaosd plan for %s from %s (timezone %s, seed %d)\n", file, start.In(cfg.Location()).Format(time.RFC3339), cfg.Location(), seed)
			return scheduler.WritePlan(cmd.OutOrStdout(), plans)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "config file")
	cmd.Flags().IntVar(&next, "next", 5, "activations to show per experiment")
	cmd.Flags().StringVar(&from, "from", "", "start time (RFC 3339); default now")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed for jitter (default random)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
