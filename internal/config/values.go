package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Value types parse themselves from text (encoding.TextUnmarshaler), so the
// loader, the docs and error messages all agree on one spelling.

// PauseMode is the manual pause switch: false, true, or revert.
type PauseMode string

const (
	NotPaused   PauseMode = "false"
	Paused      PauseMode = "true"
	PauseRevert PauseMode = "revert"
)

func (p *PauseMode) UnmarshalText(b []byte) error {
	switch s := PauseMode(strings.ToLower(string(b))); s {
	case "", NotPaused:
		*p = NotPaused
	case Paused, PauseRevert:
		*p = s
	default:
		return fmt.Errorf("must be true, false or revert, got %q", string(b))
	}
	return nil
}

func (p PauseMode) MarshalText() ([]byte, error) { return []byte(p.orDefault()), nil }

func (p PauseMode) orDefault() PauseMode {
	if p == "" {
		return NotPaused
	}
	return p
}

// IsPaused reports whether new runs must not start.
func (p PauseMode) IsPaused() bool { return p.orDefault() != NotPaused }

// UnknownPolicy says what happens to an active fault while the guard is unknown.
type UnknownPolicy string

const (
	UnknownRevert UnknownPolicy = "revert"
	UnknownPause  UnknownPolicy = "pause"
	UnknownIgnore UnknownPolicy = "ignore"
)

func (u *UnknownPolicy) UnmarshalText(b []byte) error {
	switch s := UnknownPolicy(string(b)); s {
	case UnknownRevert, UnknownPause, UnknownIgnore:
		*u = s
		return nil
	}
	return fmt.Errorf("must be revert, pause or ignore, got %q", string(b))
}

// Cooldown is how long chaosd stays paused after a weakness; Manual means
// until someone runs chaosd resume.
type Cooldown struct {
	Manual   bool
	Duration time.Duration
}

func (c *Cooldown) UnmarshalText(b []byte) error {
	if string(b) == "manual" {
		*c = Cooldown{Manual: true}
		return nil
	}
	d, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("must be a duration or \"manual\", got %q", string(b))
	}
	if d < 0 {
		return fmt.Errorf("must not be negative, got %s", d)
	}
	*c = Cooldown{Duration: d}
	return nil
}

func (c Cooldown) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

func (c Cooldown) String() string {
	if c.Manual {
		return "manual"
	}
	return c.Duration.String()
}

// ModeKind is how a Mode counts.
type ModeKind string

const (
	ModeOne        ModeKind = "one"
	ModeAll        ModeKind = "all"
	ModeCount      ModeKind = "count"
	ModePercent    ModeKind = "percent"
	ModeMaxPercent ModeKind = "maxPercent"
)

// Mode says how many eligible candidates are hit: one, all, count:N,
// percent:N (N% rounded up, at least one) or maxPercent:N (a random 1..N%).
type Mode struct {
	Kind ModeKind
	N    int
}

func (m *Mode) UnmarshalText(b []byte) error {
	s := string(b)
	kind, arg, hasArg := strings.Cut(s, ":")
	switch ModeKind(kind) {
	case ModeOne, ModeAll:
		if hasArg {
			return fmt.Errorf("mode %q takes no argument", kind)
		}
		*m = Mode{Kind: ModeKind(kind)}
		return nil
	case ModeCount, ModePercent, ModeMaxPercent:
		n, err := strconv.Atoi(arg)
		if !hasArg || err != nil {
			return fmt.Errorf("mode %q needs a whole number, as in %s:2", kind, kind)
		}
		if n < 1 {
			return fmt.Errorf("mode %s:%d must be at least 1", kind, n)
		}
		if ModeKind(kind) != ModeCount && n > 100 {
			return fmt.Errorf("percentage %d is outside 0-100", n)
		}
		*m = Mode{Kind: ModeKind(kind), N: n}
		return nil
	}
	return fmt.Errorf("must be one, all, count:N, percent:N or maxPercent:N, got %q", s)
}

func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m Mode) String() string {
	switch m.Kind {
	case "":
		return string(ModeOne)
	case ModeOne, ModeAll:
		return string(m.Kind)
	}
	return fmt.Sprintf("%s:%d", m.Kind, m.N)
}

