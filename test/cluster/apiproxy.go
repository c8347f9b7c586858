package cluster

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// maxHold bounds how long a held request waits for Release: a test that
// forgets to release does not hang its client for longer.
const maxHold = 3 * time.Minute

// APIProxy stands between a client (chaosd) and the cluster's API server on
// 127.0.0.1, so a test can fault-inject that path while the API server
// itself keeps running: hold one request until the test releases it, delay
// matching requests, or refuse everything (Down) until Up.
//
// It serves HTTPS with its own certificate (trusted by Kubeconfig) and
// authenticates upstream as the cluster's admin, whatever credentials the
// client sent: it is a test fixture, not an access path.
type APIProxy struct {
	// Kubeconfig points at the proxy; give it to the client under test.
	Kubeconfig string
	// URL is https://127.0.0.1:port.
	URL string

	srv   *httptest.Server
	ln    *gateListener
	proxy *httputil.ReverseProxy

	mu    sync.Mutex
	holds []*Hold
	// barrier, once a held request's client has given up, is closed when
	// that request has been forwarded; requests arriving in between wait.
	barrier <-chan struct{}
	delays  []delay
	seen    []observer
	// closed ends every hold when the proxy stops.
	closed chan struct{}
}

type delay struct {
	match func(*http.Request) bool
	d     time.Duration
}

type observer struct {
	match func(*http.Request) bool
	n     *atomic.Int64
}

