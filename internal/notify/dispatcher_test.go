package notify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
)

func TestDispatchFinishedFilter(t *testing.T) {
	def := config.DefaultNotifyOn
	tests := []struct {
		name    string
		on      []config.Event
		verdict journal.Verdict
		want    []config.Event // events received, in order
	}{
		{name: "passing run, default filter: nobody", on: def, verdict: journal.VerdictPassed, want: nil},
		{name: "skipped run, default filter: nobody", on: def, verdict: journal.VerdictSkipped, want: nil},
		{name: "aborted run, default filter: nobody", on: def, verdict: journal.VerdictAborted, want: nil},
		{name: "weakness, default filter", on: def, verdict: journal.VerdictWeakness, want: []config.Event{config.EventWeakness}},
		{name: "error, default filter", on: def, verdict: journal.VerdictError, want: []config.Event{config.EventError}},
		{name: "finished only hears every run", on: []config.Event{config.EventFinished}, verdict: journal.VerdictWeakness, want: []config.Event{config.EventFinished}},
		{name: "finished and weakness: one message, most specific", on: []config.Event{config.EventFinished, config.EventWeakness}, verdict: journal.VerdictWeakness, want: []config.Event{config.EventWeakness}},
		{name: "finished hears a pass", on: []config.Event{config.EventFinished}, verdict: journal.VerdictPassed, want: []config.Event{config.EventFinished}},
		{name: "started only", on: []config.Event{config.EventStarted}, verdict: journal.VerdictWeakness, want: nil},
		{name: "empty filter", on: []config.Event{}, verdict: journal.VerdictError, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{name: "slack"}
			e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: rec, On: tt.on}}})
			e.d.DispatchFinished(testRecord(tt.verdict))
			e.drain(t)
			msgs, _ := rec.got()
			var got []config.Event
			for _, m := range msgs {
				got = append(got, m.Event)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("events = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDispatchEventsAndPause(t *testing.T) {
	all := []config.Event{config.EventStarted, config.EventPaused, config.EventResumed}
	rec := &recorder{name: "webhook"}
	weak := &recorder{name: "slack"}
	e := newEnv(t, DispatcherOptions{
		ExternalURL: "https://chaosd.example/",
		Receivers:   []Receiver{{Notifier: rec, On: all}, {Notifier: weak, On: config.DefaultNotifyOn}},
	})
	r := testRecord("")
	e.d.Dispatch(config.EventStarted, r)
	r.Selection.Chosen[0].Name = "mutated-after-dispatch"
	r.Evidence[0].Labels["severity"] = "mutated"
	e.d.DispatchPause(config.EventPaused, "paused by alice: game day")
	e.drain(t)

	msgs, _ := rec.got()
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2: %+v", len(msgs), msgs)
	}
	started, paused := msgs[0], msgs[1]
	if started.Event != config.EventStarted || started.Run == nil || !started.At.Equal(t0) {
		t.Errorf("started message = %+v", started)
	}
	if got := started.Run.ReportURL; got != "https://chaosd.example/api/v1/runs/run-42/report" {
		t.Errorf("report URL = %q", got)
	}
	if started.Run.Targets[0].Name != "checkout" || started.Run.Evidence[0].Labels["severity"] != "critical" {
		t.Error("message shares memory with the caller's record")
	}
	if paused.Event != config.EventPaused || paused.Run != nil || paused.Text != "paused by alice: game day" {
		t.Errorf("paused message = %+v", paused)
	}
	if msgs, _ := weak.got(); len(msgs) != 0 {
		t.Errorf("default-filter receiver got %d messages for started/paused", len(msgs))
	}
}

func TestRetryThenSuccess(t *testing.T) {
	rec := &recorder{name: "slack", fail: func(n int) error {
		if n == 0 {
			return errRetryable // 500, then 200
		}
		return nil
	}}
	e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: rec, On: config.DefaultNotifyOn}}})
	e.d.DispatchFinished(testRecord(journal.VerdictWeakness))
	e.drain(t)
	msgs, calls := rec.got()
	if len(msgs) != 1 || calls != 2 {
		t.Errorf("delivered %d after %d calls, want 1 after 2", len(msgs), calls)
	}
	if got := e.counter(t, "chaosd_notifications_total", map[string]string{"receiver": "slack", "event": "weakness", "result": "sent"}); got != 1 {
		t.Errorf("sent counter = %v, want 1", got)
	}
	if got := e.counter(t, "chaosd_notifications_total", map[string]string{"result": "failed"}); got != 0 {
		t.Errorf("failed counter = %v, want 0", got)
	}
	if n := e.logs.FilterMessage("notification failed, will retry").Len(); n != 1 {
		t.Errorf("%d retry log lines, want 1", n)
	}
}

func TestRetryBounds(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		attempts  int
		wantCalls int
	}{
		{name: "retryable error stops after the attempts", err: errRetryable, attempts: 3, wantCalls: 3},
		{name: "plain error counts as retryable", err: fmt.Errorf("connection reset"), attempts: 2, wantCalls: 2},
		{name: "permanent error is not retried", err: errPermanent, attempts: 3, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{name: "webhook", fail: func(int) error { return tt.err }}
			e := newEnv(t, DispatcherOptions{Attempts: tt.attempts, Receivers: []Receiver{{Notifier: rec, On: config.DefaultNotifyOn}}})
			e.d.DispatchFinished(testRecord(journal.VerdictError))
			e.drain(t)
			if _, calls := rec.got(); calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if got := e.counter(t, "chaosd_notifications_total", map[string]string{"receiver": "webhook", "event": "error", "result": "failed"}); got != 1 {
				t.Errorf("failed counter = %v, want 1", got)
			}
			failed := e.logs.FilterMessage("notification failed").All()
			if len(failed) != 1 || failed[0].ContextMap()["run"] != "run-42" {
				t.Errorf("failure log = %+v", failed)
			}
		})
	}
}

func TestBackoffDoublesAndHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name    string
		backoff time.Duration
		err     error
		want    time.Duration
	}{
		{name: "plain backoff", backoff: time.Second, err: errRetryable, want: time.Second},
		{name: "retry-after lengthens", backoff: time.Second, err: &sendError{msg: "429", retryAfter: 5 * time.Second}, want: 5 * time.Second},
		{name: "retry-after capped", backoff: time.Second, err: &sendError{msg: "429", retryAfter: time.Hour}, want: 30 * time.Second},
		{name: "retry-after shorter than backoff", backoff: 8 * time.Second, err: &sendError{msg: "429", retryAfter: time.Second}, want: 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, got := retryable(tt.err, tt.backoff, 30*time.Second)
			if !ok || got != tt.want {
				t.Errorf("retryable = %v, %s; want true, %s", ok, got, tt.want)
			}
		})
	}
}

func TestDispatchNeverBlocks(t *testing.T) {
	stuck := &recorder{name: "slack", block: true}
	ok := &recorder{name: "webhook"}
	e := newEnv(t, DispatcherOptions{QueueSize: 2, Receivers: []Receiver{
		{Notifier: stuck, On: config.DefaultNotifyOn},
		{Notifier: ok, On: config.DefaultNotifyOn},
	}})
	e.d.DispatchFinished(testRecord(journal.VerdictWeakness))
	waitFor(t, "the first message in flight", func() bool { _, calls := stuck.got(); return calls == 1 })
	within(t, 2*time.Second, "Dispatch", func() {
		for range 9 {
			e.d.DispatchFinished(testRecord(journal.VerdictWeakness))
		}
	})
	// The stuck receiver holds one message in flight and two queued; the
	// other seven are dropped. The healthy receiver is not held up.
	if got := e.counter(t, "chaosd_notifications_dropped_total", map[string]string{"receiver": "slack"}); got != 7 {
		t.Errorf("dropped{slack} = %v, want 7", got)
	}
	if e.logs.FilterMessage("notification dropped").FilterField(zap.String("receiver", "slack")).Len() != 7 {
		t.Errorf("want a warning per dropped message")
	}
	waitFor(t, "the healthy receiver to get what was not dropped", func() bool {
		msgs, _ := ok.got()
		return len(msgs) == 10-int(e.counter(t, "chaosd_notifications_dropped_total", map[string]string{"receiver": "webhook"}))
	})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var err error
	within(t, 2*time.Second, "Close past its deadline", func() { err = e.d.Close(ctx) })
	if err == nil || !strings.Contains(err.Error(), "undelivered") {
		t.Errorf("Close err = %v, want an undelivered-messages error", err)
	}
	// The two queued behind the stuck one are dropped at shutdown.
	if got := e.counter(t, "chaosd_notifications_dropped_total", map[string]string{"receiver": "slack"}); got != 9 {
		t.Errorf("dropped{slack} after Close = %v, want 9", got)
	}
	within(t, time.Second, "Dispatch after Close", func() { e.d.DispatchFinished(testRecord(journal.VerdictWeakness)) })
	if got := e.counter(t, "chaosd_notifications_dropped_total", map[string]string{"receiver": "slack"}); got != 10 {
		t.Errorf("dropped{slack} after Dispatch on a closed dispatcher = %v, want 10", got)
	}
}

type panicky struct{}

func (panicky) Name() string                          { return "alertmanager" }
func (panicky) Notify(context.Context, Message) error { panic("unexpected success response") }

func TestPanickingNotifierIsContained(t *testing.T) {
	e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: panicky{}, On: config.DefaultNotifyOn}}})
	e.d.DispatchFinished(testRecord(journal.VerdictWeakness))
	e.drain(t)
	if got := e.counter(t, "chaosd_notifications_total", map[string]string{"receiver": "alertmanager", "result": "failed"}); got != 1 {
		t.Errorf("failed counter = %v, want 1", got)
	}
}

func TestMetricsSurviveReRegistration(t *testing.T) {
	e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: &recorder{name: "slack"}, On: config.DefaultNotifyOn}}})
	// A config reload builds a new Dispatcher on the same registry.
	d2, err := NewDispatcher(DispatcherOptions{Registerer: e.reg, Receivers: []Receiver{{Notifier: &recorder{name: "slack"}, On: config.DefaultNotifyOn}}})
	if err != nil {
		t.Fatalf("second NewDispatcher: %v", err)
	}
	d2.DispatchFinished(testRecord(journal.VerdictWeakness))
	if err := d2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.counter(t, "chaosd_notifications_total", map[string]string{"receiver": "slack", "result": "sent"}); got != 1 {
		t.Errorf("sent counter via second dispatcher = %v, want 1", got)
	}
	if got := e.d.Receivers(); fmt.Sprint(got) != "[slack]" {
		t.Errorf("Receivers = %v", got)
	}
}

// TestCountersStartAtZero: every receiver's counters exist at 0 before the
// first send, so increase() on a dashboard counts the first notification.
func TestCountersStartAtZero(t *testing.T) {
	e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: &recorder{name: "slack"}, On: config.DefaultNotifyOn}}})
	// weakness, alert-gap and error, each sent and failed
	if n := testutil.CollectAndCount(e.d.metrics.total, "chaosd_notifications_total"); n != 6 {
		t.Errorf("%d chaosd_notifications_total series before any send, want 6", n)
	}
	if got := e.counter(t, "chaosd_notifications_total", map[string]string{"receiver": "slack"}); got != 0 {
		t.Errorf("notifications before any send = %v, want 0", got)
	}
}
