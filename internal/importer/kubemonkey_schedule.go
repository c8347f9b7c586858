package importer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// fromMTBF turns kube-monkey's mean time between failures ("2", "2d",
// "3h", "30m"; a bare number is days) into a schedule and jitter. Days
// count weekdays, the only days kube-monkey kills on.
func (m *monkeyConv) fromMTBF(mtbf string) (string, time.Duration, error) {
	s := strings.TrimSpace(mtbf)
	if s == "" {
		return "", 0, errors.New("is required")
	}
	unit := s[len(s)-1]
	num := s
	if unit < '0' || unit > '9' {
		num = s[:len(s)-1]
	} else {
		unit = 'd'
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return "", 0, errors.New("is not a positive whole number of days, hours (h) or minutes (m)")
	}
	switch unit {
	case 'd':
		return m.daily(n)
	case 'h', 'm':
		every := time.Duration(n) * time.Hour
		if unit == 'm' {
			every = time.Duration(n) * time.Minute
		}
		return "@every " + formatDuration(every), every / 2, nil
	}
	return "", 0, fmt.Errorf("has unit %q; use d, h or m", string(unit))
}

// weekdaySpread spreads k kills a week over the weekdays.
var weekdaySpread = map[int]string{5: "1-5", 4: "1,2,4,5", 3: "1,3,5", 2: "2,4", 1: "3"}

// daily is a schedule killing about once every n weekdays, at the start
// hour plus jitter spanning the window. It rounds the rate down, never up:
// an approximation must not break more than the source did.
func (m *monkeyConv) daily(n int) (string, time.Duration, error) {
	at := fmt.Sprintf("0 %d", m.start)
	jitter := time.Duration(m.end-m.start)*time.Hour - time.Minute
	const weekdaysPerMonth = 21.7
	switch perWeek, perMonth := 5/n, int(weekdaysPerMonth/float64(n)); {
	case perWeek >= 1:
		return at + " * * " + weekdaySpread[perWeek], jitter, nil
	case perMonth >= 3:
		return at + " 1,11,21 * *", jitter, nil
	case perMonth == 2:
		return at + " 1,15 * *", jitter, nil
	case perMonth == 1:
		return at + " 1 * *", jitter, nil
	default:
		months := max(2, int(float64(n)/weekdaysPerMonth))
		if months >= 12 {
			return at + " 1 1 *", jitter, nil
		}
		return fmt.Sprintf("%s 1 */%d *", at, months), jitter, nil
	}
}
