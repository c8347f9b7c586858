package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaosd/chaosd/internal/journal"
)

// Format is an output format.
type Format string

const (
	FormatHTML     Format = "html"
	FormatMarkdown Format = "markdown"
)

// FormatFromPath picks the format from an output file's extension:
// .html/.htm or .md/.markdown.
func FormatFromPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return FormatHTML, nil
	case ".md", ".markdown":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("report %s: unknown format, use a .html or .md file name", path)
}

// Render writes recs in format f.
func Render(w io.Writer, f Format, recs []journal.Record, opts Options) error {
	switch f {
	case FormatHTML:
		return RenderHTML(w, recs, opts)
	case FormatMarkdown:
		return RenderMarkdown(w, recs, opts)
	}
	return fmt.Errorf("unknown report format %q: must be html or markdown", f)
}

// WriteFile renders recs into path, in the format its extension names.
// Nothing is written unless rendering succeeds.
func WriteFile(path string, recs []journal.Record, opts Options) error {
	f, err := FormatFromPath(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := Render(&buf, f, recs, opts); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
