package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
)

// AuditAction names what an operator did to chaosd.
type AuditAction string

// The audited actions.
const (
	AuditPause  AuditAction = "pause"
	AuditStop   AuditAction = "stop" // chaosd pause --revert: every active fault reverted
	AuditResume AuditAction = "resume"
	// AuditConfig is a config change chaosd loaded; AuditConfigRejected one
	// it refused (the last good config stays in force).
	AuditConfig         AuditAction = "config"
	AuditConfigRejected AuditAction = "config-rejected"
)

// AuditEntry is one audited action: who paused, stopped or resumed chaosd,
// or changed its config, and from where.
type AuditEntry struct {
	// At is when the action happened: the time `chaosd pause`/`resume`
	// recorded, or when chaosd loaded (or refused) a changed config.
	At     time.Time   `json:"at"`
	Action AuditAction `json:"action"`
	// Who is the Kubernetes username behind a pause or resume, or for a
	// config change the field manager that last wrote the ConfigMap's data
	// (managedFields hold managers, not users). It begins with "unknown"
	// when chaosd could not tell, followed by why.
	Who    string   `json:"who"`
	Groups []string `json:"groups,omitempty"`
	// From is where: the host, OS user and kubeconfig context of the
	// command, or the ConfigMap a config change was written to.
	From   string `json:"from,omitempty"`
	Detail string `json:"detail,omitempty"`

	// Config changes only: the loaded config's hash, and the ConfigMap's
	// resourceVersion, field manager, operation and write time.
	ConfigHash      string    `json:"configHash,omitempty"`
	ResourceVersion string    `json:"resourceVersion,omitempty"`
	FieldManager    string    `json:"fieldManager,omitempty"`
	Operation       string    `json:"operation,omitempty"`
	WrittenAt       time.Time `json:"writtenAt,omitzero"`
}

// Audit log storage: JSON lines in the journal directory, rewritten
// atomically on every entry like a run's file. Audited actions are made by
// people, so they are rare and the file stays small.
const (
	AuditFile       = "audit.jsonl"
	MaxAuditEntries = 1000
)

// WriteAudit appends e to the audit log durably; beyond MaxAuditEntries
// the oldest entries are dropped. It appends to the log as it is on disk,
// not as this process last saw it: after a failover, replicas sharing a
// journal volume take turns writing it.
func (s *Store) WriteAudit(e AuditEntry) error {
	if e.Action == "" || e.At.IsZero() {
		return fmt.Errorf("write audit entry: action and time are required, got %q at %v", e.Action, e.At)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("write audit entry: %w", ErrClosed)
	}
	base := s.audit
	switch disk, _, err := readAudit(filepath.Join(s.dir, AuditFile)); {
	case err == nil:
		base = disk
	case errors.Is(err, os.ErrNotExist):
		base = nil
	}
	entries := newestAudit(append(append([]AuditEntry(nil), base...), e), MaxAuditEntries)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, a := range entries {
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("write audit entry: encode: %w", err)
		}
	}
	if err := s.writeAtomic(AuditFile, buf.Bytes()); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	s.audit = entries
	return nil
}

// Audit returns up to limit audit entries, newest first; limit <= 0 means all.
func (s *Store) Audit(limit int) []AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newestFirst(s.audit, limit, func(e AuditEntry) AuditEntry { return e })
}

// loadAudit reads the audit log at Open. Lines it cannot decode are
// skipped with a warning and dropped at the next write; a log it cannot
// read at all only costs the audit history, so that is a warning too.
func (s *Store) loadAudit() {
	entries, bad, err := readAudit(filepath.Join(s.dir, AuditFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("cannot read the audit log, starting a new one", zap.String("file", AuditFile), zap.Error(err))
	}
	if bad > 0 {
		s.log.Warn("skipping unreadable audit log lines", zap.String("file", AuditFile), zap.Int("lines", bad))
	}
	s.audit = newestAudit(entries, MaxAuditEntries)
}

// newestAudit keeps the newest keep entries of a log kept oldest first.
func newestAudit(entries []AuditEntry, keep int) []AuditEntry {
	if len(entries) > keep {
		return entries[len(entries)-keep:]
	}
	return entries
}

// ReadAuditFile reads an audit log (oldest first), failing on any line it
// cannot decode.
func ReadAuditFile(path string) ([]AuditEntry, error) {
	entries, bad, err := readAudit(path)
	if err != nil {
		return nil, err
	}
	if bad > 0 {
		return entries, fmt.Errorf("read audit log %s: %d unreadable lines", path, bad)
	}
	return entries, nil
}

func readAudit(path string) (entries []AuditEntry, bad int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read audit log: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e AuditEntry
		if json.Unmarshal(line, &e) != nil || e.Action == "" || e.At.IsZero() {
			bad++
			continue
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return entries, bad, fmt.Errorf("read audit log %s: %w", path, err)
	}
	return entries, bad, nil
}
