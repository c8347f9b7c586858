package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// scheduleParser accepts what cron.ParseStandard does: five fields,
// descriptors (@hourly, @every 30m) and a CRON_TZ= or TZ= prefix.
var scheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron spec, evaluating it in loc unless the spec
// names its own zone. It recovers the parser's panics (CRON_TZ= with nothing
// after it panics in robfig/cron v3.0.1) and rejects schedules that never
// fire, for which Next returns the zero time.
func ParseSchedule(spec string, loc *time.Location) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("invalid cron expression %q", spec)
		}
	}()
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("schedule is required")
	}
	full := spec
	hasZone := strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=")
	if !hasZone && !strings.HasPrefix(spec, "@every") && loc != nil {
		full = "CRON_TZ=" + loc.String() + " " + spec
	}
	sched, err = scheduleParser.Parse(full)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %v", spec, err)
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		// robfig/cron silently turns "@every -1h" or "@every 0s" into every
		// second and truncates fractions; refuse rather than surprise.
		_, arg, _ := strings.Cut(spec, "@every")
		if d, err := time.ParseDuration(strings.TrimSpace(arg)); err == nil && d != every.Delay {
			return nil, fmt.Errorf("invalid cron expression %q: @every needs a whole number of seconds, at least 1s", spec)
		}
	}
	if sched.Next(scheduleProbeStart).IsZero() {
		return nil, fmt.Errorf("cron expression %q never fires", spec)
	}
	return sched, nil
}

// scheduleProbeStart is a fixed instant from which schedules are sampled for
// validation, so validation does not depend on the clock.
var scheduleProbeStart = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// shortestGap samples the schedule and returns the smallest gap between two
// activations, so jitter can be kept below it.
func shortestGap(s cron.Schedule) time.Duration {
	const samples = 64
	prev := s.Next(scheduleProbeStart)
	gap := time.Duration(1<<63 - 1)
	for range samples {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		gap = min(gap, next.Sub(prev))
		prev = next
	}
	return gap
}

// CronSchedule returns the parsed schedule, evaluated in the config's
// timezone; set on every experiment of a validated Config.
func (e Experiment) CronSchedule() cron.Schedule { return e.schedule }

// Location returns the time zone schedules and windows are evaluated in.
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// PolicyFor returns the blast-radius policy an experiment runs under. An
// experiment naming no policy, in a config defining none called "default",
// gets the zero policy: only the built-in exclusions apply.
func (c *Config) PolicyFor(e Experiment) Policy {
	return c.Policies[e.Policy]
}

// Experiment returns the experiment with the given name.
func (c *Config) Experiment(name string) (Experiment, bool) {
	for _, e := range c.Experiments {
		if e.Name == name {
			return e, true
		}
	}
	return Experiment{}, false
}
