package scheduler

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// ErrNoActivation means a schedule has no activation after the given time
// (robfig/cron gives up after five years without a match).
var ErrNoActivation = errors.New("schedule has no further activation")

// Activation is one scheduled run of an experiment.
type Activation struct {
	Experiment string
	// Scheduled is when the cron schedule fires.
	Scheduled time.Time
	// At is when the run starts: Scheduled plus a uniform random delay in
	// [0, jitter].
	At time.Time
	// Allowed is false when At falls outside the config's windows; the
	// activation is then skipped, not postponed.
	Allowed    bool
	SkipReason string
}

// NextActivation returns the experiment's first activation scheduled
// strictly after `after`; to walk a schedule, pass the previous Scheduled
// (not At). Times are in cfg's location.
//
// The windows are checked at the jittered time At, not at Scheduled,
// because At is when chaos actually happens: a 16:55 schedule with 10m of
// jitter may not start at 17:03 under "09:00-17:00". Windows always use the
// config's time zone, even for a schedule with its own CRON_TZ.
//
// The jitter is drawn with rng.Int64N(jitter+1), uniform over [0, jitter];
// no draw is made for an experiment without jitter.
func NextActivation(cfg *config.Config, exp config.Experiment, after time.Time, rng *rand.Rand) (Activation, error) {
	sched := exp.CronSchedule()
	if sched == nil {
		return Activation{}, fmt.Errorf("experiment %s: %w: schedule not parsed (config not validated?)", exp.Name, ErrNoActivation)
	}
	loc := cfg.Location()
	next := sched.Next(after)
	if next.IsZero() {
		return Activation{}, fmt.Errorf("experiment %s: %w after %s", exp.Name, ErrNoActivation, after.In(loc).Format(time.RFC3339))
	}
	a := Activation{Experiment: exp.Name, Scheduled: next.In(loc), At: next.In(loc)}
	if exp.Jitter > 0 {
		a.At = next.Add(time.Duration(rng.Int64N(int64(exp.Jitter) + 1))).In(loc)
	}
	a.Allowed, a.SkipReason = Allowed(cfg.Windows, a.At, loc)
	return a, nil
}

// NewRand returns the random source chaosd uses for a seed; log the seed to
// be able to replay a run's choices.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed))
}

// RandomSeed returns a seed from crypto/rand, so a daemon's choices are
// unpredictable yet replayable from the seed it logs.
func RandomSeed() uint64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:])
}
