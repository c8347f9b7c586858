package main

import (
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/logging"
)

// globalOptions are flags every subcommand understands.
type globalOptions struct {
	logFormat string
	logLevel  string
}

func (g *globalOptions) logger() (*zap.Logger, error) {
	return logging.New(logging.Format(g.logFormat), g.logLevel)
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "chaosd",
		Short: "Continuous, safe, random chaos for Kubernetes, judged by Prometheus and Alertmanager",
		Long: `chaosd runs chaos experiments on a jittered schedule against random targets
inside a blast radius, rolls back everything it changed, and judges each run by
what the cluster's own Prometheus and Alertmanager say. When alerts fire it
halts, rolls back and pauses itself.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", string(logging.FormatAuto), "log format: auto (console on a terminal, else json), json or console")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(
		newVersionCommand(),
		newValidateCommand(),
		newPlanCommand(),
		newReportCommand(),
		newRunCommand(g),
		newOnceCommand(g),
		newStatusCommand(),
		newPauseCommand(),
		newResumeCommand(),
		newImportCommand(),
	)
	return root
}
