package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/guard"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/landing"
)

// Lander proves a VirtualService fault landed (a landing.FromGuard); ok
// is false when the guard has no Prometheus to ask.
type Lander interface {
	VirtualService(ctx context.Context, g config.Guard, l config.Landing, vars config.LandingVars, at time.Time) (journal.Landing, bool)
}

// landing gathers the evidence that the run's faults took effect, once
// the observe window is over (so the hold's last samples are scraped):
// Prometheus for http-* faults, what chaosd saw itself for pod kills and
// drains. nil when nothing was held to the end or the check is off.
func (rn *run) landing(ctx context.Context) *journal.Landing {
	if !rn.landingApplies(ctx) {
		return nil
	}
	switch rn.exp.Action.Type {
	case config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault:
		return rn.vsLanding(ctx)
	case config.ActionPodKill:
		return rn.killLanding()
	case config.ActionNodeDrain:
		return rn.drainLanding()
	}
	return nil
}

// landingApplies reports whether the run has a landing to check: a fault
// held to the end, an action with a landing check, and the check on.
func (rn *run) landingApplies(ctx context.Context) bool {
	if rn.rec.DryRun || rn.injectErr != nil || rn.halt != nil || ctx.Err() != nil || len(rn.injected) == 0 || rn.exp.Landing.Disabled {
		return false
	}
	switch rn.exp.Action.Type {
	case config.ActionHTTPAbort, config.ActionHTTPDelay, config.ActionHTTPFault:
		return rn.r.o.Landing != nil
	case config.ActionPodKill, config.ActionNodeDrain:
		return true
	}
	return false
}

// landingSpanAttrs describe the evidence on the landing span.
func landingSpanAttrs(l *journal.Landing) []attribute.KeyValue {
	if l == nil {
		return []attribute.KeyValue{attribute.String("chaosd.landing.state", "not checked")}
	}
	return []attribute.KeyValue{attribute.String("chaosd.landing.state", l.State), attribute.String("chaosd.landing.summary", l.Summary)}
}

// vsLanding evaluates each faulted VirtualService over its own hold and
// keeps the strongest evidence: one target that landed proves the run.
func (rn *run) vsLanding(ctx context.Context) *journal.Landing {
	if rn.r.o.Landing == nil {
		return nil
	}
	var best *journal.Landing
	var summaries []string
	for i, inj := range rn.injected {
		until := rn.revertedAt
		if at := rn.rec.Injections[i].RevertedAt; at != nil {
			until = *at
		}
		vars := config.LandingVars{
			Namespace: inj.Target.Namespace, Name: inj.Target.Name,
			Host:   landing.HostOf(rn.vsHost(inj), inj.Target.Namespace),
			Window: landing.Window(inj.InjectedAt, until), Flag: landing.Flag(rn.exp.Action),
		}
		l, ok := rn.r.o.Landing.VirtualService(ctx, rn.cfg.Guard, rn.exp.Landing, vars, until)
		if !ok {
			rn.note(journal.PhaseGuard, "", "landing not checked: the guard has no Prometheus", nil)
			return nil
		}
		rn.note(journal.PhaseGuard, inj.Target.String(), "landing "+l.State+": "+l.Summary, nil)
		summaries = append(summaries, l.Summary)
		if best == nil || landingRank(l.State) < landingRank(best.State) {
			best = &l
		}
	}
	if best != nil && len(summaries) > 1 {
		best.Summary = strings.Join(summaries, "; ")
	}
	return best
}

// vsHost is the first host of the faulted VirtualService, or its name.
func (rn *run) vsHost(inj *experiments.Injection) string {
	if r, ok := inj.Detail.(*experiments.RouteReport); ok && len(r.Hosts) > 0 {
		return r.Hosts[0]
	}
	return inj.Target.Name
}

// landingRank orders evidence, strongest first.
func landingRank(s string) int {
	switch guard.LandingState(s) {
	case guard.Landed:
		return 0
	case guard.NotLanded:
		return 1
	case guard.TooLittleTraffic:
		return 2
	}
	return 3
}

// killLanding: a deleted pod is the kill landing; the replacement (or
// none) says what it did.
func (rn *run) killLanding() *journal.Landing {
	rep := rn.rec.Replacement
	if rep == nil {
		return nil
	}
	l := &journal.Landing{State: string(guard.Landed), Source: journal.SourceChaosd}
	switch {
	case rep.Ready:
		l.Summary = fmt.Sprintf("%s killed; %s replaced it, Ready after %.1fs", rep.Target, rep.ReplacedBy, rep.ReadyAfterSeconds)
	case rep.Owner == "":
		l.Summary = rep.Target + " killed for good (permanent): a bare pod, nothing replaces it"
	default:
		l.Summary = fmt.Sprintf("%s killed; %s brought no ready replacement", rep.Target, rep.Owner)
	}
	return l
}

// drainLanding: the pods the drain evicted.
func (rn *run) drainLanding() *journal.Landing {
	var evicted, blocked []string
	var nodes []string
	for _, inj := range rn.injected {
		r, ok := inj.Detail.(*experiments.NodeReport)
		if !ok {
			continue
		}
		evicted = append(evicted, r.Evicted...)
		blocked = append(blocked, r.BlockedByPDB...)
		for _, n := range r.Nodes {
			nodes = append(nodes, n.Name)
		}
	}
	if len(nodes) == 0 {
		return nil
	}
	l := &journal.Landing{State: string(guard.Landed), Source: journal.SourceChaosd,
		Summary: fmt.Sprintf("cordoned %s, evicted %d pod(s)", strings.Join(nodes, ", "), len(evicted))}
	if len(evicted) > 0 {
		l.Summary += ": " + strings.Join(evicted, ", ")
	}
	if len(blocked) > 0 {
		l.Summary += fmt.Sprintf("; %d blocked by a PodDisruptionBudget", len(blocked))
	}
	return l
}

// landingOutcome is what the verdict reads of the evidence.
func landingOutcome(l *journal.Landing) *guard.LandingOutcome {
	if l == nil {
		return nil
	}
	return &guard.LandingOutcome{State: guard.LandingState(l.State), Summary: l.Summary}
}
