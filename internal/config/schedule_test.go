package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	berlin := mustLocation(t, "Europe/Berlin")
	newYork := mustLocation(t, "America/New_York")
	from := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) // a Monday
	tests := []struct {
		name    string
		spec    string
		loc     *time.Location
		want    time.Time // Next(from)
		wantErr string
	}{
		{"evaluated in the config zone", "0 9 * * *", berlin, time.Date(2026, 3, 3, 9, 0, 0, 0, berlin), ""},
		{"nil zone means UTC", "0 9 * * *", nil, time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC), ""},
		{"CRON_TZ overrides the config zone", "CRON_TZ=America/New_York 0 9 * * *", berlin, time.Date(2026, 3, 2, 9, 0, 0, 0, newYork), ""},
		{"TZ overrides the config zone", "TZ=America/New_York 0 9 * * *", berlin, time.Date(2026, 3, 2, 9, 0, 0, 0, newYork), ""},
		{"surrounding space", "  0 9 * * *  ", berlin, time.Date(2026, 3, 3, 9, 0, 0, 0, berlin), ""},
		{"@every is not aligned to the clock", "@every 90m", berlin, from.Add(90 * time.Minute), ""},
		{"@hourly", "@hourly", berlin, time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC), ""},
		{"empty", " ", berlin, time.Time{}, "schedule is required"},
		{"never fires", "0 0 30 2 *", berlin, time.Time{}, "never fires"},
		{"CRON_TZ alone", "CRON_TZ=", berlin, time.Time{}, `invalid cron expression "CRON_TZ="`},
		{"CRON_TZ with tab", "CRON_TZ=UTC\t0 9 * * *", berlin, time.Time{}, "invalid cron expression"},
		{"six fields", "0 0 9 * * *", berlin, time.Time{}, "expected exactly 5 fields"},
		{"@every fraction", "@every 1500ms", berlin, time.Time{}, "whole number of seconds"},
		{"@every zero", "@every 0s", berlin, time.Time{}, "whole number of seconds"},
		{"unknown descriptor", "@fortnightly", berlin, time.Time{}, "unrecognized descriptor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSchedule(tc.spec, tc.loc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSchedule(%q) error = %v, want one containing %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(from); !got.Equal(tc.want) {
				t.Errorf("Next(%s) = %s, want %s", from, got, tc.want)
			}
		})
	}
}

func TestShortestGap(t *testing.T) {
	tests := []struct {
		spec string
		want time.Duration
	}{
		{"*/10 * * * *", 10 * time.Minute},
		{"@every 1h30m", 90 * time.Minute},
		{"0 9,10 * * *", time.Hour},
		{"0 10 * * 1-5", 24 * time.Hour},
		{"0 14 * * 3", 7 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := ParseSchedule(tc.spec, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if got := shortestGap(s); got != tc.want {
				t.Errorf("shortestGap = %s, want %s", got, tc.want)
			}
		})
	}
}

func mustLocation(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
