package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
)

// Receiver is a Notifier and the events it wants.
type Receiver struct {
	Notifier Notifier
	// On lists the events sent to this receiver (config applies the
	// default, weakness and error). Empty means none.
	On []config.Event
}

// Defaults for DispatcherOptions.
const (
	DefaultQueueSize      = 64
	DefaultAttempts       = 3
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	DefaultSendTimeout    = 10 * time.Second
)

// DispatcherOptions configure a Dispatcher; zero values take the defaults.
type DispatcherOptions struct {
	Receivers  []Receiver
	Logger     *zap.Logger
	Registerer prometheus.Registerer // nil: metrics are kept but not exported
	Clock      clock.Clock           // backoff waits and Message.At
	// ExternalURL is chaosd's own address, for report links.
	ExternalURL string
	// QueueSize bounds each receiver's queue; when full, new messages
	// for that receiver are dropped and counted.
	QueueSize int
	// Attempts per message, including the first (so 3 = 2 retries).
	Attempts int
	// InitialBackoff doubles after each failed attempt up to MaxBackoff.
	// A Retry-After from the receiver lengthens a wait (up to MaxBackoff).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// SendTimeout bounds each attempt.
	SendTimeout time.Duration
}

// Dispatcher sends notifications in the background.
//
//   - Dispatch only copies what it needs and enqueues: it never blocks and
//     never returns an error, so a notification can never hold up or fail
//     a run.
//   - Each receiver has its own bounded queue and worker, so a slow Slack
//     does not delay the webhook. A full queue drops the message with a
//     warning and chaosd_notifications_dropped_total.
//   - Failed sends are retried with bounded exponential backoff on the
//     injected clock; 4xx answers (except 429) are not retried.
//   - Close stops intake and drains the queues until its context ends,
//     then abandons (and counts) whatever is left.
type Dispatcher struct {
	log     *zap.Logger
	clock   clock.Clock
	opts    DispatcherOptions
	metrics *metrics
	queues  []*queue

	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex
	closed bool
}

type queue struct {
	name string
	n    Notifier
	on   []config.Event
	ch   chan Message
}

// NewDispatcher starts one worker per receiver. It fails only when the
// metrics cannot be registered.
func NewDispatcher(opts DispatcherOptions) (*Dispatcher, error) {
	setDefaults(&opts)
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("notification metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{log: opts.Logger, clock: opts.Clock, opts: opts, metrics: m, ctx: ctx, cancel: cancel}
	for _, r := range opts.Receivers {
		if r.Notifier == nil {
			continue
		}
		q := &queue{name: r.Notifier.Name(), n: r.Notifier, on: slices.Clone(r.On), ch: make(chan Message, opts.QueueSize)}
		// Export 0 from the start, so increase() sees the first one.
		m.dropped.WithLabelValues(q.name)
		for _, ev := range q.on {
			m.total.WithLabelValues(q.name, string(ev), resultSent)
			m.total.WithLabelValues(q.name, string(ev), resultFailed)
		}
		d.queues = append(d.queues, q)
		d.wg.Add(1)
		go d.work(q)
	}
	return d, nil
}

func setDefaults(o *DispatcherOptions) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
}

// Receivers names the configured receivers (never their URLs).
func (d *Dispatcher) Receivers() []string {
	out := make([]string, 0, len(d.queues))
	for _, q := range d.queues {
		out = append(out, q.name)
	}
	return out
}

// Dispatch announces ev about rec to every receiver subscribed to ev.
func (d *Dispatcher) Dispatch(ev config.Event, rec journal.Record) {
	run := runFrom(rec, ReportLink(d.opts.ExternalURL, rec.RunID))
	d.enqueue([]config.Event{ev}, Message{At: d.clock.Now(), Run: run})
}

// DispatchFinished announces a finished run. A receiver subscribed to the
// verdict's own event (weakness, error) or to finished gets one message,
// under the most specific event it asked for. Under the default filter a
// passing run notifies nobody.
func (d *Dispatcher) DispatchFinished(rec journal.Record) {
	events := []config.Event{config.EventFinished}
	if ev := EventFor(rec.Verdict); ev != config.EventFinished {
		events = []config.Event{ev, config.EventFinished}
	}
	run := runFrom(rec, ReportLink(d.opts.ExternalURL, rec.RunID))
	d.enqueue(events, Message{At: d.clock.Now(), Run: run})
}

