package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"go.uber.org/zap"
)

var (
	// ErrNotFound means no journal is kept for that run ID.
	ErrNotFound = errors.New("run not found in journal")
	// ErrClosed means Write was called after Close.
	ErrClosed = errors.New("journal store is closed")
)

// File names: "<startedAt UTC>-<runId>.json", where the timestamp is
// fixed-width so that names sort chronologically, and has no colons so the
// files copy cleanly to any filesystem.
const (
	fileTimeLayout = "2006-01-02T15-04-05.000Z"
	fileExt        = ".json"
	tempPrefix     = ".tmp-"
)

// Options configure a Store. They usually come from config.Journal.
type Options struct {
	Dir string
	// MaxRuns and MaxBytes bound what is kept; the oldest runs are deleted
	// first. Zero or less means no bound. The newest run is always kept,
	// even when it alone exceeds MaxBytes.
	MaxRuns  int
	MaxBytes int64
	Logger   *zap.Logger
}

// Store keeps one JSON file per run in a directory.
//
//   - Write encodes the record, writes it to a temp file in the same
//     directory, fsyncs it and renames it into place, then fsyncs the
//     directory: a reader sees the old file or the new one, never half.
//   - Writing the same run ID again replaces its file, so the runner may
//     write an in-progress record first and the final one later.
//   - After each write the oldest runs are deleted until both bounds hold.
//   - Writes are synchronous: when Write returns nil the run is on disk, so
//     nothing is lost on a clean shutdown and Close has nothing to flush.
//
// An in-memory index of summaries (built by Open) serves List without
// reading files. Unreadable files are skipped with a warning and left on
// disk for a human to look at; they are never deleted by retention.
type Store struct {
	dir      string
	maxRuns  int
	maxBytes int64
	log      *zap.Logger

	mu     sync.Mutex
	index  []entry // oldest first
	total  int64   // bytes of indexed files
	closed bool
	// audit is the audit log, oldest first (audit.go); also under mu.
	audit []AuditEntry
}

type entry struct {
	sum  Summary
	file string // base name
	size int64
}

// Open opens (creating if needed) the journal directory and indexes the
// runs already there. It fails with a clear error when the directory cannot
// be created or written.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("open journal: no directory configured (journal.dir)")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{dir: opts.Dir, maxRuns: opts.MaxRuns, maxBytes: opts.MaxBytes, log: log.With(zap.String("dir", opts.Dir))}
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("open journal: create directory %s: %w", s.dir, err)
	}
	probe, err := os.CreateTemp(s.dir, tempPrefix+"probe-*")
	if err != nil {
		return nil, fmt.Errorf("open journal: directory %s is not writable: %w", s.dir, err)
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	if err := s.load(); err != nil {
		return nil, err
	}
	s.loadAudit()
	s.prune()
	return s, nil
}

// Dir is the journal directory.
func (s *Store) Dir() string { return s.dir }

// load indexes the directory. Only a failure to list it is an error.
func (s *Store) load() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("open journal: list %s: %w", s.dir, err)
	}
	byID := map[string]int{}
	for _, de := range des {
		name := de.Name()
		if de.IsDir() {
			continue
		}
		if strings.HasPrefix(name, tempPrefix) {
			// Left over from a crash mid-write; the rename never happened,
			// so the previous version (if any) is intact.
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				s.log.Warn("cannot remove leftover temp file", zap.String("file", name), zap.Error(err))
			}
			continue
		}
		if !strings.HasSuffix(name, fileExt) {
			continue
		}
		rec, err := ReadFile(filepath.Join(s.dir, name))
		if err == nil {
			err = rec.Validate()
		}
		if err != nil {
			s.log.Warn("skipping unreadable journal file", zap.String("file", name), zap.Error(err))
			continue
		}
		info, err := de.Info()
		if err != nil {
			s.log.Warn("skipping unreadable journal file", zap.String("file", name), zap.Error(err))
			continue
		}
		e := entry{sum: rec.Summarize(), file: name, size: info.Size()}
		if i, dup := byID[rec.RunID]; dup {
			// A crash between writing a run's new file and removing its
			// old one leaves two; the later name supersedes.
			older := s.index[i]
			if e.file < older.file {
				older, e = e, older
			}
			s.index[i] = e
			s.total += e.size - older.size
			s.removeFile(older.file)
			continue
		}
		byID[rec.RunID] = len(s.index)
		s.index = append(s.index, e)
		s.total += e.size
	}
	sort.Slice(s.index, func(i, j int) bool { return less(s.index[i].sum, s.index[j].sum) })
	s.log.Debug("journal indexed", zap.Int("runs", len(s.index)), zap.Int64("bytes", s.total))
	return nil
}

func less(a, b Summary) bool {
	if !a.StartedAt.Equal(b.StartedAt) {
		return a.StartedAt.Before(b.StartedAt)
	}
	return a.RunID < b.RunID
}

