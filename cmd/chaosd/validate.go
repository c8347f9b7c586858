package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chaosd/chaosd/internal/config"
)

func newValidateCommand() *cobra.Command {
	var (
		files []string
		scope scopeFlags
	)
	cmd := &cobra.Command{
		Use:   "validate -f FILE [-f FILE...]",
		Short: "Check config files without touching any cluster",
		Long: `Validate checks config files strictly: unknown keys, wrong types, bad cron
expressions and durations, percentages outside 0-100, selectors and matchers that
don't parse, duplicate experiment names, undefined policies, experiments aimed
at excluded namespaces, and a guard with neither Alertmanager nor Prometheus
(guard.unguarded: true opts out, and validate then prints a warning). Every problem is listed with file, line and key path.
With --watch-namespaces it also checks what namespaced mode refuses (chaosd run
--namespaced, Helm rbac.scope=namespaced): node and zone experiments, pod and
VirtualService targets without namespaces or outside the watched ones, and
namespaceSelector. Exits 0 when every file is valid, 1 otherwise.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			files = append(files, args...)
			if len(files) == 0 {
				return errors.New("no config file given: use -f FILE")
			}
			watch, err := scope.namespaces()
			if err != nil {
				return err
			}
			failed := 0
			for _, f := range files {
				cfg, err := config.LoadFile(f)
				if err == nil {
					err = cfg.ValidateGuarded()
				}
				if err == nil {
					err = cfg.ValidateScope(watch)
				}
				if err != nil {
					failed++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				for _, w := range cfg.Warnings() {
					fmt.Fprintln(cmd.ErrOrStderr(), w)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid\n", f)
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d config file(s) invalid", failed, len(files))}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "config file (repeatable; positional arguments work too)")
	scope.register(cmd.Flags(), false)
	return cmd
}
