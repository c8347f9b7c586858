package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/chaosd/chaosd/internal/journal"
)

// RenderMarkdown writes recs (in start order) as GitHub-flavoured Markdown.
// Every value from a journal goes through mdEscape (table cells always do,
// inside table), so labels cannot break tables or smuggle in HTML or links.
func RenderMarkdown(w io.Writer, recs []journal.Record, opts Options) error {
	v := buildView(recs, opts)
	md := &mdWriter{w: bufio.NewWriter(w)}
	md.line("# " + mdEscape(v.Title))
	md.line("")
	summary := strconv.Itoa(len(v.Runs)) + " run(s)"
	if v.Generated != "" {
		summary += ", generated " + mdEscape(v.Generated)
	}
	var counts []string
	for _, c := range v.Counts {
		counts = append(counts, mdEscape(verdictBadge(c.Verdict))+": "+strconv.Itoa(c.N))
	}
	if len(counts) > 0 {
		summary += ". " + strings.Join(counts, ", ")
	}
	md.line(summary + ".")
	md.line("")
	rows := make([][]string, 0, len(v.Runs))
	for _, r := range v.Runs {
		verdict := verdictBadge(r.Verdict)
		if r.DryRun {
			verdict += " (dry run)"
		}
		rows = append(rows, []string{r.Experiment, r.ID, r.Started, verdict, strings.Join(r.Targets, ", "), r.Duration, r.Reason})
	}
	md.table([]string{"Experiment", "Run", "Started", "Verdict", "Targets", "Duration", "Reason"}, rows)
	md.scores(v)
	for _, r := range v.Runs {
		md.run(r)
	}
	return md.flush()
}

// scores writes the resiliency score section, if the report has one.
func (md *mdWriter) scores(v reportView) {
	if len(v.Scores) == 0 {
		return
	}
	md.line("")
	md.line("## Resiliency score")
	md.line("")
	md.line(v.ScoreRule)
	md.line("")
	rows := make([][]string, 0, len(v.Scores))
	for _, s := range v.Scores {
		rows = append(rows, []string{s.Experiment, s.Workload, s.Score, strconv.Itoa(s.Counted), strconv.Itoa(s.Passed), strconv.Itoa(s.Excluded)})
	}
	md.table([]string{"Experiment", "Workload", "Score", "Counted runs", "Passed", "Not counted"}, rows)
}

func (md *mdWriter) run(r runView) {
	md.line("")
	md.line(fmt.Sprintf("## %s %s — %s", mdEscape(r.Experiment), mdEscape(r.ID), mdEscape(verdictBadge(r.Verdict))))
	md.line("")
	if r.Reason != "" {
		md.line(mdEscape(r.Reason))
		md.line("")
	}
	action := mdEscape(r.Action) + " on " + mdEscape(r.TargetKind)
	if r.DryRun {
		action += " (dry run: nothing was changed)"
	}
	md.line("- **Action:** " + action)
	md.line("- **Started:** " + mdEscape(r.Started))
	md.line("- **Finished:** " + mdEscape(r.Finished))
	md.line("- **Duration:** " + mdEscape(r.Duration))
	md.line("- **Seed:** " + mdEscape(r.Seed))
	if r.ConfigHash != "" {
		md.line("- **Config:** " + mdEscape(r.ConfigHash))
	}
	md.observations(r)
	md.selection(r.Selection)
	md.injections(r.Injections)
	md.replacement(r.Replacement)
	md.load(r.Load)
}

func (md *mdWriter) observations(r runView) {
	md.section("Timeline")
	var rows [][]string
	for _, e := range r.Timeline {
		rows = append(rows, []string{e.At, e.Offset, e.Phase, e.Target, e.Message, e.Error})
	}
	md.tableOr([]string{"At (UTC)", "Offset", "Phase", "Target", "Message", "Error"}, rows, "No timeline recorded.")

	md.section("Evidence")
	rows = nil
	for _, e := range r.Evidence {
		rows = append(rows, []string{e.Source, e.Name, e.Labels, e.Value, e.Bound, e.At, e.Message})
	}
	md.tableOr([]string{"Source", "Name", "Labels", "Value", "Bound", "At", "Message"}, rows, "No evidence recorded.")

	if len(r.SLIs) > 0 {
		md.section("SLIs")
		rows = nil
		for _, s := range r.SLIs {
			rows = append(rows, []string{s.Name, s.State, s.Baseline, s.Held, s.Observed, s.Samples, s.Reason, s.Query})
		}
		md.tableOr([]string{"SLI", "State", "Baseline median", "Held median", "Observed median", "Samples (baseline / fault)", "Why", "Query"}, rows, "")
	}
}