func fileName(r *Record) string {
	return r.StartedAt.UTC().Format(fileTimeLayout) + "-" + r.RunID + fileExt
}

// Write stores rec durably, replacing any earlier version of the same run,
// then applies retention.
func (s *Store) Write(rec Record) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("write journal: invalid record: %w", err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, rec); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("write journal for run %s: %w", rec.RunID, ErrClosed)
	}
	name := fileName(&rec)
	if err := s.writeAtomic(name, buf.Bytes()); err != nil {
		return fmt.Errorf("write journal for run %s: %w", rec.RunID, err)
	}
	e := entry{sum: rec.Summarize(), file: name, size: int64(buf.Len())}
	if i := s.find(rec.RunID); i >= 0 {
		old := s.index[i]
		s.index = append(s.index[:i], s.index[i+1:]...)
		s.total -= old.size
		if old.file != name {
			s.removeFile(old.file)
		}
	}
	at := sort.Search(len(s.index), func(i int) bool { return less(e.sum, s.index[i].sum) })
	s.index = append(s.index, entry{})
	copy(s.index[at+1:], s.index[at:])
	s.index[at] = e
	s.total += e.size
	s.prune()
	return nil
}

func (s *Store) writeAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(s.dir, tempPrefix+"*"+fileExt)
	if err != nil {
		return fmt.Errorf("create temp file in %s: %w", s.dir, err)
	}
	tmp := f.Name()
	cleanup := func() { _ = os.Remove(tmp) }
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		cleanup()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		cleanup()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		cleanup()
		return fmt.Errorf("rename into %s: %w", name, err)
	}
	s.syncDir()
	return nil
}

// syncDir makes the rename durable. Failure only risks the last write on a
// power cut, not on a clean shutdown, so it is logged and not returned.
func (s *Store) syncDir() {
	d, err := os.Open(s.dir)
	if err != nil {
		s.log.Debug("cannot open journal dir for sync", zap.Error(err))
		return
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		s.log.Debug("cannot sync journal dir", zap.Error(err))
	}
}

func (s *Store) find(runID string) int {
	for i := range s.index {
		if s.index[i].sum.RunID == runID {
			return i
		}
	}
	return -1
}

func (s *Store) removeFile(name string) {
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("cannot remove journal file", zap.String("file", name), zap.Error(err))
	}
}

// prune deletes the oldest runs until both bounds hold, always keeping
// the newest. Caller holds mu (or is Open).
func (s *Store) prune() {
	for len(s.index) > 1 && s.overLimit() {
		old := s.index[0]
		if err := os.Remove(filepath.Join(s.dir, old.file)); err != nil && !errors.Is(err, os.ErrNotExist) {
			// Stop rather than skip: deleting newer runs instead would
			// lose the history we are meant to keep.
			s.log.Warn("cannot apply journal retention", zap.String("file", old.file), zap.String("run", old.sum.RunID), zap.Error(err))
			return
		}
		s.index = s.index[1:]
		s.total -= old.size
		s.log.Debug("journal retention removed run", zap.String("run", old.sum.RunID), zap.String("file", old.file))
	}
}

func (s *Store) overLimit() bool {
	return (s.maxRuns > 0 && len(s.index) > s.maxRuns) || (s.maxBytes > 0 && s.total > s.maxBytes)
}

// List returns up to limit summaries, newest first; limit <= 0 means all.
func (s *Store) List(limit int) []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newestFirst(s.index, limit, func(e entry) Summary {
		sum := e.sum
		sum.Targets = append([]string(nil), sum.Targets...)
		return sum
	})
}

// newestFirst maps up to limit items of a list kept oldest first, newest
// first; limit <= 0 means all.
func newestFirst[T, U any](list []T, limit int, f func(T) U) []U {
	n := len(list)
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]U, 0, n)
	for i := len(list) - 1; len(out) < n; i-- {
		out = append(out, f(list[i]))
	}
	return out
}

// Get reads one run's full record. Unknown or malformed IDs return
// ErrNotFound without touching the filesystem, so runID may come from a URL.
func (s *Store) Get(runID string) (Record, error) {
	if !ValidRunID(runID) {
		return Record{}, fmt.Errorf("get run %q: %w", runID, ErrNotFound)
	}
	s.mu.Lock()
	i := s.find(runID)
	var file string
	if i >= 0 {
		file = s.index[i].file
	}
	s.mu.Unlock()
	if i < 0 {
		return Record{}, fmt.Errorf("get run %s: %w", runID, ErrNotFound)
	}
	rec, err := ReadFile(filepath.Join(s.dir, file))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Record{}, fmt.Errorf("get run %s: removed from %s: %w", runID, s.dir, ErrNotFound)
		}
		return Record{}, fmt.Errorf("get run %s: %w", runID, err)
	}
	return rec, nil
}

// Close stops further writes. Every successful Write is already on disk,
// so there is nothing to flush; List and Get keep working.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
