package config

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
