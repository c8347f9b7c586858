package importer

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// blackoutYears is how many years of a yearly day (Dec24) are written out
// as dates: chaosd's blackout dates are dates, not days of the year.
const blackoutYears = 3

const minutesPerDay = 24 * 60

// quietTimes turns chaoskube's exclusions into chaosd's windows, which
// say when chaos is allowed.
func (k *kubeConv) quietTimes() {
	w := &k.d.windows
	if v, ok := k.flag("timezone"); ok {
		if v == "Local" {
			k.invalid("timezone", v, "chaosd needs a zone name; UTC is used (chaoskube's Local was the zone of its container)")
		} else {
			k.d.timezone = v
		}
	}
	if v, ok := k.flag("excluded-weekdays"); ok {
		allowed, bad := allowedWeekdays(splitList(v))
		for _, b := range bad {
			k.invalid("excluded-weekdays", b, "not a weekday; ignored")
		}
		if len(allowed) == 0 {
			k.disable("--excluded-weekdays=%s excludes every day", v)
		} else if len(allowed) < 7 {
			w.weekdays = allowed
		}
	}
	if v, ok := k.flag("excluded-times-of-day"); ok {
		hours, narrowed, err := allowedHours(splitList(v))
		switch {
		case err != nil:
			k.invalid("excluded-times-of-day", v, err.Error()+"; no times are excluded")
		case hours == "-":
			k.disable("--excluded-times-of-day=%s excludes the whole day", v)
		default:
			w.hours = hours
			if narrowed {
				k.d.warn(wWindowNarrowed, nil, "--excluded-times-of-day=%s leaves more than one window a day; chaosd allows one, so only the longest, %s, is kept", v, hours)
			}
		}
	}
	if v, ok := k.flag("excluded-days-of-year"); ok {
		dates, bad := yearlyDates(splitList(v), k.now.Year())
		for _, b := range bad {
			k.invalid("excluded-days-of-year", b, "not a day like Dec24; ignored")
		}
		if len(dates) > 0 {
			w.blackout = dates
			k.d.warn(wExpiringDates, nil, "--excluded-days-of-year=%s repeats every year, chaosd's blackoutDates do not: they are written out for %d-%d; extend them before they run out", v, k.now.Year(), k.now.Year()+blackoutYears-1)
		}
	}
}

// allowedWeekdays returns the days not excluded, Mon to Sun, and the
// entries that are not weekdays.
func allowedWeekdays(excluded []string) (allowed, bad []string) {
	out := map[time.Weekday]bool{}
	for _, e := range excluded {
		d, ok := parseWeekday(e)
		if !ok {
			bad = append(bad, e)
			continue
		}
		out[d] = true
	}
	for i := range 7 {
		d := time.Weekday((i + 1) % 7) // Monday first
		if !out[d] {
			allowed = append(allowed, d.String()[:3])
		}
	}
	return allowed, bad
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if len(s) >= 3 && strings.HasPrefix(name, s) {
			return d, true
		}
	}
	return 0, false
}

// allowedHours turns excluded periods ("22:00-08:00") into the one daily
// window chaosd has. It returns "" when nothing is excluded, "-" when
// everything is, and whether allowed time was left out because it fell
// into a second window.
func allowedHours(periods []string) (hours string, narrowed bool, err error) {
	var excluded [minutesPerDay]bool
	for _, p := range periods {
		from, to, ok := strings.Cut(p, "-")
		start, err1 := clockMinutes(from)
		end, err2 := clockMinutes(to)
		if !ok || err1 != nil || err2 != nil {
			return "", false, fmt.Errorf("%q is not a period like 22:00-08:00", p)
		}
		for m := start; m != end; m = (m + 1) % minutesPerDay {
			excluded[m] = true
		}
	}
	type run struct{ start, length int }
	var runs []run
	for m := range minutesPerDay {
		prev := (m + minutesPerDay - 1) % minutesPerDay
		if excluded[m] || !excluded[prev] {
			continue // not the first allowed minute after an excluded one
		}
		n := 0
		for !excluded[(m+n)%minutesPerDay] {
			n++
		}
		runs = append(runs, run{m, n})
	}
	if len(runs) == 0 {
		if excluded[0] {
			return "-", false, nil
		}
		return "", false, nil
	}
	best := runs[0]
	for _, r := range runs[1:] {
		if r.length > best.length {
			best = r
		}
	}
	end := best.start + best.length
	if end > minutesPerDay {
		end -= minutesPerDay
	}
	return clock(best.start) + "-" + clock(end), len(runs) > 1, nil
}

func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// yearlyDates writes days of the year ("Apr1", "Dec24") as dates in the
// given year and the ones after it.
func yearlyDates(days []string, year int) (dates, bad []string) {
	for _, s := range days {
		var t time.Time
		var err error
		for _, layout := range []string{"Jan_2", "Jan2", "Jan 2", "January_2", "January2"} {
			if t, err = time.Parse(layout, strings.TrimSpace(s)); err == nil {
				break
			}
		}
		if err != nil {
			bad = append(bad, s)
			continue
		}
		for y := year; y < year+blackoutYears; y++ {
			d := time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			if d.Month() == t.Month() { // Feb29 only in leap years
				dates = append(dates, d.Format(time.DateOnly))
			}
		}
	}
	slices.Sort(dates)
	return dates, bad
}
