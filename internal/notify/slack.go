package notify

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
)

// Slack posts Block Kit messages to an incoming webhook.
type Slack struct {
	url    URLSource
	client *http.Client
}

var _ Notifier = (*Slack)(nil)

// NewSlack returns a Slack notifier; client nil means NewHTTPClient.
func NewSlack(url URLSource, client *http.Client) *Slack {
	if client == nil {
		client = NewHTTPClient(0)
	}
	return &Slack{url: url, client: client}
}

func (s *Slack) Name() string { return "slack" }

// Notify re-reads the webhook URL (it may have been rotated) and posts.
func (s *Slack) Notify(ctx context.Context, m Message) error {
	target, err := s.url.URL()
	if err != nil {
		return &sendError{msg: "slack: " + err.Error()}
	}
	if err := postJSON(ctx, s.client, target, slackMessageFor(m)); err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// Block Kit, as much of it as chaosd uses. Limits (header 150 characters,
// field 2000, section text 3000, 10 fields, 10 context elements) are
// enforced here, since Slack rejects the whole message otherwise.
type slackMessage struct {
	// Text is the fallback shown in notifications and by old clients.
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

const (
	slackHeaderMax  = 150
	slackFieldMax   = 2000
	slackSectionMax = 3000
	slackContextMax = 10
)

func plain(s string, n int) *slackText { return &slackText{Type: "plain_text", Text: clip(s, n)} }

func mrkdwn(s string, n int) slackText { return slackText{Type: "mrkdwn", Text: clip(s, n)} }

// slackEscape is what Slack requires of text it should not interpret:
// without it a label like "<!channel>" would ping the whole channel.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }

var eventEmoji = map[config.Event]string{
	config.EventStarted:  "🧪",
	config.EventFinished: "🏁",
	config.EventWeakness: "❌",
	config.EventAlertGap: "🕳️",
	config.EventError:    "⚠️",
	config.EventPaused:   "⏸️",
	config.EventResumed:  "▶️",
}

var verdictEmoji = map[journal.Verdict]string{
	journal.VerdictPassed:   "✅",
	journal.VerdictWeakness: "❌",
	journal.VerdictSkipped:  "⏭️",
	journal.VerdictAborted:  "⏹️",
	journal.VerdictError:    "⚠️",
	journal.VerdictAlertGap: "🕳️",
	journal.VerdictNoEffect: "∅",
}

func slackMessageFor(m Message) slackMessage {
	if m.Run == nil {
		title := eventEmoji[m.Event] + " chaosd " + string(m.Event)
		msg := slackMessage{Text: title, Blocks: []slackBlock{{Type: "header", Text: plain(title, slackHeaderMax)}}}
		if m.Text != "" {
			msg.Text += ": " + slackEscape(m.Text)
			t := mrkdwn(slackEscape(m.Text), slackSectionMax)
			msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &t})
		}
		return msg
	}
	r := m.Run
	verdict := string(r.Verdict)
	emoji := verdictEmoji[r.Verdict]
	if verdict == "" {
		verdict, emoji = "running", eventEmoji[m.Event]
	}
	title := fmt.Sprintf("%s %s: %s", emoji, headline(m.Event, r), r.Experiment)
	if r.DryRun {
		title += " (dry run)"
	}
	targets := "none"
	if names := r.TargetNames(); len(names) > 0 {
		targets = strings.Join(names, "\n")
	}
	fields := []slackText{
		mrkdwn("*Verdict*\n"+emoji+" "+slackEscape(verdict), slackFieldMax),
		mrkdwn("*Action*\n"+slackEscape(string(r.Action)), slackFieldMax),
		mrkdwn("*Targets*\n"+slackEscape(targets), slackFieldMax),
		mrkdwn("*Run*\n"+slackEscape(r.ID), slackFieldMax),
	}
	msg := slackMessage{
		Text: slackEscape(title),
		Blocks: []slackBlock{
			{Type: "header", Text: plain(title, slackHeaderMax)},
			{Type: "section", Fields: fields},
		},
	}
	if r.Reason != "" {
		msg.Text += ": " + slackEscape(r.Reason)
		t := mrkdwn("*Reason*\n"+slackEscape(r.Reason), slackSectionMax)
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &t})
	}
	if ctx := evidenceContext(r.Evidence); len(ctx) > 0 {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: ctx})
	}
	if r.ReportURL != "" {
		// A mrkdwn link, not a button: URL buttons on an incoming webhook
		// without interactivity show a warning to whoever clicks them.
		t := mrkdwn("<"+r.ReportURL+"|Open the run report>", slackSectionMax)
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &t})
	}
	return msg
}

func headline(ev config.Event, r *Run) string {
	switch ev {
	case config.EventStarted:
		return "Started"
	case config.EventWeakness:
		return "Weakness found"
	case config.EventAlertGap:
		return "Alert gap found"
	case config.EventError:
		return "Run failed"
	}
	if r.Verdict == "" {
		return "Finished"
	}
	return strings.ToUpper(string(r.Verdict[:1])) + string(r.Verdict[1:])
}

// evidenceContext renders evidence as context elements, the last one
// saying how many did not fit.
func evidenceContext(ev []journal.Evidence) []slackText {
	var out []slackText
	for i, e := range ev {
		if i == slackContextMax-1 && len(ev) > slackContextMax {
			out = append(out, mrkdwn(fmt.Sprintf("…and %d more in the report", len(ev)-i), slackFieldMax))
			break
		}
		out = append(out, mrkdwn(slackEscape(evidenceLine(e)), slackFieldMax))
	}
	return out
}

func evidenceLine(e journal.Evidence) string {
	var b strings.Builder
	b.WriteString(string(e.Source) + ": " + e.Name)
	if len(e.Labels) > 0 {
		b.WriteString(" " + formatLabels(e.Labels))
	}
	if e.Value != nil {
		b.WriteString(" = " + strconv.FormatFloat(*e.Value, 'g', 6, 64))
	}
	if e.Bound != "" {
		b.WriteString(" (want " + e.Bound + ")")
	}
	if e.Message != "" {
		b.WriteString(" — " + e.Message)
	}
	return b.String()
}

// clip shortens s to at most n runes, marking the cut, and never cuts an
// escape such as &amp; in half.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n-1])
	if amp := strings.LastIndexByte(cut, '&'); amp >= 0 && amp > len(cut)-5 && !strings.Contains(cut[amp:], ";") {
		cut = cut[:amp]
	}
	return cut + "…"
}