// DispatchPause announces paused or resumed; text says why and by whom.
func (d *Dispatcher) DispatchPause(ev config.Event, text string) {
	d.enqueue([]config.Event{ev}, Message{At: d.clock.Now(), Text: text})
}

// enqueue offers m to each receiver under the first of events it wants.
func (d *Dispatcher) enqueue(events []config.Event, m Message) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, q := range d.queues {
		i := slices.IndexFunc(events, func(ev config.Event) bool { return slices.Contains(q.on, ev) })
		if i < 0 {
			continue
		}
		qm := m
		qm.Event = events[i]
		if d.closed {
			d.drop(q, qm, "dispatcher closed")
			continue
		}
		select {
		case q.ch <- qm:
		default:
			d.drop(q, qm, "queue full")
		}
	}
}

func (d *Dispatcher) drop(q *queue, m Message, why string) {
	d.metrics.dropped.WithLabelValues(q.name).Inc()
	d.log.Warn("notification dropped", append(msgFields(q, m), zap.String("reason", why))...)
}

func msgFields(q *queue, m Message) []zap.Field {
	f := []zap.Field{zap.String("receiver", q.name), zap.String("event", string(m.Event))}
	if m.Run != nil {
		f = append(f, zap.String("run", m.Run.ID), zap.String("experiment", m.Run.Experiment))
	}
	return f
}

func (d *Dispatcher) work(q *queue) {
	defer d.wg.Done()
	for m := range q.ch {
		if d.ctx.Err() != nil {
			d.drop(q, m, "shutdown deadline passed")
			continue
		}
		d.deliver(q, m)
	}
}

// deliver tries m up to Attempts times and records the outcome.
func (d *Dispatcher) deliver(q *queue, m Message) {
	log := d.log.With(msgFields(q, m)...)
	backoff := d.opts.InitialBackoff
	for attempt := 1; ; attempt++ {
		err := d.send(q, m)
		if err == nil {
			d.metrics.sent(q.name, m.Event, resultSent)
			log.Debug("notification sent", zap.Int("attempt", attempt))
			return
		}
		retry, wait := retryable(err, backoff, d.opts.MaxBackoff)
		if !retry || attempt >= d.opts.Attempts || d.ctx.Err() != nil {
			d.metrics.sent(q.name, m.Event, resultFailed)
			log.Warn("notification failed", zap.Int("attempts", attempt), zap.Error(err))
			return
		}
		log.Info("notification failed, will retry", zap.Int("attempt", attempt), zap.Duration("backoff", wait), zap.Error(err))
		if !d.sleep(wait) {
			d.metrics.sent(q.name, m.Event, resultFailed)
			log.Warn("notification abandoned at shutdown", zap.Int("attempts", attempt), zap.Error(err))
			return
		}
		backoff = min(2*backoff, d.opts.MaxBackoff)
	}
}

// send runs one attempt with a timeout, turning a panicking notifier (the
// generated Alertmanager client panics on contract violations) into an error.
func (d *Dispatcher) send(q *queue, m Message) (err error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.opts.SendTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = &sendError{msg: fmt.Sprintf("%s notifier panicked: %v", q.name, p), permanent: true}
		}
	}()
	return q.n.Notify(ctx, m)
}

func (d *Dispatcher) sleep(wait time.Duration) bool {
	t := d.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-d.ctx.Done():
		return false
	}
}

// Close stops accepting messages and waits for the queues to drain. When
// ctx ends first, in-flight sends are cancelled, what is left is dropped
// and counted, and Close returns an error saying so.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for _, q := range d.queues {
		close(q.ch)
	}
	d.mu.Unlock()

	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return fmt.Errorf("close notifications: undelivered messages dropped: %w", ctx.Err())
	}
}

// sendError is a delivery failure whose message is already redacted, with
// what the receiver said about retrying.
type sendError struct {
	msg        string
	permanent  bool
	retryAfter time.Duration
}

func (e *sendError) Error() string { return e.msg }

// retryable says whether err is worth another attempt, and after how long.
func retryable(err error, backoff, maxBackoff time.Duration) (bool, time.Duration) {
	var se *sendError
	if errors.As(err, &se) {
		if se.permanent {
			return false, 0
		}
		backoff = min(max(backoff, se.retryAfter), maxBackoff)
	}
	return true, backoff
}
