package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/reach"
	"github.com/chaosd/chaosd/internal/runner"
	"github.com/chaosd/chaosd/internal/scheduler"
	"github.com/chaosd/chaosd/internal/targets"
)

// clusterPlan is `chaosd plan --cluster`: for each experiment, the
// candidates that exist right now, which rules removed the others, a
// sample pick, and whether the pick's fault can reach anything (the check
// a run makes before injecting). It only reads: the Picker never changes the cluster.
type clusterPlan struct {
	enabled     bool
	kube        kubeFlags
	syncTimeout time.Duration
}

// maxPlanSamples bounds the rejected candidates printed per experiment.
const maxPlanSamples = 5

func (p *clusterPlan) register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.enabled, "cluster", false, "read the cluster: per experiment, candidates now, why the others are excluded, a sample pick and whether its fault can reach anything (changes nothing)")
	p.kube.register(fs, "chaosd's own namespace, excluded from targets (default: kubeconfig's, else chaosd)")
	fs.DurationVar(&p.syncTimeout, "sync-timeout", 2*time.Minute, "with --cluster, how long to wait for the inventory of pods and workloads")
}

// run plans every experiment of cfg against the cluster, drawing each
// sample pick from its own generator seeded with seed, so a seed replays.
// With watched namespaces it reads only those (namespaced mode).
func (p *clusterPlan) run(ctx context.Context, w io.Writer, cfg *config.Config, file string, seed uint64, watched []string) error {
	c, err := p.kube.clients()
	if err != nil {
		return err
	}
	src := targets.NewClusterSource(targets.ClusterOptions{Kube: c.kube, Metadata: c.metadata, Istio: c.istio, Namespaces: watched})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src.Start(ctx)
	syncCtx, done := context.WithTimeout(ctx, p.syncTimeout)
	defer done()
	if err := src.WaitSynced(syncCtx); err != nil {
		return fmt.Errorf("cluster inventory (waited up to %s): %w", p.syncTimeout, err)
	}
	ns := p.kube.resolvedNamespace()
	picker := targets.NewPicker(targets.Options{Source: src, OwnNamespace: ns, Exhaustive: true})
	reader := reach.Reader{Kube: c.kube, Istio: c.istio, Dynamic: c.dynamic, Namespaces: watched}
	fmt.Fprintf(w, "# chaosd plan --cluster for %s (namespace %s, seed %d); nothing was changed\n", file, ns, seed)
	var errs []error
	for _, exp := range cfg.Experiments {
		res, err := picker.Pick(ctx, exp, cfg.PolicyFor(exp), scheduler.NewRand(seed))
		writeExperimentPlan(w, cfg, exp, res, err)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, t := range res.Targets {
			a, err := reader.Check(ctx, cfg, exp, t)
			writeReach(w, exp, t, a, err)
		}
	}
	return errors.Join(errs...)
}

// writeReach prints what the run would find before injecting into t:
// whether its fault can reach anything and why, and whether the run would
// go ahead.
func writeReach(w io.Writer, exp config.Experiment, t targets.Target, a *reach.Answer, err error) {
	if err == nil && a == nil {
		return
	}
	if err != nil {
		fmt.Fprintf(w, "  reach:      %s: unknown: %v\n", t, err)
	} else {
		fmt.Fprintf(w, "  reach:      %s: %s\n", t, a.Summary())
		for _, warning := range a.Warnings {
			fmt.Fprintf(w, "  warning:    %s\n", warning)
		}
	}
	if err == nil && a.Reachable {
		return
	}
	if exp.Reach.RunWhenUnreachable {
		fmt.Fprintf(w, "  would run:  all the same (reach.runWhenUnreachable); landing decides the verdict\n")
		return
	}
	fmt.Fprintf(w, "  would skip: %s (verdict skipped, reason %s)\n", t, runner.ReasonUnreachable)
}

// writeExperimentPlan prints one experiment's candidates and sample pick.
func writeExperimentPlan(w io.Writer, cfg *config.Config, exp config.Experiment, res targets.Result, err error) {
	var notes []string
	if exp.Disabled {
		notes = append(notes, "disabled")
	}
	if exp.IsDryRun(cfg.DryRun) {
		notes = append(notes, "dry run")
	}
	note := ""
	if len(notes) > 0 {
		note = ", " + strings.Join(notes, ", ")
	}
	fmt.Fprintf(w, "\n%s (%s %s, mode %s, policy %s%s)\n", exp.Name, exp.Action.Type, exp.Target.Kind, exp.Target.Mode, exp.Policy, note)
	if err != nil {
		fmt.Fprintf(w, "  error:      %v\n", err)
		return
	}
	fmt.Fprintf(w, "  candidates: %d match the selectors, %d eligible, %d excluded\n", res.Considered, res.Eligible, res.RejectedTotal())
	reasons := make([]targets.Reason, 0, len(res.Rejected))
	for r := range res.Rejected {
		reasons = append(reasons, r)
	}
	// Most frequent first, ties by name, so the output is stable.
	slices.SortFunc(reasons, func(a, b targets.Reason) int {
		return cmp.Or(cmp.Compare(res.Rejected[b], res.Rejected[a]), cmp.Compare(a, b))
	})
	for _, r := range reasons {
		fmt.Fprintf(w, "  excluded:   %d %s\n", res.Rejected[r], r)
	}
	for _, s := range res.Samples[:min(len(res.Samples), maxPlanSamples)] {
		fmt.Fprintf(w, "  e.g.        %s: %s\n", s.Target, s.Reason)
	}
	if len(res.Targets) == 0 {
		fmt.Fprintf(w, "  would pick: nothing (the run would be skipped)\n")
		return
	}
	for _, t := range res.Targets {
		fmt.Fprintf(w, "  would pick: %s\n", describePlannedTarget(t))
	}
}

func describePlannedTarget(t targets.Target) string {
	var extra []string
	if t.Owner != "" {
		extra = append(extra, t.Owner)
	}
	if t.Node != "" {
		extra = append(extra, "on "+t.Node)
	}
	if len(t.Nodes) > 0 {
		extra = append(extra, "nodes "+strings.Join(t.Nodes, ","))
	}
	if len(extra) == 0 {
		return t.String()
	}
	return fmt.Sprintf("%s (%s)", t, strings.Join(extra, ", "))
}