// Count returns how many of n eligible candidates this mode hits. roll is a
// uniform random number in [0, 1) used only by maxPercent.
func (m Mode) Count(n int, roll float64) int {
	if n <= 0 {
		return 0
	}
	var k int
	switch m.Kind {
	case "", ModeOne:
		k = 1
	case ModeAll:
		k = n
	case ModeCount:
		k = m.N
	case ModePercent:
		k = percentOf(n, float64(m.N))
	case ModeMaxPercent:
		pct := 1 + math.Floor(roll*float64(m.N)) // uniform in 1..N
		k = percentOf(n, pct)
	}
	return min(k, n)
}

// percentOf rounds up so that a non-zero percentage of a non-empty set hits at least one.
func percentOf(n int, pct float64) int {
	return max(1, int(math.Ceil(float64(n)*pct/100)))
}

// IntOrPercent is a count ("1") or a percentage ("34%").
type IntOrPercent struct {
	Set     bool
	Value   int
	Percent bool
}

func (v *IntOrPercent) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	num, isPct := strings.CutSuffix(s, "%")
	n, err := strconv.Atoi(num)
	if err != nil {
		return fmt.Errorf("must be a whole number or a percentage like 34%%, got %q", s)
	}
	if n < 0 {
		return fmt.Errorf("must not be negative, got %q", s)
	}
	if isPct && n > 100 {
		return fmt.Errorf("percentage %q is outside 0-100", s)
	}
	*v = IntOrPercent{Set: true, Value: n, Percent: isPct}
	return nil
}

func (v IntOrPercent) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

func (v IntOrPercent) String() string {
	if !v.Set {
		return ""
	}
	if v.Percent {
		return fmt.Sprintf("%d%%", v.Value)
	}
	return strconv.Itoa(v.Value)
}

// Of resolves the value against a total, rounding percentages down as
// Kubernetes does for maxUnavailable. Unset means no limit.
func (v IntOrPercent) Of(total int) int {
	switch {
	case !v.Set:
		return total
	case v.Percent:
		return total * v.Value / 100
	}
	return v.Value
}

// Weekday is a day name: Mon..Sun (full names are accepted too).
type Weekday time.Weekday

func (w *Weekday) UnmarshalText(b []byte) error {
	s := strings.ToLower(string(b))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			*w = Weekday(d)
			return nil
		}
	}
	return fmt.Errorf("must be a weekday like Mon, got %q", string(b))
}

func (w Weekday) MarshalText() ([]byte, error) {
	return []byte(time.Weekday(w).String()[:3]), nil
}

// HourRange is a daily window "HH:MM-HH:MM" in minutes since midnight. An end
// before the start wraps past midnight; an unset range allows the whole day.
type HourRange struct {
	Set      bool
	StartMin int
	EndMin   int
}

func (h *HourRange) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*h = HourRange{}
		return nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return fmt.Errorf("must look like 09:00-17:00, got %q", s)
	}
	start, err1 := parseClock(from)
	end, err2 := parseClock(to)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("must look like 09:00-17:00, got %q", s)
	}
	if start == end {
		return fmt.Errorf("hours %q is an empty window", s)
	}
	*h = HourRange{Set: true, StartMin: start, EndMin: end}
	return nil
}

func (h HourRange) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h HourRange) String() string {
	if !h.Set {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.StartMin/60, h.StartMin%60, h.EndMin/60, h.EndMin%60)
}

// Contains reports whether a wall-clock minute of the day is in the range.
func (h HourRange) Contains(minuteOfDay int) bool {
	if !h.Set {
		return true
	}
	if h.StartMin < h.EndMin {
		return minuteOfDay >= h.StartMin && minuteOfDay < h.EndMin
	}
	return minuteOfDay >= h.StartMin || minuteOfDay < h.EndMin
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Date is a calendar date (YYYY-MM-DD) without a time zone of its own.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse(time.DateOnly, string(b))
	if err != nil {
		return fmt.Errorf("must be a date like 2026-12-24, got %q", string(b))
	}
	*d = Date{t.Year(), t.Month(), t.Day()}
	return nil
}

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Is reports whether t falls on this date in t's own location.
func (d Date) Is(t time.Time) bool {
	y, m, day := t.Date()
	return y == d.Year && m == d.Month && day == d.Day
}
