// Package report renders run journals for humans: one self-contained HTML
// file (inline CSS, no scripts, no external assets, safe to mail or attach
// to a post-mortem) or Markdown for a wiki or pull request. It backs
// `chaosd report JOURNAL... -o report.html`.
//
// Journals carry user-controlled text (labels, messages, target names), so
// everything is escaped for its output: html/template for HTML, mdEscape
// for Markdown. This package only reads journals; it never writes them,
// never talks to a cluster and never decides anything.
package report
