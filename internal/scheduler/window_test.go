package scheduler

import (
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

func hours(t *testing.T, s string) config.HourRange {
	t.Helper()
	var h config.HourRange
	if err := h.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAllowed(t *testing.T) {
	berlin := mustLocation(t, "Europe/Berlin")
	newYork := mustLocation(t, "America/New_York")
	office := config.Windows{
		Weekdays:      []config.Weekday{config.Weekday(time.Monday), config.Weekday(time.Tuesday), config.Weekday(time.Wednesday), config.Weekday(time.Thursday), config.Weekday(time.Friday)},
		Hours:         hours(t, "09:00-17:00"),
		BlackoutDates: []config.Date{{Year: 2026, Month: time.December, Day: 24}},
	}
	allWeek := config.Windows{Hours: hours(t, "09:00-17:00")}
	night := config.Windows{Hours: hours(t, "22:00-02:00"), Weekdays: []config.Weekday{config.Weekday(time.Friday)}}
	tests := []struct {
		name       string
		w          config.Windows
		t          string
		loc        *time.Location
		wantOK     bool
		wantReason string
	}{
		{"no windows", config.Windows{}, "2026-11-28T03:00:00Z", berlin, true, ""},
		{"inside office hours", office, "2026-11-23T09:00:00+01:00", berlin, true, ""},
		{"last minute", office, "2026-11-23T16:59:59+01:00", berlin, true, ""},
		{"end is outside", office, "2026-11-23T17:00:00+01:00", berlin, false, "outside hours 09:00-17:00"},
		{"before start", office, "2026-11-23T08:59:59+01:00", berlin, false, "outside hours 09:00-17:00"},
		{"weekend", office, "2026-11-28T10:00:00+01:00", berlin, false, "weekday Sat not allowed"},
		{"blackout wins", office, "2026-12-24T10:00:00+01:00", berlin, false, "blackout date 2026-12-24"},
		{"blackout on the local date", office, "2026-12-23T23:30:00Z", berlin, false, "blackout date 2026-12-24"},
		{"read on loc's clock", office, "2026-11-23T09:30:00Z", newYork, false, "outside hours 09:00-17:00"},
		{"nil loc is UTC", office, "2026-11-23T09:30:00Z", nil, true, ""},
		{"wrap: before midnight", night, "2026-11-27T23:00:00Z", time.UTC, true, ""},
		{"wrap: after midnight is the next day", night, "2026-11-28T01:00:00Z", time.UTC, false, "weekday Sat not allowed"},
		{"wrap: Friday early morning", night, "2026-11-27T01:00:00Z", time.UTC, true, ""},
		{"wrap: Friday noon", night, "2026-11-27T12:00:00Z", time.UTC, false, "outside hours 22:00-02:00"},

		// Daylight saving: the window follows the local clock.
		{"Berlin spring: 07:30Z is 09:30 CEST", allWeek, "2026-03-29T07:30:00Z", berlin, true, ""},
		{"Berlin day before: 07:30Z is 08:30 CET", allWeek, "2026-03-28T07:30:00Z", berlin, false, "outside hours 09:00-17:00"},
		{"Berlin spring: 15:30Z is 17:30 CEST", allWeek, "2026-03-29T15:30:00Z", berlin, false, "outside hours 09:00-17:00"},
		{"Berlin autumn: 15:30Z is 16:30 CET", allWeek, "2026-10-25T15:30:00Z", berlin, true, ""},
		{"Berlin day before: 15:30Z is 17:30 CEST", allWeek, "2026-10-24T15:30:00Z", berlin, false, "outside hours 09:00-17:00"},
		{"Berlin autumn: 07:30Z is 08:30 CET", allWeek, "2026-10-25T07:30:00Z", berlin, false, "outside hours 09:00-17:00"},
		{"New York spring: 13:30Z is 09:30 EDT", allWeek, "2026-03-08T13:30:00Z", newYork, true, ""},
		{"New York day before: 13:30Z is 08:30 EST", allWeek, "2026-03-07T13:30:00Z", newYork, false, "outside hours 09:00-17:00"},
		{"New York autumn: 21:30Z is 16:30 EST", allWeek, "2026-11-01T21:30:00Z", newYork, true, ""},
		{"New York day before: 21:30Z is 17:30 EDT", allWeek, "2026-10-31T21:30:00Z", newYork, false, "outside hours 09:00-17:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := Allowed(tc.w, mustTime(t, tc.t), tc.loc)
			if ok != tc.wantOK || reason != tc.wantReason {
				t.Errorf("Allowed(%s) = %v, %q; want %v, %q", tc.t, ok, reason, tc.wantOK, tc.wantReason)
			}
		})
	}
}
