package config

import (
	"testing"
	"time"
)

func TestModeCount(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		n    int
		roll float64
		want int
	}{
		{"zero mode is one", Mode{}, 5, 0, 1},
		{"one", Mode{Kind: ModeOne}, 5, 0, 1},
		{"one of none", Mode{Kind: ModeOne}, 0, 0, 0},
		{"all", Mode{Kind: ModeAll}, 7, 0, 7},
		{"count", Mode{Kind: ModeCount, N: 3}, 7, 0, 3},
		{"count capped by candidates", Mode{Kind: ModeCount, N: 10}, 4, 0, 4},
		{"percent rounds up", Mode{Kind: ModePercent, N: 34}, 3, 0, 2},
		{"percent exact", Mode{Kind: ModePercent, N: 50}, 10, 0, 5},
		{"small percent hits at least one", Mode{Kind: ModePercent, N: 1}, 3, 0, 1},
		{"percent of one", Mode{Kind: ModePercent, N: 10}, 1, 0, 1},
		{"percent 100", Mode{Kind: ModePercent, N: 100}, 9, 0, 9},
		{"maxPercent lowest roll is 1%", Mode{Kind: ModeMaxPercent, N: 50}, 100, 0, 1},
		{"maxPercent highest roll is N%", Mode{Kind: ModeMaxPercent, N: 50}, 100, 0.999, 50},
		{"maxPercent middle roll", Mode{Kind: ModeMaxPercent, N: 50}, 100, 0.5, 26},
		{"maxPercent rounds up", Mode{Kind: ModeMaxPercent, N: 50}, 3, 0.999, 2},
		{"negative candidates", Mode{Kind: ModeAll}, -1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.mode.Count(tc.n, tc.roll); got != tc.want {
				t.Errorf("%v.Count(%d, %g) = %d, want %d", tc.mode, tc.n, tc.roll, got, tc.want)
			}
		})
	}
}

// TestModeMaxPercentRange checks every roll lands in 1..N% of candidates.
func TestModeMaxPercentRange(t *testing.T) {
	m := Mode{Kind: ModeMaxPercent, N: 30}
	seen := map[int]bool{}
	for i := range 1000 {
		got := m.Count(100, float64(i)/1000)
		if got < 1 || got > 30 {
			t.Fatalf("Count(100, %g) = %d, want 1..30", float64(i)/1000, got)
		}
		seen[got] = true
	}
	if len(seen) != 30 {
		t.Errorf("rolls reached %d distinct counts, want all 30", len(seen))
	}
}

func TestModeText(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"one", Mode{Kind: ModeOne}, false},
		{"all", Mode{Kind: ModeAll}, false},
		{"count:2", Mode{Kind: ModeCount, N: 2}, false},
		{"count:1000", Mode{Kind: ModeCount, N: 1000}, false},
		{"percent:100", Mode{Kind: ModePercent, N: 100}, false},
		{"maxPercent:5", Mode{Kind: ModeMaxPercent, N: 5}, false},
		{"count:0", Mode{}, true},
		{"percent:", Mode{}, true},
		{"percent", Mode{}, true},
		{"all:1", Mode{}, true},
		{"ONE", Mode{}, true},
		{"", Mode{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var m Mode
			err := m.UnmarshalText([]byte(tc.in))
			if (err != nil) != tc.wantErr || m != tc.want {
				t.Fatalf("UnmarshalText(%q) = %v, %v; want %v, error %v", tc.in, m, err, tc.want, tc.wantErr)
			}
			if !tc.wantErr && m.String() != tc.in {
				t.Errorf("String() = %q, want %q", m.String(), tc.in)
			}
		})
	}
}

func TestIntOrPercentOf(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		total int
		want  int
	}{
		{"unset means no limit", "", 7, 7},
		{"count", "1", 7, 1},
		{"count above total", "9", 7, 9},
		{"percent rounds down", "34%", 3, 1},
		{"percent of two rounds to zero", "34%", 2, 0},
		{"100%", "100%", 7, 7},
		{"0%", "0%", 7, 0},
		{"percent of zero", "50%", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v IntOrPercent
			if tc.text != "" {
				if err := v.UnmarshalText([]byte(tc.text)); err != nil {
					t.Fatal(err)
				}
			}
			if got := v.Of(tc.total); got != tc.want {
				t.Errorf("%q.Of(%d) = %d, want %d", tc.text, tc.total, got, tc.want)
			}
			if v.String() != tc.text {
				t.Errorf("String() = %q, want %q", v.String(), tc.text)
			}
		})
	}
}

