package config

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
)

// waitLimit is a hang guard on every wait in these tests, never a timing
// claim: each wait ends on a positive signal long before it.
const waitLimit = 30 * time.Second

// armingClock is a fake clock that reports every timer Run arms, so a test
// steps the clock only once the timer it means to fire is set.
type armingClock struct {
	*clocktesting.FakeClock
	armed chan time.Duration
}

func newArmingClock() *armingClock {
	return &armingClock{
		FakeClock: clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)),
		armed:     make(chan time.Duration, 1024),
	}
}

func (c *armingClock) NewTimer(d time.Duration) clock.Timer {
	t := c.FakeClock.NewTimer(d)
	c.armed <- d
	return armingTimer{Timer: t, armed: c.armed}
}

type armingTimer struct {
	clock.Timer
	armed chan time.Duration
}

func (t armingTimer) Reset(d time.Duration) bool {
	was := t.Timer.Reset(d)
	t.armed <- d
	return was
}

// drain forgets the timers armed so far.
func (c *armingClock) drain() {
	for {
		select {
		case <-c.armed:
		default:
			return
		}
	}
}

// waitArmed waits until Run has armed a timer for d.
func (c *armingClock) waitArmed(t *testing.T, d time.Duration) {
	t.Helper()
	for {
		select {
		case got := <-c.armed:
			if got == d {
				return
			}
		case <-time.After(waitLimit):
			t.Fatalf("Run armed no %s timer", d)
		}
	}
}

// unchangedLogger logs to the test and signals each re-read that found
// nothing new, the one reload that reports nothing.
func unchangedLogger(t *testing.T) (*zap.Logger, <-chan struct{}) {
	unchanged := make(chan struct{}, 64)
	log := zaptest.NewLogger(t, zaptest.WrapOptions(zap.Hooks(func(e zapcore.Entry) error {
		if e.Message == "config unchanged" {
			unchanged <- struct{}{}
		}
		return nil
	})))
	return log, unchanged
}

func waitUnchanged(t *testing.T, unchanged <-chan struct{}) {
	t.Helper()
	select {
	case <-unchanged:
	case <-time.After(waitLimit):
		t.Fatal("no unchanged re-read logged")
	}
}

type change struct {
	cfg *Config
	err error
}

// startWatcher runs w until the test ends and returns the changes it reports.
func startWatcher(t *testing.T, w *Watcher) <-chan change {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan change, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, func(cfg *Config, err error) { changes <- change{cfg, err} })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	return changes
}

func nextChange(t *testing.T, changes <-chan change) change {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(waitLimit):
		t.Fatalf("no change reported within %s", waitLimit)
		return change{}
	}
}

// wantExperiment asserts a change carries a valid config whose only
// experiment has the given name.
func wantExperiment(t *testing.T, c change, name string) {
	t.Helper()
	if c.err != nil {
		t.Fatalf("change has error %v, want experiment %s", c.err, name)
	}
	if got := c.cfg.Experiments[0].Name; got != name {
		t.Fatalf("change has experiment %s, want %s", got, name)
	}
}

func versionDoc(name string) string { return experimentDoc("", "name: "+name) }

// configMapVolume lays out a directory the way the kubelet's atomic writer
// does for a ConfigMap volume, and updates it the same way.
type configMapVolume struct {
	t       *testing.T
	dir     string
	n       int
	current string // timestamped directory ..data points to
}

func newConfigMapVolume(t *testing.T, content string) *configMapVolume {
	v := &configMapVolume{t: t, dir: t.TempDir()}
	v.update(content)
	if err := os.Symlink(filepath.Join("..data", "config.yaml"), v.path()); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *configMapVolume) path() string { return filepath.Join(v.dir, "config.yaml") }

// update writes a new timestamped directory, points ..data_tmp at it,
// renames ..data_tmp over ..data (atomic) and removes the old directory.
func (v *configMapVolume) update(content string) {
	t := v.t
	t.Helper()
	v.n++
	ts := fmt.Sprintf("..2026_11_25_10_00_%02d.%09d", v.n, v.n)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.dir, ts, "config.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if v.current != "" {
		if err := os.RemoveAll(filepath.Join(v.dir, v.current)); err != nil {
			t.Fatal(err)
		}
	}
	v.current = ts
}

