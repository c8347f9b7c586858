package config

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
	"k8s.io/utils/clock"
)

// Watch defaults: the kubelet's symlink swap is a burst of a few events
// within milliseconds; the re-read catches whatever the watch missed.
const (
	DefaultWatchDebounce = 150 * time.Millisecond
	DefaultWatchResync   = 10 * time.Second
)

// LoadFileWithHash is LoadFile that also returns the SHA-256 (hex) of the
// bytes read, also when they do not validate; the hash is empty only when
// the file could not be read. A Watcher reports a change only when it
// differs.
func LoadFileWithHash(path string) (*Config, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(path, data)
	return cfg, contentHash(data), err
}

func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// WatchOptions configures a Watcher; zero values get defaults.
type WatchOptions struct {
	Logger *zap.Logger
	// Debounce is the quiet time after the last file event before the file
	// is re-read.
	Debounce time.Duration
	// Resync is how often the file is re-read regardless of events, and how
	// often a broken watch is re-armed.
	Resync time.Duration
	// Clock drives debounce and resync; tests pass a fake one.
	Clock clock.Clock
	// InitialHash is the hash of the content the caller already loaded (from
	// LoadFileWithHash). Empty means the first read is reported as a change.
	InitialHash string
}

// Watcher hot-reloads the config file mounted from a ConfigMap.
//
//   - It watches the file's directory, not the file: the kubelet updates a
//     ConfigMap volume by swapping the ..data symlink, which a watch on the
//     file itself does not survive.
//   - Every event (re)starts a debounce timer; when it fires the file is
//     read and hashed, and onChange runs only if the hash differs from the
//     last one seen (valid or not).
//   - Every Resync the file is re-read anyway, and a watch that failed, or
//     whose directory vanished, is re-armed.
//
// A Watcher never keeps a config itself: the caller keeps the last good one
// when onChange gets an error.
type Watcher struct {
	path string
	dir  string
	opts WatchOptions
	log  *zap.Logger

	fs       *fsnotify.Watcher // nil while not armed
	lastSeen string            // content hash, or the read error text
}

// NewWatcher returns a Watcher for the config file at path.
func NewWatcher(path string, opts WatchOptions) *Watcher {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultWatchDebounce
	}
	if opts.Resync <= 0 {
		opts.Resync = DefaultWatchResync
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Watcher{
		path:     path,
		dir:      filepath.Dir(path),
		opts:     opts,
		log:      opts.Logger.With(zap.String("path", path)),
		lastSeen: opts.InitialHash,
	}
}

// Run watches until ctx is done. It calls onChange, from Run's goroutine,
// with the new validated config, or with the error that kept the new content
// from loading. The watch is armed before the first read, so no change
// between the two is lost.
func (w *Watcher) Run(ctx context.Context, onChange func(*Config, error)) {
	clk := w.opts.Clock
	w.arm()
	defer w.disarm()
	w.reload(onChange)

	resync := clk.NewTimer(w.opts.Resync)
	defer resync.Stop()
	var debounce clock.Timer
	var debounceC <-chan time.Time
	trigger := func() {
		if debounce == nil {
			debounce = clk.NewTimer(w.opts.Debounce)
		} else {
			debounce.Stop()
			debounce.Reset(w.opts.Debounce)
		}
		debounceC = debounce.C()
	}
	defer func() {
		if debounce != nil {
			debounce.Stop()
		}
	}()

	for {
		var events <-chan fsnotify.Event
		var errs <-chan error
		if w.fs != nil {
			events, errs = w.fs.Events, w.fs.Errors
		}
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok || (ev.Name == w.dir && ev.Has(fsnotify.Remove|fsnotify.Rename)) {
				w.log.Warn("config directory watch ended; re-arming")
				w.disarm()
				w.arm()
			}
			trigger()
		case err, ok := <-errs:
			// Events may have been lost (queue overflow): re-arm and re-read.
			if ok {
				w.log.Warn("config watch failed; re-arming", zap.Error(err))
			}
			w.disarm()
			w.arm()
			trigger()
		case <-debounceC:
			debounceC = nil
			w.reload(onChange)
		case <-resync.C():
			resync.Reset(w.opts.Resync)
			if w.fs == nil {
				w.arm()
			}
			w.reload(onChange)
		}
	}
}

// arm starts watching the directory; on failure the Watcher stays unarmed
// and relies on resync until the next attempt.
func (w *Watcher) arm() {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		w.log.Warn("cannot watch config directory; re-reading periodically", zap.Error(err))
		return
	}
	if err := fs.Add(w.dir); err != nil {
		_ = fs.Close()
		w.log.Warn("cannot watch config directory; re-reading periodically", zap.String("dir", w.dir), zap.Error(err))
		return
	}
	w.fs = fs
}

func (w *Watcher) disarm() {
	if w.fs != nil {
		_ = w.fs.Close()
		w.fs = nil
	}
}

// reload reads the file and reports it if it differs from what was last
// seen. A read error is reported once, not on every resync.
func (w *Watcher) reload(onChange func(*Config, error)) {
	cfg, hash, err := LoadFileWithHash(w.path)
	seen := hash
	if hash == "" {
		seen = "read error: " + err.Error()
	}
	if seen == w.lastSeen {
		w.log.Debug("config unchanged")
		return
	}
	w.lastSeen = seen
	onChange(cfg, err)
}