// NewAPIProxy starts a proxy in front of c's API server and stops it when
// the test ends (releasing anything still held).
func NewAPIProxy(t testing.TB, c *Cluster) *APIProxy {
	t.Helper()
	p, err := newAPIProxy(c.RESTConfig, t.TempDir())
	if err != nil {
		t.Fatalf("start API proxy: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// newAPIProxy forwards to the server of upstream with its credentials and
// writes the proxy's kubeconfig into dir.
func newAPIProxy(upstream *rest.Config, dir string) (*APIProxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("parse upstream %q: %w", upstream.Host, err)
	}
	if target.Scheme == "" {
		target.Scheme = "https"
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("upstream transport: %w", err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &APIProxy{ln: &gateListener{Listener: raw}, closed: make(chan struct{})}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			// The upstream transport adds the admin's credentials only
			// when the request carries none.
			r.Out.Header.Del("Authorization")
		},
		Transport:     transport,
		FlushInterval: -1, // watches stream
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.Listener = p.ln
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.StartTLS()
	p.URL = p.srv.URL

	p.Kubeconfig = filepath.Join(dir, "apiproxy.kubeconfig")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{Server: p.URL, CertificateAuthorityData: ca}
	cfg.AuthInfos[contextName] = &clientcmdapi.AuthInfo{}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	cfg.CurrentContext = contextName
	if err := clientcmd.WriteToFile(*cfg, p.Kubeconfig); err != nil {
		p.Close()
		return nil, fmt.Errorf("write proxy kubeconfig: %w", err)
	}
	return p, nil
}

// Close releases held requests and stops serving. Safe to call twice.
func (p *APIProxy) Close() {
	p.mu.Lock()
	select {
	case <-p.closed:
		p.mu.Unlock()
		return
	default:
		close(p.closed)
	}
	p.mu.Unlock()
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Down makes the API server unreachable through the proxy: open
// connections are closed, new ones are accepted and closed at once, so
// every request fails with a connection error until Up.
func (p *APIProxy) Down() {
	p.ln.down.Store(true)
	p.srv.CloseClientConnections()
}

// Up lets requests through again.
func (p *APIProxy) Up() { p.ln.down.Store(false) }

// Delay holds every request that matches for d (or until its client gives
// up) before forwarding it, from now until the proxy closes.
func (p *APIProxy) Delay(match func(*http.Request) bool, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delays = append(p.delays, delay{match: match, d: d})
}

// Count returns a counter of the requests that match, from now on, counted
// as soon as the proxy receives them (before any barrier, hold or delay).
func (p *APIProxy) Count(match func(*http.Request) bool) func() int64 {
	n := &atomic.Int64{}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, observer{match: match, n: n})
	return func() int64 { return n.Load() }
}

// HoldNext holds the next request that matches (only that one) until
// Release, then forwards it whether or not its client is still waiting:
// the write lands even though the client may have given up on it.
func (p *APIProxy) HoldNext(match func(*http.Request) bool) *Hold {
	return p.holdNext(match, true)
}

// HoldNextDetached holds the next request that matches like HoldNext, but
// lets every other request pass meanwhile, even after the held request's
// client gave up: the held write reaches the API server after whatever the
// client sent later, as behind a slow proxy or load balancer.
func (p *APIProxy) HoldNextDetached(match func(*http.Request) bool) *Hold {
	return p.holdNext(match, false)
}

func (p *APIProxy) holdNext(match func(*http.Request) bool, barrier bool) *Hold {
	h := &Hold{
		match:      match,
		barrier:    barrier,
		arrived:    make(chan struct{}),
		clientGone: make(chan struct{}),
		release:    make(chan struct{}),
		forwarded:  make(chan struct{}),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holds = append(p.holds, h)
	return h
}

// Hold is one request held by HoldNext.
type Hold struct {
	match   func(*http.Request) bool
	barrier bool // HoldNext's, not HoldNextDetached's

	arrived, clientGone, release, forwarded chan struct{}
	releaseOnce                             sync.Once

	// Set before arrived is closed.
	Method, Path string
	// Set before forwarded is closed: the API server's answer, or why the
	// request never reached it.
	Status int
	Err    error
}

// Arrived is closed once a matching request is being held.
func (h *Hold) Arrived() <-chan struct{} { return h.arrived }

// ClientGone is closed when the held request's client stops waiting (its
// context was cancelled or its connection closed). For HoldNext, from then
// until the held request has been forwarded, every other request through
// the proxy waits: the proxy applies a write it has accepted before what
// the client sends afterwards (such as a "did it land?" GET). The proxy
// notices the client leave a moment after it does (in the background), so a
// request the client sends at once may still pass first, as it may on a
// real API server: a test must accept either order.
func (h *Hold) ClientGone() <-chan struct{} { return h.clientGone }

// Release forwards the held request (or lets the next match pass if none
// arrived yet). Safe to call more than once.
func (h *Hold) Release() { h.releaseOnce.Do(func() { close(h.release) }) }

// Forwarded is closed once the released request got its answer upstream;
// Status and Err are then set.
func (h *Hold) Forwarded() <-chan struct{} { return h.forwarded }

func (p *APIProxy) serve(w http.ResponseWriter, r *http.Request) {
	if p.ln.down.Load() {
		panic(http.ErrAbortHandler) // closes the connection
	}
	p.mu.Lock()
	for _, o := range p.seen {
		if o.match(r) {
			o.n.Add(1)
		}
	}
	barrier := p.barrier
	p.mu.Unlock()
	if barrier != nil {
		t := time.NewTimer(maxHold)
		defer t.Stop()
		select {
		case <-barrier:
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-p.closed:
		}
	}
	p.mu.Lock()
	var hold *Hold
	for i, h := range p.holds {
		if h.match(r) {
			hold = h
			p.holds = append(p.holds[:i:i], p.holds[i+1:]...)
			break
		}
	}
	var wait time.Duration
	for _, d := range p.delays {
		if d.match(r) {
			wait = max(wait, d.d)
		}
	}
	p.mu.Unlock()

	if hold != nil {
		p.serveHeld(w, r, hold)
		return
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-p.closed:
		}
	}
	p.proxy.ServeHTTP(w, r)
}

// serveHeld reads the whole body first (a client that gives up takes its
// connection with it), waits for Release, then sends the request upstream
// on a context its client cannot cancel.
func (p *APIProxy) serveHeld(w http.ResponseWriter, r *http.Request, h *Hold) {
	body, err := io.ReadAll(r.Body)
	h.Method, h.Path = r.Method, r.URL.Path
	close(h.arrived)
	if err != nil {
		h.Err = fmt.Errorf("read held request body: %w", err)
		close(h.forwarded)
		return
	}
	go func() {
		select {
		case <-r.Context().Done():
			if h.barrier {
				p.mu.Lock()
				p.barrier = h.forwarded
				p.mu.Unlock()
			}
			close(h.clientGone)
		case <-h.forwarded:
		}
	}()
	t := time.NewTimer(maxHold)
	defer t.Stop()
	select {
	case <-h.release:
	case <-t.C:
	case <-p.closed:
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	out := r.Clone(ctx)
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	rec := &captureWriter{header: http.Header{}, w: w, clientGone: r.Context().Done()}
	p.proxy.ServeHTTP(rec, out)
	h.Status = rec.status
	if rec.status == 0 || rec.status == http.StatusBadGateway {
		h.Err = errors.New("the API server did not answer the held request")
	}
	close(h.forwarded)
}

// captureWriter records the status and passes the response on to a client
// that is still there.
type captureWriter struct {
	header     http.Header
	w          http.ResponseWriter
	clientGone <-chan struct{}
	status     int
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(status int) {
	c.status = status
	if c.gone() {
		return
	}
	for k, v := range c.header {
		c.w.Header()[k] = v
	}
	c.w.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.gone() {
		return len(b), nil
	}
	return c.w.Write(b)
}

// Flush lets a streamed answer through to a client that is still there.
func (c *captureWriter) Flush() {
	if f, ok := c.w.(http.Flusher); ok && !c.gone() {
		f.Flush()
	}
}

func (c *captureWriter) gone() bool {
	select {
	case <-c.clientGone:
		return true
	default:
		return false
	}
}

// gateListener accepts and at once closes connections while down.
type gateListener struct {
	net.Listener
	down atomic.Bool
}

func (l *gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.down.Load() {
			return c, err
		}
		_ = c.Close()
	}
}
