package daemon

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/guard"
)

// guardViewEvery is how often the guard is asked only to show its state,
// when no run has asked it more recently.
const guardViewEvery = 10 * time.Second

// lastEvaluation keeps the newest guard evaluation, whoever asked for it.
type lastEvaluation struct {
	ev atomic.Pointer[guard.Evaluation]
}

func (l *lastEvaluation) store(ev guard.Evaluation) guard.Evaluation {
	for {
		old := l.ev.Load()
		if old != nil && old.At.After(ev.At) {
			return ev // a newer one is already kept
		}
		if l.ev.CompareAndSwap(old, &ev) {
			return ev
		}
	}
}

func (l *lastEvaluation) load() *guard.Evaluation { return l.ev.Load() }

// refreshGuardView evaluates the guard for the status page when no run
// has done so within guardViewEvery, so the panel is never older than that.
func (d *daemon) refreshGuardView(ctx context.Context) {
	if last := d.guard.last.load(); last != nil && d.o.Clock.Since(last.At) < guardViewEvery {
		return
	}
	d.guard.last.store(d.guard.g.Load().Evaluate(ctx, guard.ModeStatus))
}

// guardState turns an evaluation and the guard's config into what the
// status shows. URLs lose any credentials: the status is served to anyone
// who can reach the port and published on the ConfigMap.
func guardState(ev *guard.Evaluation, cfg config.Guard) *control.GuardState {
	if cfg.Unguarded || (cfg.Alertmanager == nil && cfg.Prometheus == nil) {
		return nil
	}
	gs := &control.GuardState{}
	if ev != nil {
		gs.State, gs.EvaluatedAt, gs.Mode = string(ev.State), ev.At, string(ev.Mode)
		for _, p := range ev.Problems {
			if p.Check == "" { // a check's problem is in its row
				gs.Problems = append(gs.Problems, p.String())
			}
		}
	}
	if am := cfg.Alertmanager; am != nil {
		a := &control.AlertmanagerGuard{URL: publicURL(am.URL), Block: am.Block, Ignore: am.Ignore}
		a.AlertsURL = alertsURL(a.URL, am.Block)
		if ev != nil {
			a.State = string(ev.Sources[guard.SourceAlertmanager])
			a.State = string(worseOf(guard.State(a.State), ev.Sources[guard.SourcePending]))
			for _, al := range ev.Alerts {
				a.Alerts = append(a.Alerts, control.GuardAlert{Name: al.Name, State: al.State, Source: al.Source,
					Since: al.StartsAt, Labels: labelText(al.Labels)})
			}
		}
		gs.Alertmanager = a
	}
	if p := cfg.Prometheus; p != nil {
		pg := &control.PrometheusGuard{URL: publicURL(p.URL)}
		if ev != nil {
			pg.State = string(ev.Sources[guard.SourceChecks])
			for _, c := range ev.Checks {
				pg.Checks = append(pg.Checks, checkRow(c, pg.URL))
			}
		}
		gs.Prometheus = pg
	}
	return gs
}

// worseOf folds a source that may be absent ("") into a state.
func worseOf(a, b guard.State) guard.State {
	rank := map[guard.State]int{"": 0, guard.StateOK: 1, guard.StateUnknown: 2, guard.StateBlocked: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func checkRow(c guard.CheckResult, promURL string) control.GuardCheck {
	row := control.GuardCheck{Name: c.Name, Expr: c.Expr, Bound: checkBound(c), State: string(c.State), Reason: c.Reason,
		QueryURL: promURL + "/api/v1/query?" + url.Values{"query": {c.Expr}}.Encode()}
	if c.Samples > 0 {
		row.Value = strconv.FormatFloat(float64(c.Value), 'g', 4, 64)
		if len(c.Metric) > 0 {
			row.Series = c.Metric.String()
		}
	}
	if c.Empty && c.Samples > 0 {
		row.Value = fmt.Sprintf("%d samples, first %s", c.Samples, row.Value)
	}
	return row
}

// checkBound says in words what a check's value must be.
func checkBound(c guard.CheckResult) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch {
	case c.Empty:
		return "no samples"
	case c.Min != nil && c.Max != nil:
		return "in [" + f(*c.Min) + ", " + f(*c.Max) + "]"
	case c.Min != nil:
		return "≥ " + f(*c.Min)
	case c.Max != nil:
		return "≤ " + f(*c.Max)
	}
	return "any value"
}

// alertsURL is Alertmanager's API view of the alerts the guard considers:
// active, not silenced, not inhibited, matching the block matchers.
func alertsURL(base string, block []string) string {
	q := url.Values{"active": {"true"}, "silenced": {"false"}, "inhibited": {"false"}}
	q["filter"] = block
	return base + "/api/v2/alerts?" + q.Encode()
}

// publicURL drops user info, query and fragment, and a trailing slash.
func publicURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return strings.TrimSuffix(u.String(), "/")
}

// labelText prints labels sorted, without the alert name.
func labelText(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(ls[k])
	}
	return strings.Join(parts, ", ")
}
