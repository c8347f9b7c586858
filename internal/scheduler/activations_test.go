package scheduler

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// chiSquare returns Pearson's statistic for counts against a uniform
// expectation.
func chiSquare(counts []int) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	expected := float64(total) / float64(len(counts))
	var stat float64
	for _, c := range counts {
		d := float64(c) - expected
		stat += d * d / expected
	}
	return stat
}

// chiSquareCritical19 is the chi-square critical value for 19 degrees of
// freedom at p = 0.001: a fair generator exceeds it one time in a thousand.
const chiSquareCritical19 = 43.82

func TestChiSquare(t *testing.T) {
	tests := []struct {
		name   string
		counts []int
		want   float64
	}{
		{"perfectly uniform", []int{5, 5, 5, 5}, 0},
		{"all in one bucket", []int{20, 0, 0, 0}, 60},
		{"slightly off", []int{6, 4, 5, 5}, 0.4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := chiSquare(tc.counts); got < tc.want-1e-9 || got > tc.want+1e-9 {
				t.Errorf("chiSquare(%v) = %g, want %g", tc.counts, got, tc.want)
			}
		})
	}
}

// TestJitterUniform draws 10,000 activations: every delay lies in
// [0, jitter] and the delays are uniform (chi-square over 20 buckets).
func TestJitterUniform(t *testing.T) {
	const (
		draws   = 10_000
		buckets = 20
		jitter  = 5 * time.Minute
	)
	cfg := parseConfig(t, oneExperiment("UTC", "", "*/10 * * * *", "5m"))
	exp := cfg.Experiments[0]
	rng := NewRand(1)
	after := mustTime(t, "2026-11-23T08:00:00Z")
	counts := make([]int, buckets)
	for range draws {
		a, err := NextActivation(cfg, exp, after, rng)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Scheduled.After(after) {
			t.Fatalf("scheduled %s is not after %s", a.Scheduled, after)
		}
		delay := a.At.Sub(a.Scheduled)
		if delay < 0 || delay > jitter {
			t.Fatalf("delay %s outside [0, %s]", delay, jitter)
		}
		counts[int64(delay)*buckets/(int64(jitter)+1)]++
		after = a.Scheduled
	}
	stat := chiSquare(counts)
	if stat > chiSquareCritical19 {
		t.Errorf("jitter not uniform: chi-square %.1f > %.2f, counts %v", stat, chiSquareCritical19, counts)
	}
	t.Logf("chi-square %.1f (critical %.2f), counts %v", stat, chiSquareCritical19, counts)
}

// TestWindowsAcrossDST walks schedules over daylight-saving changes and
// checks every decision against the local wall clock, computed here
// independently.
func TestWindowsAcrossDST(t *testing.T) {
	tests := []struct {
		zone string
		day  string // the day of the change
	}{
		{"Europe/Berlin", "2026-03-29"},
		{"Europe/Berlin", "2026-10-25"},
		{"America/New_York", "2026-03-08"},
		{"America/New_York", "2026-11-01"},
	}
	windows := []struct {
		name, yaml    string
		from, to      string // allowed wall-clock range [from, to)
		weekdaysAllow func(time.Weekday) bool
	}{
		{"around the change", `{hours: "01:30-03:30"}`, "01:30", "03:30", nil},
		{"office hours, weekdays", `{hours: "09:00-17:00", weekdays: [Sun, Mon]}`, "09:00", "17:00",
			func(d time.Weekday) bool { return d == time.Sunday || d == time.Monday }},
	}
	for _, tc := range tests {
		for _, win := range windows {
			t.Run(tc.zone+" "+tc.day+" "+win.name, func(t *testing.T) {
				loc := mustLocation(t, tc.zone)
				cfg := parseConfig(t, oneExperiment(tc.zone, win.yaml, "*/6 * * * *", "5m"))
				exp := cfg.Experiments[0]
				day, err := time.ParseInLocation(time.DateOnly, tc.day, loc)
				if err != nil {
					t.Fatal(err)
				}
				rng := NewRand(7)
				after, end := day.AddDate(0, 0, -2), day.AddDate(0, 0, 2)
				var allowed, skipped int
				for after.Before(end) {
					a, err := NextActivation(cfg, exp, after, rng)
					if err != nil {
						t.Fatal(err)
					}
					if a.Scheduled.Location().String() != tc.zone || a.At.Location().String() != tc.zone {
						t.Fatalf("activation not in %s: %s, %s", tc.zone, a.Scheduled, a.At)
					}
					if m := a.Scheduled.Minute(); m%6 != 0 {
						t.Fatalf("scheduled %s is not on a */6 minute of the local clock", a.Scheduled)
					}
					if d := a.At.Sub(a.Scheduled); d < 0 || d > 5*time.Minute {
						t.Fatalf("delay %s outside [0, 5m]", d)
					}
					wall := a.At.Format("15:04")
					want := wall >= win.from && wall < win.to &&
						(win.weekdaysAllow == nil || win.weekdaysAllow(a.At.Weekday()))
					if a.Allowed != want {
						t.Fatalf("activation at %s (%s local): allowed %v (%s), want %v", a.At.UTC(), a.At, a.Allowed, a.SkipReason, want)
					}
					if !a.Allowed && a.SkipReason == "" {
						t.Fatalf("skipped activation at %s has no reason", a.At)
					}
					if a.Allowed {
						allowed++
					} else {
						skipped++
					}
					after = a.Scheduled
				}
				if allowed == 0 || skipped == 0 {
					t.Errorf("allowed %d, skipped %d: the walk must see both", allowed, skipped)
				}
			})
		}
	}
}