func (md *mdWriter) selection(s selectionView) {
	md.section("Selection")
	chosen := ""
	if len(s.Chosen) > 0 {
		chosen = ": " + mdEscape(strings.Join(s.Chosen, ", "))
	}
	md.line(s.Counts + chosen + ".")
	if len(s.Rejections) > 0 {
		md.line("")
		md.table([]string{"Rejected because", "Candidates"}, keyCountRows(s.Rejections))
	}
	if len(s.Sample) > 0 {
		var rows [][]string
		for _, rj := range s.Sample {
			rows = append(rows, []string{rj.Target, rj.Reason})
		}
		md.line("")
		md.table([]string{"Rejected candidate (sample)", "Reason"}, rows)
	}
}

func (md *mdWriter) injections(ins []injectionRow) {
	md.section("Injections")
	var rows [][]string
	for _, in := range ins {
		reverted := in.Reverted
		if in.NotReverted {
			reverted = "⚠️ " + reverted
		}
		if in.RevertError != "" {
			reverted += " (revert error: " + in.RevertError + ")"
		}
		rows = append(rows, []string{in.Target, in.Action, in.Injected, reverted, in.Detail})
	}
	md.tableOr([]string{"Target", "Action", "Injected", "Reverted", "Detail"}, rows, "Nothing was injected.")
}

func (md *mdWriter) replacement(p *replacementView) {
	if p != nil {
		md.section("Replacement")
		if p.Target != "" {
			md.line("- **Killed:** " + mdEscape(p.Target))
		}
		md.line("- **Owner:** " + mdEscape(p.Owner))
		md.line("- **Replaced by:** " + mdEscape(p.ReplacedBy))
		ready := p.Ready
		if p.ReadyAfter != "" {
			ready += " after " + p.ReadyAfter
		}
		md.line("- **Ready:** " + mdEscape(ready))
	}
}

func (md *mdWriter) load(l *loadView) {
	if l != nil {
		md.section("Load")
		md.line(fmt.Sprintf("- **Requests:** %s over %s (%s)", mdEscape(l.Requests), mdEscape(l.Duration), mdEscape(l.Rate)))
		md.line("- **Success:** " + mdEscape(l.Success))
		md.line(fmt.Sprintf("- **Latency:** p50 %s, p90 %s, p99 %s, max %s", mdEscape(l.P50), mdEscape(l.P90), mdEscape(l.P99), mdEscape(l.Max)))
		if len(l.StatusCodes) > 0 {
			md.line("")
			md.table([]string{"Status", "Responses"}, keyCountRows(l.StatusCodes))
		}
		if len(l.Errors) > 0 {
			md.line("")
			md.table([]string{"Error", "Count"}, keyCountRows(l.Errors))
		}
	}
}

func keyCountRows(kcs []keyCount) [][]string {
	rows := make([][]string, 0, len(kcs))
	for _, kc := range kcs {
		rows = append(rows, []string{kc.Key, strconv.Itoa(kc.N)})
	}
	return rows
}

var verdictEmoji = map[string]string{
	string(journal.VerdictPassed):   "✅",
	string(journal.VerdictWeakness): "❌",
	string(journal.VerdictError):    "⚠️",
	string(journal.VerdictAborted):  "⏹️",
	string(journal.VerdictSkipped):  "⏭️",
	string(journal.VerdictAlertGap): "🕳️",
	string(journal.VerdictNoEffect): "∅",
	"in progress":                   "⏳",
}

// verdictBadge returns "emoji verdict", unescaped.
func verdictBadge(v string) string {
	if e, ok := verdictEmoji[v]; ok {
		return e + " " + v
	}
	return v
}

// mdEscapes backslash-escapes what could start emphasis, code, links,
// HTML or a table cell; newlines become spaces so a value stays on its row.
var mdEscapes = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `~`, `\~`, `&`, `\&`, `#`, `\#`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

func mdEscape(s string) string { return mdEscapes.Replace(s) }

type mdWriter struct {
	w   *bufio.Writer
	err error
}

func (md *mdWriter) line(s string) {
	if md.err == nil {
		_, md.err = md.w.WriteString(s + "\n")
	}
}

func (md *mdWriter) section(title string) {
	md.line("")
	md.line("### " + title)
	md.line("")
}

// table writes a GFM table; every cell is escaped here, so callers pass
// plain text and cannot forget.
func (md *mdWriter) table(headers []string, rows [][]string) {
	md.line("| " + strings.Join(headers, " | ") + " |")
	md.line(strings.Repeat("|---", len(headers)) + "|")
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = mdEscape(c)
			if c == "" {
				cells[i] = " "
			}
		}
		md.line("| " + strings.Join(cells, " | ") + " |")
	}
}

func (md *mdWriter) tableOr(headers []string, rows [][]string, empty string) {
	if len(rows) == 0 {
		md.line("_" + empty + "_")
		return
	}
	md.table(headers, rows)
}

func (md *mdWriter) flush() error {
	if md.err == nil {
		md.err = md.w.Flush()
	}
	if md.err != nil {
		return fmt.Errorf("render markdown report: %w", md.err)
	}
	return nil
}
