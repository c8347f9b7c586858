package config

import "fmt"

// ValidateGuarded refuses a config that no monitoring judges: with neither
// guard.alertmanager nor guard.prometheus nothing could block a start, halt
// a fault or find a weakness, so every run would pass. guard.unguarded:
// true opts out explicitly; Warnings then says so wherever the config is
// checked. It is separate from Parse, like ValidateScope, so that tests of
// other stages can parse configs without a guard; `chaosd validate`, run,
// once and every reload call it.
func (c *Config) ValidateGuarded() error {
	g := c.Guard
	if g.Unguarded || g.Alertmanager != nil || g.Prometheus != nil {
		return nil
	}
	errs := &Errors{File: c.file, lines: c.lines}
	errs.add("guard", "neither alertmanager nor prometheus is set, so every run would pass unjudged; "+
		"configure one, or set guard.unguarded: true to run without a guard")
	return errs
}

// Warnings lists what is valid but dangerous, as FILE:LINE: warning: PATH:
// MESSAGE lines: today only the opt-out from a guard.
func (c *Config) Warnings() []string {
	if !c.Guard.Unguarded {
		return nil
	}
	errs := &Errors{File: c.file, lines: c.lines}
	errs.add("guard.unguarded", "no Alertmanager or Prometheus judges the runs, so every run that completes passes")
	fe := errs.List[0]
	loc := c.file
	if fe.Line > 0 {
		loc = fmt.Sprintf("%s:%d", c.file, fe.Line)
	}
	return []string{fmt.Sprintf("%s: warning: %s: %s", loc, fe.Path, fe.Msg)}
}
