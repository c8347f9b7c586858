// Package journal owns the run journal: the one Record type that describes a
// finished (or in-progress) chaos run, its versioned JSON encoding, and the
// on-disk Store that keeps one file per run with bounded retention, and
// beside the runs the audit log (audit.go): who paused, stopped or resumed
// chaosd, or changed its config, and from where.
//
// The journal is the audit trail of what chaosd did to a cluster, so it is
// written synchronously (temp file, fsync, rename) before a run is reported
// anywhere else. This package only records: it must never decide a verdict,
// talk to a cluster or send a notification, and it must never hold secrets
// (notification URLs are not part of a Record).
//
// The schema is documented field by field in docs/journal.md. Additive
// changes keep SchemaVersion; anything else bumps it.
package journal
