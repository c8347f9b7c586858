package guard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// amWebhook is an Alertmanager webhook notification (version 4) as sent by
// the webhook receiver.
func amWebhook(status, alertname string) string {
	return `{"receiver":"chaosd","status":"` + status + `","alerts":[{"status":"` + status + `",` +
		`"labels":{"alertname":"` + alertname + `","severity":"critical"},"annotations":{"summary":"x"},` +
		`"startsAt":"2023-11-14T22:10:00Z","endsAt":"0001-01-01T00:00:00Z",` +
		`"generatorURL":"http://prometheus:9090/graph","fingerprint":"a1b2c3d4e5f60718"}],` +
		`"groupLabels":{"alertname":"` + alertname + `"},"commonLabels":{"alertname":"` + alertname + `"},` +
		`"commonAnnotations":{},"externalURL":"http://alertmanager:9093","version":"4",` +
		`"groupKey":"{}:{alertname=\"` + alertname + `\"}","truncatedAlerts":0}`
}

func TestWebhookHandler(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		wantNudge  bool
	}{
		{name: "firing alert nudges", method: http.MethodPost, body: amWebhook("firing", "HighErrorRate"), wantStatus: http.StatusOK, wantNudge: true},
		{name: "resolved alert does not", method: http.MethodPost, body: amWebhook("resolved", "HighErrorRate"), wantStatus: http.StatusOK},
		{name: "chaosd's own alert does not", method: http.MethodPost, body: amWebhook("firing", WeaknessAlertName), wantStatus: http.StatusOK},
		{name: "malformed payload", method: http.MethodPost, body: `{"alerts":[`, wantStatus: http.StatusBadRequest},
		{name: "too large", method: http.MethodPost, body: `{"x":"` + strings.Repeat("a", maxWebhookBytes) + `"}`, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "wrong method", method: http.MethodGet, wantStatus: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NewNudger()
			nudges, unsubscribe := n.Subscribe()
			defer unsubscribe()
			rec := httptest.NewRecorder()

			NewWebhookHandler(n, nil).ServeHTTP(rec, httptest.NewRequest(tt.method, "/alertmanager", strings.NewReader(tt.body)))

			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			select {
			case <-nudges:
				if !tt.wantNudge {
					t.Error("nudged, want no nudge")
				}
			default:
				if tt.wantNudge {
					t.Error("not nudged")
				}
			}
		})
	}
}

func TestNudger(t *testing.T) {
	n := NewNudger()
	a, unsubA := n.Subscribe()
	b, unsubB := n.Subscribe()
	defer unsubB()

	n.Nudge()
	n.Nudge() // coalesces; must not block

	t.Run("every subscriber is nudged once", func(t *testing.T) {
		for name, ch := range map[string]<-chan struct{}{"a": a, "b": b} {
			<-ch
			select {
			case <-ch:
				t.Errorf("%s nudged twice", name)
			default:
			}
		}
	})
	t.Run("unsubscribed channels are left alone", func(t *testing.T) {
		unsubA()
		unsubA() // idempotent
		n.Nudge()
		select {
		case <-a:
			t.Error("unsubscribed channel nudged")
		default:
		}
		<-b
	})
}
