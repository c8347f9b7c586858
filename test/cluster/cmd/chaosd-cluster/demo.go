package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/chaosd/chaosd/test/cluster"
)

// demo starts the cluster, then runs chaosd against it until either exits.
// chaosd is scraped as job "chaosd" when --metrics-addr is given.
func demo(ctx context.Context, args []string) error {
	var f clusterFlags
	var chaosdBin, config, metricsAddr string
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(fs)
	fs.StringVar(&chaosdBin, "chaosd", "bin/chaosd", "chaosd binary")
	fs.StringVar(&config, "config", "config/demo.yaml", "chaosd configuration")
	fs.StringVar(&metricsAddr, "metrics-addr", "", "chaosd's metrics address, to scrape as job chaosd")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if metricsAddr != "" {
		f.targets = append(f.targets, cluster.ScrapeTarget{Job: "chaosd", Addresses: []string{metricsAddr}})
	}
	c, err := f.start(ctx)
	if err != nil {
		return err
	}
	runErr := runChaosd(ctx, c, chaosdBin, config, fs.Args())
	return errors.Join(runErr, shutdown(c, os.Stderr))
}

// runChaosd runs `chaosd run --config <config> [extra...]` with the
// cluster's endpoints in its environment, and stops it with SIGTERM (so it
// can roll back its faults) when ctx ends.
func runChaosd(ctx context.Context, c *cluster.Cluster, bin, config string, extra []string) error {
	cmd := exec.Command(bin, append([]string{"run", "--config", config}, extra...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+c.Kubeconfig,
		"CHAOSD_PROMETHEUS_URL="+c.PrometheusURL,
		"CHAOSD_ALERTMANAGER_URL="+c.AlertmanagerURL,
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start chaosd: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("chaosd: %w", err)
		}
		return nil
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return nil
	}
}
