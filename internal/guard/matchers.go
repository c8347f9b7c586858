package guard

import (
	"fmt"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
)

// WeaknessAlertName is the alert chaosd raises itself when it finds a
// weakness. The guard always ignores it: otherwise one weakness would block
// every later run until the alert resolves, and halt the next one.
const WeaknessAlertName = "ChaosWeaknessFound"

// AlertGapAlertName is the alert chaosd raises when an SLI moved beyond
// tolerance and no alert fired; ignored for the same reason.
const AlertGapAlertName = "ChaosAlertGapFound"

// alertFilter decides which alerts block, by the configured matchers. The
// same filter serves Alertmanager alerts and Prometheus pending alerts.
type alertFilter struct {
	block  labels.Matchers // all must match; empty matches every alert
	ignore labels.Matchers // all must match to ignore; empty ignores none
}

func newAlertFilter(block, ignore []string) (alertFilter, error) {
	var f alertFilter
	var err error
	if f.block, err = parseMatchers(block); err != nil {
		return alertFilter{}, fmt.Errorf("block: %w", err)
	}
	if f.ignore, err = parseMatchers(ignore); err != nil {
		return alertFilter{}, fmt.Errorf("ignore: %w", err)
	}
	return f, nil
}

func parseMatchers(ss []string) (labels.Matchers, error) {
	ms := make(labels.Matchers, 0, len(ss))
	for _, s := range ss {
		m, err := labels.ParseMatcher(s)
		if err != nil {
			return nil, fmt.Errorf("parse matcher %q: %w", s, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// blocks reports whether an alert with these labels blocks.
func (f alertFilter) blocks(ls model.LabelSet) bool {
	if name := ls[model.AlertNameLabel]; name == WeaknessAlertName || name == AlertGapAlertName {
		return false
	}
	// An empty Matchers matches everything, which for ignore would mean
	// "ignore every alert": an unset ignore list must ignore none.
	if len(f.ignore) > 0 && f.ignore.Matches(ls) {
		return false
	}
	return f.block.Matches(ls)
}

// serverFilter renders the block matchers for Alertmanager's filter
// parameter, so the server sends less. The result is still filtered locally.
func (f alertFilter) serverFilter() []string {
	out := make([]string, 0, len(f.block))
	for _, m := range f.block {
		out = append(out, m.String())
	}
	return out
}
