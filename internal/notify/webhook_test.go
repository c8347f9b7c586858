package notify

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
)

func TestWebhookPayload(t *testing.T) {
	nan := math.NaN()
	withNaN := testRecord(journal.VerdictWeakness)
	withNaN.Evidence = append(withNaN.Evidence, journal.Evidence{Source: journal.SourcePrometheus, Name: "ratio", Value: &nan})

	tests := []struct {
		name     string
		dispatch func(d *Dispatcher)
		wantKeys []string
		check    func(t *testing.T, p map[string]any)
	}{
		{
			name:     "weakness",
			dispatch: func(d *Dispatcher) { d.DispatchFinished(testRecord(journal.VerdictWeakness)) },
			wantKeys: []string{"action", "at", "event", "evidence", "experiment", "finishedAt", "reason", "reportURL", "runId", "startedAt", "targets", "verdict", "version"},
			check: func(t *testing.T, p map[string]any) {
				want := map[string]any{
					"version": 1.0, "event": "weakness", "runId": "run-42", "experiment": "checkout-abort", "action": "http-abort",
					"verdict": "weakness", "reason": "alert CheckoutErrorRate fired during the hold",
					"startedAt": "2025-03-14T09:00:00Z", "finishedAt": "2025-03-14T09:01:30Z", "at": "2025-03-14T09:00:00Z",
					"reportURL": "https://chaosd.example/api/v1/runs/run-42/report",
				}
				for k, v := range want {
					if p[k] != v {
						t.Errorf("%s = %v, want %v", k, p[k], v)
					}
				}
				tg := p["targets"].([]any)[0].(map[string]any)
				if tg["kind"] != "virtualservice" || tg["namespace"] != "shop" || tg["name"] != "checkout" {
					t.Errorf("targets[0] = %v", tg)
				}
				ev := p["evidence"].([]any)
				if len(ev) != 2 || ev[1].(map[string]any)["value"] != 0.42 {
					t.Errorf("evidence = %v", ev)
				}
			},
		},
		{
			name:     "resumed has no run fields",
			dispatch: func(d *Dispatcher) { d.DispatchPause(config.EventResumed, "resumed by bob") },
			wantKeys: []string{"at", "event", "message", "version"},
			check: func(t *testing.T, p map[string]any) {
				if p["event"] != "resumed" || p["message"] != "resumed by bob" {
					t.Errorf("payload = %v", p)
				}
			},
		},
		{
			name:     "NaN evidence still encodes",
			dispatch: func(d *Dispatcher) { d.DispatchFinished(withNaN) },
			wantKeys: []string{"action", "at", "event", "evidence", "experiment", "finishedAt", "reason", "reportURL", "runId", "startedAt", "targets", "verdict", "version"},
			check: func(t *testing.T, p map[string]any) {
				last := p["evidence"].([]any)[2].(map[string]any)
				if _, has := last["value"]; has || last["message"] != "value NaN" {
					t.Errorf("NaN evidence = %v", last)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := newReceiver(t)
			wh := NewWebhook(URLSource{Value: rv.URL + "/hooks/chaos"}, nil)
			e := newEnv(t, DispatcherOptions{
				ExternalURL: "https://chaosd.example",
				Receivers:   []Receiver{{Notifier: wh, On: []config.Event{config.EventWeakness, config.EventResumed}}},
			})
			tt.dispatch(e.d)
			e.drain(t)
			bodies := rv.received()
			if len(bodies) != 1 {
				t.Fatalf("receiver got %d posts, want 1", len(bodies))
			}
			var p map[string]any
			if err := json.Unmarshal(bodies[0], &p); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(p)); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("keys = %v, want %v", got, tt.wantKeys)
			}
			tt.check(t, p)
		})
	}
}

func TestWebhookRetriesServerErrors(t *testing.T) {
	rv := newReceiver(t, 503)
	e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: NewWebhook(URLSource{Value: rv.URL}, nil), On: config.DefaultNotifyOn}}})
	e.d.DispatchFinished(testRecord(journal.VerdictError))
	e.drain(t)
	if n := len(rv.received()); n != 2 {
		t.Errorf("receiver got %d posts, want 2 (503, then 200)", n)
	}
	if got := e.counter(t, "chaosd_notifications_total", map[string]string{"receiver": "webhook", "event": "error", "result": "sent"}); got != 1 {
		t.Errorf("sent counter = %v", got)
	}
}

func TestWebhookDoesNotFollowRedirects(t *testing.T) {
	target := newReceiver(t)
	redirector := httptest.NewServer(redirectTo(target.URL))
	defer redirector.Close()
	err := NewWebhook(URLSource{Value: redirector.URL}, nil).Notify(context.Background(), weaknessMessage())
	if err == nil {
		t.Fatal("a redirect must fail the send")
	}
	if len(target.received()) != 0 {
		t.Error("payload followed the redirect")
	}
}

func redirectTo(url string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, url, http.StatusTemporaryRedirect)
	})
}
