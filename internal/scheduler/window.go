package scheduler

import (
	"fmt"
	"slices"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// Allowed reports whether chaos may run at t under w, reading t on the wall
// clock of loc (nil means UTC), so daylight-saving changes move the window
// with the local clock. When it may not, reason says why, e.g. "outside
// hours 09:00-17:00", "weekday Sat not allowed" or "blackout date
// 2026-12-24".
//
// Weekdays and blackout dates apply to the calendar day t falls on, also in
// an hours window that wraps past midnight: with Fri and 22:00-02:00, Sat
// 01:00 is not allowed.
func Allowed(w config.Windows, t time.Time, loc *time.Location) (ok bool, reason string) {
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	for _, d := range w.BlackoutDates {
		if d.Is(local) {
			return false, "blackout date " + d.String()
		}
	}
	if len(w.Weekdays) > 0 && !slices.Contains(w.Weekdays, config.Weekday(local.Weekday())) {
		return false, fmt.Sprintf("weekday %s not allowed", local.Weekday().String()[:3])
	}
	if !w.Hours.Contains(local.Hour()*60 + local.Minute()) {
		return false, "outside hours " + w.Hours.String()
	}
	return true, ""
}
