package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// t0 is the fake "now" of every test.
var t0 = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// amAlertJSON renders one alert exactly as Alertmanager's GET /api/v2/alerts
// does (a gettableAlert).
func amAlertJSON(labels map[string]string, state string, silencedBy, inhibitedBy []string) map[string]any {
	if silencedBy == nil {
		silencedBy = []string{}
	}
	if inhibitedBy == nil {
		inhibitedBy = []string{}
	}
	return map[string]any{
		"annotations":  map[string]string{"summary": "something is wrong"},
		"endsAt":       "2023-11-14T22:18:20.000Z",
		"fingerprint":  "fp-" + labels["alertname"],
		"receivers":    []map[string]string{{"name": "default"}},
		"startsAt":     "2023-11-14T22:10:00.000Z",
		"updatedAt":    "2023-11-14T22:13:20.123Z",
		"generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
		"labels":       labels,
		"status": map[string]any{
			"inhibitedBy": inhibitedBy,
			"silencedBy":  silencedBy,
			"mutedBy":     []string{},
			"state":       state,
		},
	}
}

func active(labels map[string]string) map[string]any {
	return amAlertJSON(labels, "active", nil, nil)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// canned is a fixed HTTP answer; a zero status means 200.
type canned struct {
	status      int
	contentType string
	body        string
	hang        bool // never answer until the client gives up
}

func jsonAnswer(body string) canned { return canned{body: body} }

// fakeServer serves canned answers by path (and, for Prometheus queries, by
// the query expression) and records every request.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	answers  map[string]canned // key: path, or "query:"+expr
	requests []url.Values      // form values of each request
	paths    []string
	auth     []string
}

func newFakeServer(t *testing.T, answers map[string]canned) *fakeServer {
	t.Helper()
	f := &fakeServer{answers: answers}
	release := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // reads a POST body, so a client hang-up cancels r.Context()
		f.mu.Lock()
		f.requests = append(f.requests, r.Form)
		f.paths = append(f.paths, r.URL.Path)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		a, ok := f.answers["query:"+r.Form.Get("query")]
		if !ok {
			a, ok = f.answers[r.URL.Path]
		}
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if a.hang {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		ct := a.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(release) }) // runs first: unblock hung handlers
	return f
}

func (f *fakeServer) lastRequest() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil
	}
	return f.requests[len(f.requests)-1]
}

// promSuccess wraps data in Prometheus' success envelope.
func promSuccess(data string) string { return `{"status":"success","data":` + data + `}` }

func promVector(result string) canned {
	return jsonAnswer(promSuccess(`{"resultType":"vector","result":` + result + `}`))
}

func guardConfig(am *config.AlertmanagerGuard, prom *config.PrometheusGuard) config.Guard {
	return config.Guard{
		Alertmanager: am,
		Prometheus:   prom,
		PollInterval: time.Second,
		Timeout:      2 * time.Second,
		OnUnknown:    config.UnknownRevert,
		UnknownAfter: 3 * time.Second,
		Cooldown:     config.Cooldown{Duration: 10 * time.Minute},
	}
}

func ptr[T any](v T) *T { return &v }
