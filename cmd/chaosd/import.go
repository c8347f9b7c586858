package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosd/chaosd/internal/importer"
)

func newImportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Convert Chaos Toolkit experiments, chaoskube flags, kube-monkey settings or Chaos Mesh objects into chaosd config",
		Long: `Import converts other tools' chaos setups into a chaosd config that passes
chaosd validate. Anything that cannot be mapped faithfully is listed as a named
warning (Wnnn) on stderr and as a comment in the output, never silently dropped;
deliberate differences are listed as notes (Nnnn).`,
	}
	cmd.PersistentFlags().StringVarP(&out, "output", "o", "-", "where to write the config (- for stdout)")
	write := func(cmd *cobra.Command, res importer.Result) error {
		for _, w := range res.Warnings {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning %s %s: %s\n", w.Code, w.Name, w.Message)
		}
		for _, n := range res.Notes {
			fmt.Fprintf(cmd.ErrOrStderr(), "note %s %s: %s\n", n.Code, n.Name, n.Message)
		}
		if out != "-" {
			return os.WriteFile(out, res.Config, 0o644)
		}
		_, err := cmd.OutOrStdout().Write(res.Config)
		return err
	}
	cmd.AddCommand(
		newImportFilesCommand("chaostoolkit FILE...", "Convert Chaos Toolkit experiment files (YAML or JSON)", importer.ChaosToolkit, write),
		newImportFilesCommand("chaos-mesh FILE...", "Convert Chaos Mesh objects (PodChaos, Schedule, HTTPChaos, ...; YAML, several documents per file)", importer.ChaosMesh, write),
		&cobra.Command{
			Use:   "chaoskube -- [CHAOSKUBE FLAGS...]",
			Short: "Convert chaoskube command-line flags (after --)",
			RunE: func(cmd *cobra.Command, args []string) error {
				res, err := importer.Chaoskube(args)
				if err != nil {
					return err
				}
				return write(cmd, res)
			},
		},
		newImportKubeMonkeyCommand(write),
	)
	return cmd
}

// newImportFilesCommand is an import subcommand that converts the files
// named on its command line.
func newImportFilesCommand(use, short string, convert func(...importer.File) (importer.Result, error), write func(*cobra.Command, importer.Result) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var files []importer.File
			for _, n := range args {
				data, err := os.ReadFile(n)
				if err != nil {
					return err
				}
				files = append(files, importer.File{Name: n, Data: data})
			}
			res, err := convert(files...)
			if err != nil {
				return err
			}
			return write(cmd, res)
		},
	}
}

func newImportKubeMonkeyCommand(write func(*cobra.Command, importer.Result) error) *cobra.Command {
	var tomlFile, appsFile string
	cmd := &cobra.Command{
		Use:   "kube-monkey [--config config.toml] [--apps workloads.yaml]",
		Short: "Convert kube-monkey settings (config.toml or KUBEMONKEY_* environment) and labelled workloads",
		Long: `Reads kube-monkey's settings from --config (its config.toml) or from its environment
variables (KUBEMONKEY_*, DEBUG_*, NOTIFICATIONS_*, KUBERNETES_HOST), and the opted-in apps from --apps: the output of
kubectl get deploy,sts,ds -A -o yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env := map[string]string{}
			if tomlFile != "" {
				data, err := os.ReadFile(tomlFile)
				if err != nil {
					return err
				}
				if env, err = importer.KubeMonkeyTOML(data); err != nil {
					return err
				}
			} else {
				for _, kv := range os.Environ() {
					k, v, ok := strings.Cut(kv, "=")
					if ok && slices.ContainsFunc(importer.KubeMonkeyEnvPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
						env[k] = v
					}
				}
			}
			if appsFile == "" {
				return errors.New("--apps is required: kubectl get deploy,sts,ds -A -o yaml > workloads.yaml")
			}
			manifests, err := os.ReadFile(appsFile)
			if err != nil {
				return err
			}
			apps, err := importer.KubeMonkeyApps(manifests)
			if err != nil {
				return err
			}
			res, err := importer.KubeMonkey(env, apps...)
			if err != nil {
				return err
			}
			return write(cmd, res)
		},
	}
	cmd.Flags().StringVar(&tomlFile, "config", "", "kube-monkey's config.toml (default: KUBEMONKEY_* environment variables)")
	cmd.Flags().StringVar(&appsFile, "apps", "", "workloads as YAML, to find kube-monkey/enabled labels")
	return cmd
}