func TestWatcherConfigMapSwap(t *testing.T) {
	vol := newConfigMapVolume(t, versionDoc("v1"))
	clk := newArmingClock()
	const debounce = 100 * time.Millisecond
	log, unchanged := unchangedLogger(t)
	w := NewWatcher(vol.path(), WatchOptions{
		Logger:   log,
		Debounce: debounce,
		Resync:   time.Hour, // never reached: only the directory watch delivers
		Clock:    clk,
	})
	changes := startWatcher(t, w)
	// Without an InitialHash the first read is reported; it happens after
	// the watch is armed, so every later swap is seen.
	wantExperiment(t, nextChange(t, changes), "v1")

	// swap updates the volume and fires the debounce timer once the watch
	// has seen an event and armed it. Arms reported before the update are
	// dropped; any arm after it leaves the timer set until the Step, since
	// only Step fires a fake timer.
	swap := func(content string) {
		clk.drain()
		vol.update(content)
		clk.waitArmed(t, debounce)
		clk.Step(debounce)
	}
	t.Run("valid change", func(t *testing.T) {
		swap(versionDoc("v2"))
		wantExperiment(t, nextChange(t, changes), "v2")
	})
	t.Run("invalid change reports the error", func(t *testing.T) {
		swap(experimentDoc("", `schedule: "0 0 30 2 *"`))
		c := nextChange(t, changes)
		var errs *Errors
		if c.cfg != nil || !errors.As(c.err, &errs) {
			t.Fatalf("got config %v, error %v; want only an *Errors", c.cfg, c.err)
		}
	})
	t.Run("same content is not reported again", func(t *testing.T) {
		swap(experimentDoc("", `schedule: "0 0 30 2 *"`))
		waitUnchanged(t, unchanged)
		swap(versionDoc("v3"))
		wantExperiment(t, nextChange(t, changes), "v3")
	})
	t.Run("old directories are gone", func(t *testing.T) {
		entries, err := os.ReadDir(vol.dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 3 { // ..data, the current ..2026_* and config.yaml
			t.Errorf("volume has %d entries, want 3", len(entries))
		}
	})
}

func TestWatcherResyncFallback(t *testing.T) {
	// config.yaml links to a file in another directory, so writing that
	// file produces no event in the watched directory: only resync sees it.
	elsewhere := filepath.Join(t.TempDir(), "real.yaml")
	if err := os.WriteFile(elsewhere, []byte(versionDoc("v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.Symlink(elsewhere, path); err != nil {
		t.Fatal(err)
	}
	_, hash, err := LoadFileWithHash(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := newArmingClock()
	log, unchanged := unchangedLogger(t)
	w := NewWatcher(path, WatchOptions{Logger: log, Resync: 10 * time.Second, Clock: clk, InitialHash: hash})
	changes := startWatcher(t, w)

	for _, step := range []struct {
		name    string
		content string // empty: leave the file alone
		want    string
	}{
		{"changed content", versionDoc("v2"), "v2"},
		{"unchanged content is not reported", "", ""},
		{"next change", versionDoc("v3"), "v3"},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.content != "" {
				// Atomically, as a resync may read at any moment.
				tmp := elsewhere + ".tmp"
				if err := os.WriteFile(tmp, []byte(step.content), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, elsewhere); err != nil {
					t.Fatal(err)
				}
			}
			clk.waitArmed(t, 10*time.Second)
			clk.Step(10 * time.Second)
			if step.want != "" {
				wantExperiment(t, nextChange(t, changes), step.want)
			} else {
				waitUnchanged(t, unchanged)
			}
		})
	}
	// The initial content matched InitialHash, v2 was reported once, and
	// every re-read has been accounted for: nothing else may be queued.
	select {
	case c := <-changes:
		t.Errorf("unexpected extra change: %+v", c)
	default:
	}
}

func TestWatcherDirectoryAppearsLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	path := filepath.Join(dir, "config.yaml")
	clk := newArmingClock()
	w := NewWatcher(path, WatchOptions{Logger: zaptest.NewLogger(t), Debounce: time.Second, Resync: 10 * time.Second, Clock: clk})
	changes := startWatcher(t, w)

	c := nextChange(t, changes)
	if c.cfg != nil || !errors.Is(c.err, os.ErrNotExist) {
		t.Fatalf("got config %v, error %v; want a not-exist error", c.cfg, c.err)
	}

	// The resync re-arms the watch on the new directory and reads the file.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(versionDoc("v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	clk.waitArmed(t, 10*time.Second)
	clk.Step(10 * time.Second)
	wantExperiment(t, nextChange(t, changes), "v1")

	// Now the watch works: an edit arms the debounce timer next to resync.
	clk.waitArmed(t, 10*time.Second)
	if err := os.WriteFile(path, []byte(versionDoc("v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	clk.waitArmed(t, time.Second)
	clk.Step(time.Second)
	wantExperiment(t, nextChange(t, changes), "v2")
}

func TestLoadFileWithHash(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr bool
	}{
		{"valid", versionDoc("v1"), false},
		{"invalid still hashed", "bogus: 1\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, hash, err := LoadFileWithHash(path)
			sum := sha256.Sum256([]byte(tc.content))
			if hash != hex.EncodeToString(sum[:]) {
				t.Errorf("hash = %s, want the sha256 of the content", hash)
			}
			if (err != nil) != tc.wantErr || (cfg == nil) != tc.wantErr {
				t.Errorf("got config %v, error %v; want error %v", cfg != nil, err, tc.wantErr)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, hash, err := LoadFileWithHash(filepath.Join(t.TempDir(), "nope.yaml"))
		if hash != "" || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got hash %q, error %v; want no hash and a not-exist error", hash, err)
		}
	})
}
