package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
)

const secretPath = "/services/T0000/B0000/SECRETTOKEN"

// receiver is an httptest webhook receiver on 127.0.0.1 that records
// bodies and answers with the scripted statuses (then 200).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	paths    []string
	statuses []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rv := &receiver{statuses: statuses}
	rv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rv.mu.Lock()
		rv.bodies = append(rv.bodies, b)
		rv.paths = append(rv.paths, r.URL.Path)
		status := http.StatusOK
		if len(rv.statuses) > 0 {
			status, rv.statuses = rv.statuses[0], rv.statuses[1:]
		}
		rv.mu.Unlock()
		if r.Header.Get("Content-Type") != "application/json" {
			status = http.StatusUnsupportedMediaType
		}
		w.WriteHeader(status)
		if status != http.StatusOK { // echo the URL, like a careless proxy
			fmt.Fprintf(w, "no route for %s", r.URL.String())
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(rv.Close)
	return rv
}

func (rv *receiver) requestPaths() []string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]string(nil), rv.paths...)
}

func (rv *receiver) received() [][]byte {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([][]byte(nil), rv.bodies...)
}

func secretFile(t *testing.T, url string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(f, []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func weaknessMessage() Message {
	rec := testRecord(journal.VerdictWeakness)
	return Message{Event: config.EventWeakness, At: t0, Run: runFrom(rec, "https://chaosd.example/api/v1/runs/run-42/report")}
}

// slackJSON is the subset of Block Kit the tests look at.
type slackJSON struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type     string      `json:"type"`
		Text     *slackText  `json:"text"`
		Fields   []slackText `json:"fields"`
		Elements []slackText `json:"elements"`
	} `json:"blocks"`
}

func TestSlackMessageStructure(t *testing.T) {
	rv := newReceiver(t)
	s := NewSlack(URLSource{File: secretFile(t, rv.URL+secretPath)}, nil)
	if err := s.Notify(context.Background(), weaknessMessage()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	bodies := rv.received()
	if paths := rv.requestPaths(); len(bodies) != 1 || paths[0] != secretPath {
		t.Fatalf("receiver got %d posts at %v", len(bodies), paths)
	}
	var msg slackJSON
	if err := json.Unmarshal(bodies[0], &msg); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, bodies[0])
	}
	var types []string
	for _, b := range msg.Blocks {
		types = append(types, b.Type)
	}
	if got := strings.Join(types, ","); got != "header,section,section,context,section" {
		t.Fatalf("block types = %s\n%s", got, bodies[0])
	}
	header := msg.Blocks[0].Text
	if header.Type != "plain_text" || !strings.Contains(header.Text, "❌") || !strings.Contains(header.Text, "checkout-abort") {
		t.Errorf("header = %+v", header)
	}
	var fields []string
	for _, f := range msg.Blocks[1].Fields {
		if f.Type != "mrkdwn" {
			t.Errorf("field type %q", f.Type)
		}
		fields = append(fields, f.Text)
	}
	all := strings.Join(fields, "\n")
	for _, want := range []string{"*Verdict*\n❌ weakness", "*Targets*\nvirtualservice/shop/checkout", "*Run*\nrun-42", "*Action*\nhttp-abort"} {
		if !strings.Contains(all, want) {
			t.Errorf("fields lack %q:\n%s", want, all)
		}
	}
	if r := msg.Blocks[2].Text.Text; !strings.Contains(r, "CheckoutErrorRate fired") {
		t.Errorf("reason block = %q", r)
	}
	if ev := msg.Blocks[3].Elements; len(ev) != 2 || !strings.Contains(ev[1].Text, "error-ratio = 0.42 (want &lt;= 0.05)") {
		t.Errorf("evidence context = %+v", ev)
	}
	if link := msg.Blocks[4].Text.Text; link != "<https://chaosd.example/api/v1/runs/run-42/report|Open the run report>" {
		t.Errorf("report link = %q", link)
	}
	for _, want := range []string{"weakness", "checkout-abort"} {
		if !strings.Contains(strings.ToLower(msg.Text), want) {
			t.Errorf("fallback text %q lacks %q", msg.Text, want)
		}
	}
}

