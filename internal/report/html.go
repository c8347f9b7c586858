package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/chaosd/chaosd/internal/journal"
)

// Options are the parts of a report not taken from the journals.
type Options struct {
	// Title defaults to "chaosd report".
	Title string
	// GeneratedAt is printed in the header; pass a fixed time for
	// reproducible output. Zero omits it.
	GeneratedAt time.Time
}

//go:embed report.html.tmpl
var htmlSource string

// html/template escapes by context, so journal text cannot inject markup.
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// RenderHTML writes one self-contained HTML page for recs (in start order).
func RenderHTML(w io.Writer, recs []journal.Record, opts Options) error {
	if err := htmlTemplate.Execute(w, buildView(recs, opts)); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return nil
}
