package cluster

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDemoExporter(t *testing.T) {
	e, err := NewDemoExporter()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !strings.HasPrefix(e.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %s, want loopback", e.Addr())
	}
	scrape := func() string {
		resp, err := http.Get(e.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	initial := scrape()
	for _, want := range []string{"demo_up 1", "demo_healthy 1", `http_requests_total{code="200"} 0`} {
		if !strings.Contains(initial, want) {
			t.Errorf("initial scrape lacks %q:\n%s", want, initial)
		}
	}
	e.SetHealthy(false)
	e.SetUp(false)
	e.AddRequests("500", 3)
	later := scrape()
	for _, want := range []string{"demo_up 0", "demo_healthy 0", `http_requests_total{code="500"} 3`} {
		if !strings.Contains(later, want) {
			t.Errorf("scrape lacks %q:\n%s", want, later)
		}
	}
}
