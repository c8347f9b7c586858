package cluster

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// fakeAPIServer records what reaches it and answers 200 with the method.
type fakeAPIServer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []string // "METHOD path auth body"
	hits chan struct{}
}

func newFakeAPIServer(t *testing.T) *fakeAPIServer {
	f := &fakeAPIServer{hits: make(chan struct{}, 100)}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, strings.Join([]string{r.Method, r.URL.Path, r.Header.Get("Authorization"), string(body)}, " "))
		f.mu.Unlock()
		f.hits <- struct{}{}
		_, _ = io.WriteString(w, r.Method)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPIServer) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// startTestProxy puts a proxy in front of a fake API server and returns an
// HTTP client built from the proxy's kubeconfig, as chaosd would build it.
func startTestProxy(t *testing.T) (*APIProxy, *fakeAPIServer, *http.Client, string) {
	t.Helper()
	up := newFakeAPIServer(t)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw})
	p, err := newAPIProxy(&rest.Config{Host: up.URL, BearerToken: "admin-token", TLSClientConfig: rest.TLSClientConfig{CAData: ca}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if !strings.HasPrefix(p.URL, "https://127.0.0.1:") {
		t.Fatalf("proxy URL %s, want https on 127.0.0.1", p.URL)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", p.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BearerToken = "client-token" // must not reach the API server
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client.Timeout = 10 * time.Second
	t.Cleanup(client.CloseIdleConnections)
	return p, up, client, p.URL
}

func do(ctx context.Context, c *http.Client, method, url, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestAPIProxyForwardsAsAdmin(t *testing.T) {
	_, up, client, url := startTestProxy(t)
	if code, err := do(context.Background(), client, http.MethodGet, url+"/api/v1/nodes", ""); err != nil || code != 200 {
		t.Fatalf("GET through the proxy: %d %v", code, err)
	}
	got := up.received()
	if len(got) != 1 || got[0] != "GET /api/v1/nodes Bearer admin-token " {
		t.Fatalf("the API server received %q, want one GET with the admin's token", got)
	}
}

func TestAPIProxyHoldLandsAfterClientGaveUp(t *testing.T) {
	p, up, client, url := startTestProxy(t)
	isPut := func(r *http.Request) bool { return r.Method == http.MethodPut }
	h := p.HoldNext(isPut)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clientErr := make(chan error, 1)
	go func() {
		_, err := do(ctx, client, http.MethodPut, url+"/apis/x/v1/things/a", "the write")
		clientErr <- err
	}()
	waitClosed(t, h.Arrived(), "the PUT to be held")
	if got := up.received(); len(got) != 0 {
		t.Fatalf("the held PUT reached the API server before Release: %q", got)
	}
	cancel()
	waitClosed(t, h.ClientGone(), "the proxy to see the client give up")
	if err := <-clientErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v, want context.Canceled", err)
	}
	// The client's next request (did the write land?) waits for the
	// held write: it sees the write applied.
	gets := p.Count(func(r *http.Request) bool { return r.Method == http.MethodGet })
	check := make(chan []string, 1)
	go func() {
		_, _ = do(context.Background(), client, http.MethodGet, url+"/apis/x/v1/things/a", "")
		check <- up.received()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for gets() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if gets() == 0 {
		t.Fatal("the GET never reached the proxy")
	}
	h.Release()
	waitClosed(t, h.Forwarded(), "the released PUT to be forwarded")
	if h.Status != 200 || h.Err != nil || h.Method != http.MethodPut || h.Path != "/apis/x/v1/things/a" {
		t.Fatalf("hold %s %s: status %d err %v, want PUT /apis/x/v1/things/a answered 200", h.Method, h.Path, h.Status, h.Err)
	}
	if got := <-check; len(got) != 2 || got[0] != "PUT /apis/x/v1/things/a Bearer admin-token the write" || !strings.HasPrefix(got[1], "GET ") {
		t.Fatalf("the API server received %q, want the held PUT with its body, then the GET", got)
	}
	// Only the next match is held: the following PUT passes.
	if code, err := do(context.Background(), client, http.MethodPut, url+"/apis/x/v1/things/a", "again"); err != nil || code != 200 {
		t.Fatalf("second PUT: %d %v", code, err)
	}
}

func TestAPIProxyDownAndUp(t *testing.T) {
	p, up, client, url := startTestProxy(t)
	if code, err := do(context.Background(), client, http.MethodGet, url+"/healthz", ""); err != nil || code != 200 {
		t.Fatalf("GET before Down: %d %v", code, err)
	}
	p.Down()
	for i := range 3 { // fresh and reused connections alike
		if code, err := do(context.Background(), client, http.MethodGet, url+"/healthz", ""); err == nil {
			t.Fatalf("GET %d while down answered %d, want a connection error", i, code)
		}
	}
	if n := len(up.received()); n != 1 {
		t.Fatalf("%d requests reached the API server, want only the one before Down", n)
	}
	p.Up()
	if code, err := do(context.Background(), client, http.MethodGet, url+"/healthz", ""); err != nil || code != 200 {
		t.Fatalf("GET after Up: %d %v", code, err)
	}
}

func TestAPIProxyDelayAndCount(t *testing.T) {
	p, _, client, url := startTestProxy(t)
	isSlow := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/slow") }
	p.Delay(isSlow, 300*time.Millisecond)
	slow := p.Count(isSlow)

	if code, err := do(context.Background(), client, http.MethodGet, url+"/fast", ""); err != nil || code != 200 {
		t.Fatalf("GET /fast: %d %v", code, err)
	}
	start := time.Now()
	if code, err := do(context.Background(), client, http.MethodGet, url+"/slow", ""); err != nil || code != 200 {
		t.Fatalf("GET /slow: %d %v", code, err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("GET /slow took %s, want the 300ms delay", took)
	}
	if n := slow(); n != 1 {
		t.Fatalf("counted %d matching requests, want 1", n)
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
