package guard

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"go.uber.org/zap"
)

// Nudger fans a nudge out to every subscribed watcher. Nudges coalesce: a
// subscriber that has not yet taken the last one gets no second one.
type Nudger struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// NewNudger returns a Nudger without subscribers.
func NewNudger() *Nudger { return &Nudger{subs: map[chan struct{}]struct{}{}} }

var _ NudgeSource = (*Nudger)(nil)

// Subscribe returns a channel of nudges and the function that ends the
// subscription; call it when done, or the Nudger keeps the channel.
func (n *Nudger) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	n.subs[ch] = struct{}{}
	n.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			n.mu.Lock()
			delete(n.subs, ch)
			n.mu.Unlock()
		})
	}
}

// Nudge wakes every subscriber without blocking.
func (n *Nudger) Nudge() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// maxWebhookBytes bounds a webhook payload; Alertmanager's own groups stay
// well below it.
const maxWebhookBytes = 4 << 20

// webhookMessage is the part of Alertmanager's webhook payload (version 4)
// the receiver reads.
type webhookMessage struct {
	Version string `json:"version"`
	Status  string `json:"status"`
	Alerts  []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// firing reports whether the message carries a firing alert other than
// chaosd's own weakness alert, which must not make chaosd look again.
func (m webhookMessage) firing() bool {
	for _, a := range m.Alerts {
		if a.Status == "firing" && a.Labels["alertname"] != WeaknessAlertName {
			return true
		}
	}
	return false
}

// NewWebhookHandler receives Alertmanager webhook notifications and nudges
// the watchers when an alert fires, so a halt does not wait for the next
// poll. It decides nothing itself: the watchers re-evaluate the guard, so a
// forged request can cost one evaluation but never halt a run.
func NewWebhookHandler(n *Nudger, log *zap.Logger) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var msg webhookMessage
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBytes)).Decode(&msg); err != nil {
			status := http.StatusBadRequest
			if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
				status = http.StatusRequestEntityTooLarge
			}
			log.Debug("bad alertmanager webhook", zap.Error(err))
			http.Error(w, "bad alertmanager webhook payload", status)
			return
		}
		if msg.Version != "" && msg.Version != "4" {
			log.Debug("unexpected alertmanager webhook version", zap.String("version", msg.Version))
		}
		if msg.firing() {
			n.Nudge()
		}
		w.WriteHeader(http.StatusOK)
	})
}