func TestHourRangeContains(t *testing.T) {
	tests := []struct {
		name   string
		hours  string
		minute int
		want   bool
	}{
		{"unset allows all", "", 3 * 60, true},
		{"start is inside", "09:00-17:00", 9 * 60, true},
		{"end is outside", "09:00-17:00", 17 * 60, false},
		{"last minute inside", "09:00-17:00", 17*60 - 1, true},
		{"before start", "09:00-17:00", 8*60 + 59, false},
		{"minutes count", "09:30-10:15", 9*60 + 29, false},
		{"wrap: late evening", "22:00-02:00", 23 * 60, true},
		{"wrap: after midnight", "22:00-02:00", 60, true},
		{"wrap: midnight", "22:00-02:00", 0, true},
		{"wrap: end is outside", "22:00-02:00", 2 * 60, false},
		{"wrap: midday is outside", "22:00-02:00", 12 * 60, false},
		{"until 24:00", "18:00-24:00", 23*60 + 59, true},
		{"until 24:00 excludes morning", "18:00-24:00", 0, false},
		{"whole day", "00:00-24:00", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h HourRange
			if err := h.UnmarshalText([]byte(tc.hours)); err != nil {
				t.Fatal(err)
			}
			if got := h.Contains(tc.minute); got != tc.want {
				t.Errorf("%q.Contains(%02d:%02d) = %v, want %v", tc.hours, tc.minute/60, tc.minute%60, got, tc.want)
			}
		})
	}
}

func TestWeekdayText(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Weekday
		wantErr bool
	}{
		{"Mon", time.Monday, false},
		{"mon", time.Monday, false},
		{"Monday", time.Monday, false},
		{"SUNDAY", time.Sunday, false},
		{"Sat", time.Saturday, false},
		{"thu", time.Thursday, false},
		{"Th", 0, true},
		{"Mo", 0, true},
		{"Mond", 0, true},
		{"", 0, true},
		{"Funday", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var w Weekday
			err := w.UnmarshalText([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("UnmarshalText(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if time.Weekday(w) != tc.want {
				t.Errorf("UnmarshalText(%q) = %v, want %v", tc.in, time.Weekday(w), tc.want)
			}
			if b, _ := w.MarshalText(); string(b) != tc.want.String()[:3] {
				t.Errorf("MarshalText() = %q", b)
			}
		})
	}
}

func TestDateIs(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	d := Date{2026, time.December, 24}
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"same day", time.Date(2026, 12, 24, 12, 0, 0, 0, berlin), true},
		{"first minute", time.Date(2026, 12, 24, 0, 0, 0, 0, berlin), true},
		{"day before", time.Date(2026, 12, 23, 23, 59, 0, 0, berlin), false},
		// 23:30 UTC on the 23rd is already the 24th in Berlin; Is uses the
		// time's own location, so callers convert first.
		{"date of the time's own zone", time.Date(2026, 12, 23, 23, 30, 0, 0, time.UTC), false},
		{"converted to Berlin", time.Date(2026, 12, 23, 23, 30, 0, 0, time.UTC).In(berlin), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.Is(tc.t); got != tc.want {
				t.Errorf("%s.Is(%s) = %v, want %v", d, tc.t, got, tc.want)
			}
		})
	}
}

func TestPauseMode(t *testing.T) {
	tests := []struct {
		in     string
		want   PauseMode
		paused bool
	}{
		{"", NotPaused, false},
		{"false", NotPaused, false},
		{"FALSE", NotPaused, false},
		{"true", Paused, true},
		{"revert", PauseRevert, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var p PauseMode
			if err := p.UnmarshalText([]byte(tc.in)); err != nil {
				t.Fatal(err)
			}
			if p != tc.want || p.IsPaused() != tc.paused {
				t.Errorf("got %q paused=%v, want %q paused=%v", p, p.IsPaused(), tc.want, tc.paused)
			}
		})
	}
	if PauseMode("").IsPaused() {
		t.Error("the zero PauseMode must not be paused")
	}
}