func TestSlackMessageVariants(t *testing.T) {
	manyEvidence := weaknessMessage()
	for i := range 30 {
		manyEvidence.Run.Evidence = append(manyEvidence.Run.Evidence, journal.Evidence{Source: journal.SourceChaosd, Name: fmt.Sprintf("e%d", i)})
	}
	hostile := weaknessMessage()
	hostile.Run.Reason = "<!channel> look & see <https://evil.example|here>"
	long := weaknessMessage()
	long.Run.Experiment = strings.Repeat("x", 300)
	started := weaknessMessage()
	started.Event, started.Run.Verdict, started.Run.ReportURL, started.Run.Evidence, started.Run.Reason = config.EventStarted, "", "", nil, ""
	tests := []struct {
		name  string
		msg   Message
		check func(t *testing.T, m slackMessage)
	}{
		{name: "evidence is bounded", msg: manyEvidence, check: func(t *testing.T, m slackMessage) {
			ctx := m.Blocks[3]
			if ctx.Type != "context" || len(ctx.Elements) != slackContextMax || !strings.Contains(ctx.Elements[9].Text, "more in the report") {
				t.Errorf("context block = %+v", ctx)
			}
		}},
		{name: "mrkdwn is escaped", msg: hostile, check: func(t *testing.T, m slackMessage) {
			got := m.Blocks[2].Text.Text
			if strings.Contains(got, "<!channel>") || !strings.Contains(got, "&lt;!channel&gt; look &amp; see &lt;https://evil.example|here&gt;") {
				t.Errorf("reason = %q", got)
			}
		}},
		{name: "header is clipped", msg: long, check: func(t *testing.T, m slackMessage) {
			if n := utf8.RuneCountInString(m.Blocks[0].Text.Text); n > slackHeaderMax {
				t.Errorf("header has %d characters, Slack allows %d", n, slackHeaderMax)
			}
		}},
		{name: "started run has no verdict yet", msg: started, check: func(t *testing.T, m slackMessage) {
			if !strings.Contains(m.Blocks[0].Text.Text, "Started: checkout-abort") || !strings.Contains(m.Blocks[1].Fields[0].Text, "running") || len(m.Blocks) != 2 {
				t.Errorf("blocks = %+v", m.Blocks)
			}
		}},
		{name: "pause", msg: Message{Event: config.EventPaused, Text: "paused by <alice>"}, check: func(t *testing.T, m slackMessage) {
			if len(m.Blocks) != 2 || !strings.Contains(m.Blocks[0].Text.Text, "chaosd paused") || m.Blocks[1].Text.Text != "paused by &lt;alice&gt;" {
				t.Errorf("blocks = %+v", m.Blocks)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := slackMessageFor(tt.msg)
			if _, err := json.Marshal(m); err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestSlackRereadsRotatedSecret(t *testing.T) {
	oldRv, newRv := newReceiver(t), newReceiver(t)
	file := secretFile(t, oldRv.URL+secretPath)
	s := NewSlack(URLSource{File: file}, nil)
	if err := s.Notify(context.Background(), weaknessMessage()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(newRv.URL+secretPath), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Notify(context.Background(), weaknessMessage()); err != nil {
		t.Fatal(err)
	}
	if len(oldRv.received()) != 1 || len(newRv.received()) != 1 {
		t.Errorf("old receiver got %d, new got %d; want 1 each", len(oldRv.received()), len(newRv.received()))
	}
}

func TestSlackFromEnv(t *testing.T) {
	rv := newReceiver(t)
	env := map[string]string{"SLACK_URL": rv.URL + secretPath}
	s := NewSlack(URLSource{Env: "SLACK_URL", Getenv: func(k string) string { return env[k] }}, nil)
	if err := s.Notify(context.Background(), weaknessMessage()); err != nil {
		t.Fatal(err)
	}
	if len(rv.received()) != 1 {
		t.Fatal("nothing received")
	}
}

// The URL must not appear in any log line or error, whatever fails.
func TestSlackURLNeverLeaks(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		closed    bool
		wantCalls int
	}{
		{name: "server error echoing the path, retried", statuses: []int{500, 500, 500}, wantCalls: 3},
		{name: "permanent 404 echoing the path", statuses: []int{404}, wantCalls: 1},
		{name: "connection refused", closed: true, wantCalls: 0},
		{name: "500 then 200", statuses: []int{500}, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := newReceiver(t, tt.statuses...)
			secretURL := rv.URL + secretPath + "?token=QUERYSECRET"
			if tt.closed {
				rv.Close()
			}
			e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: NewSlack(URLSource{File: secretFile(t, secretURL)}, nil), On: config.DefaultNotifyOn}}})
			e.d.DispatchFinished(testRecord(journal.VerdictWeakness))
			e.drain(t)
			if got := len(rv.received()); got != tt.wantCalls {
				t.Errorf("receiver got %d posts, want %d", got, tt.wantCalls)
			}
			var sawError bool
			for _, entry := range e.logs.All() {
				line := entry.Message + " " + fmt.Sprint(entry.ContextMap())
				for _, secret := range []string{"SECRETTOKEN", "QUERYSECRET", "T0000/B0000"} {
					if strings.Contains(line, secret) {
						t.Errorf("log line leaks %q: %s", secret, line)
					}
				}
				if _, ok := entry.ContextMap()["error"]; ok {
					sawError = true
				}
			}
			if tt.wantCalls != 1 && !sawError {
				t.Error("expected a logged (redacted) error")
			}
		})
	}
}

func TestSlackErrorIsRedacted(t *testing.T) {
	rv := newReceiver(t, http.StatusForbidden)
	err := NewSlack(URLSource{Value: rv.URL + secretPath}, nil).Notify(context.Background(), weaknessMessage())
	if err == nil {
		t.Fatal("want an error for 403")
	}
	msg := err.Error()
	if strings.Contains(msg, "SECRETTOKEN") || !strings.Contains(msg, redacted) || !strings.Contains(msg, "403") {
		t.Errorf("error = %q: want the status, %s, and no secret", msg, redacted)
	}
	if ok, _ := retryable(err, 0, 0); ok {
		t.Error("403 must not be retried")
	}
}