func TestEverySchedule(t *testing.T) {
	cfg := parseConfig(t, oneExperiment("Europe/Berlin", "", "@every 45m", "10m"))
	exp := cfg.Experiments[0]
	rng := NewRand(3)
	from := mustTime(t, "2026-03-29T00:10:00+01:00") // across the spring change
	after := from
	for i := 1; i <= 10; i++ {
		a, err := NextActivation(cfg, exp, after, rng)
		if err != nil {
			t.Fatal(err)
		}
		// @every counts real time from the previous activation, not the
		// wall clock, so the DST jump does not shift it.
		if want := from.Add(time.Duration(i) * 45 * time.Minute); !a.Scheduled.Equal(want) {
			t.Fatalf("activation %d scheduled %s, want %s", i, a.Scheduled, want)
		}
		if d := a.At.Sub(a.Scheduled); d < 0 || d > 10*time.Minute {
			t.Fatalf("delay %s outside [0, 10m]", d)
		}
		after = a.Scheduled
	}
}

func TestCronTZOverridesTimezone(t *testing.T) {
	tests := []struct {
		name       string
		windows    string
		wantReason string
	}{
		// 09:00 in New York is 15:00 in Berlin, where windows are read.
		{"allowed on the config's clock", `{hours: "09:00-17:00"}`, ""},
		{"not on the schedule's clock", `{hours: "09:00-12:00"}`, "outside hours 09:00-12:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseConfig(t, oneExperiment("Europe/Berlin", tc.windows, "CRON_TZ=America/New_York 0 9 * * *", "0s"))
			a, err := NextActivation(cfg, cfg.Experiments[0], mustTime(t, "2026-11-23T08:00:00+01:00"), NewRand(1))
			if err != nil {
				t.Fatal(err)
			}
			want := mustTime(t, "2026-11-23T09:00:00-05:00")
			if !a.Scheduled.Equal(want) || a.Scheduled.Format("15:04 MST") != "15:00 CET" {
				t.Errorf("scheduled %s, want %s shown as 15:00 CET", a.Scheduled, want)
			}
			if a.Allowed != (tc.wantReason == "") || a.SkipReason != tc.wantReason {
				t.Errorf("allowed %v, reason %q; want reason %q", a.Allowed, a.SkipReason, tc.wantReason)
			}
		})
	}
}

func TestNoJitterDrawsNothing(t *testing.T) {
	cfg := parseConfig(t, oneExperiment("UTC", "", "0 * * * *", "0s"))
	rng := NewRand(5)
	a, err := NextActivation(cfg, cfg.Experiments[0], mustTime(t, "2026-11-23T08:00:00Z"), rng)
	if err != nil {
		t.Fatal(err)
	}
	if !a.At.Equal(a.Scheduled) || !a.Allowed {
		t.Errorf("got %+v, want At == Scheduled and allowed", a)
	}
	if got, want := rng.Uint64(), NewRand(5).Uint64(); got != want {
		t.Error("NextActivation drew from rng for an experiment without jitter")
	}
}

func TestNextActivationWithoutNext(t *testing.T) {
	// Feb 29: 2100 is no leap year, so after March 2096 the next one is in
	// 2104, beyond robfig/cron's five-year search: Next returns zero.
	cfg := parseConfig(t, oneExperiment("UTC", "", "0 0 29 2 *", "1h"))
	tests := []struct {
		name  string
		after time.Time
	}{
		{"schedule never fires again", mustTime(t, "2096-03-01T00:00:00Z")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NextActivation(cfg, cfg.Experiments[0], tc.after, rand.New(rand.NewPCG(1, 1)))
			if !errors.Is(err, ErrNoActivation) {
				t.Errorf("error = %v, want ErrNoActivation", err)
			}
		})
	}
	t.Run("unvalidated experiment", func(t *testing.T) {
		exp := config.Experiment{Name: "raw", Schedule: "@hourly"} // not parsed
		_, err := NextActivation(cfg, exp, mustTime(t, "2026-11-23T08:00:00Z"), NewRand(1))
		if !errors.Is(err, ErrNoActivation) {
			t.Errorf("error = %v, want ErrNoActivation", err)
		}
	})
}
