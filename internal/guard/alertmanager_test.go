package guard

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
)

func newAMGuard(t *testing.T, url string, block, ignore []string, timeout time.Duration) *Guard {
	t.Helper()
	cfg := guardConfig(&config.AlertmanagerGuard{URL: url, Block: block, Ignore: ignore}, nil)
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	g, err := New(cfg, Options{Clock: clocktesting.NewFakeClock(t0)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func TestAlertmanagerMatchers(t *testing.T) {
	alert := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name        string
		block       []string
		ignore      []string
		alerts      []map[string]any
		wantBlocked []string // alertnames, in evidence order
	}{
		{name: "no alerts is ok", alerts: nil},
		{
			name:        "empty block: every active alert blocks",
			alerts:      []map[string]any{active(alert("alertname", "A", "severity", "info"))},
			wantBlocked: []string{"A"},
		},
		{
			name:  "equal",
			block: []string{`severity="critical"`},
			alerts: []map[string]any{
				active(alert("alertname", "Crit", "severity", "critical")),
				active(alert("alertname", "Warn", "severity", "warning")),
			},
			wantBlocked: []string{"Crit"},
		},
		{
			name:  "not equal also matches a missing label",
			block: []string{`severity!="info"`},
			alerts: []map[string]any{
				active(alert("alertname", "Info", "severity", "info")),
				active(alert("alertname", "Warn", "severity", "warning")),
				active(alert("alertname", "NoSeverity")),
			},
			wantBlocked: []string{"NoSeverity", "Warn"},
		},
		{
			name:  "regex is anchored",
			block: []string{`severity=~"critical|warning"`},
			alerts: []map[string]any{
				active(alert("alertname", "Warn", "severity", "warning")),
				active(alert("alertname", "Warn2", "severity", "warning2")),
				active(alert("alertname", "Info", "severity", "info")),
			},
			wantBlocked: []string{"Warn"},
		},
		{
			name:  "negative regex",
			block: []string{`namespace!~"dev-.*"`},
			alerts: []map[string]any{
				active(alert("alertname", "Dev", "namespace", "dev-a")),
				active(alert("alertname", "Prod", "namespace", "prod")),
			},
			wantBlocked: []string{"Prod"},
		},
		{
			name:  "all block matchers must match",
			block: []string{`severity="critical"`, `team="shop"`},
			alerts: []map[string]any{
				active(alert("alertname", "Both", "severity", "critical", "team", "shop")),
				active(alert("alertname", "OnlySeverity", "severity", "critical", "team", "infra")),
			},
			wantBlocked: []string{"Both"},
		},
		{
			name:   "ignore needs all its matchers",
			ignore: []string{`team="sandbox"`, `severity="info"`},
			alerts: []map[string]any{
				active(alert("alertname", "Ignored", "team", "sandbox", "severity", "info")),
				active(alert("alertname", "HalfIgnored", "team", "sandbox", "severity", "critical")),
			},
			wantBlocked: []string{"HalfIgnored"},
		},
		{
			name:   "ignore wins over block",
			block:  []string{`severity="critical"`},
			ignore: []string{`alertname=~"Watchdog|InfoInhibitor"`},
			alerts: []map[string]any{
				active(alert("alertname", "Watchdog", "severity", "critical")),
			},
		},
		{
			name: "chaosd's own weakness alert never blocks",
			alerts: []map[string]any{
				active(alert("alertname", WeaknessAlertName, "severity", "critical")),
			},
		},
		{
			name: "silenced and inhibited alerts are ignored even if the server sends them",
			alerts: []map[string]any{
				amAlertJSON(alert("alertname", "Silenced"), "suppressed", []string{"0b1f-silence"}, nil),
				amAlertJSON(alert("alertname", "Inhibited"), "suppressed", nil, []string{"fp-root"}),
				amAlertJSON(alert("alertname", "SilencedButActive"), "active", []string{"0b1f-silence"}, nil),
			},
		},
		{
			name:        "unprocessed alerts block: fail closed",
			alerts:      []map[string]any{amAlertJSON(alert("alertname", "New"), "unprocessed", nil, nil)},
			wantBlocked: []string{"New"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.alerts == nil {
				tt.alerts = []map[string]any{}
			}
			srv := newFakeServer(t, map[string]canned{"/api/v2/alerts": jsonAnswer(mustJSON(t, tt.alerts))})
			g := newAMGuard(t, srv.URL, tt.block, tt.ignore, 0)

			ev := g.Poll(context.Background())

			var got []string
			for _, a := range ev.Alerts {
				got = append(got, a.Name)
			}
			if !slices.Equal(got, tt.wantBlocked) {
				t.Errorf("blocking alerts = %v, want %v (summary %q)", got, tt.wantBlocked, ev.Summary())
			}
			wantState := StateOK
			if len(tt.wantBlocked) > 0 {
				wantState = StateBlocked
			}
			if ev.State != wantState || ev.Sources[SourceAlertmanager] != wantState {
				t.Errorf("state = %s (source %s), want %s", ev.State, ev.Sources[SourceAlertmanager], wantState)
			}
		})
	}
}

func TestAlertmanagerRequest(t *testing.T) {
	srv := newFakeServer(t, map[string]canned{
		"/prefix/api/v2/alerts": jsonAnswer(mustJSON(t, []any{active(map[string]string{"alertname": "HighErrorRate", "severity": "critical"})})),
	})
	u := strings.Replace(srv.URL, "http://", "http://chaosd:s3cret@", 1) + "/prefix"
	g := newAMGuard(t, u, []string{`severity=~"critical|warning"`, `team!="sandbox"`}, nil, 0)

	ev := g.Preflight(context.Background())

	t.Run("asks for active, unsilenced, uninhibited alerts", func(t *testing.T) {
		q := srv.lastRequest()
		for k, want := range map[string]string{"active": "true", "silenced": "false", "inhibited": "false"} {
			if got := q.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if got, want := q["filter"], []string{`severity=~"critical|warning"`, `team!="sandbox"`}; !slices.Equal(got, want) {
			t.Errorf("filter = %q, want %q", got, want)
		}
	})
	t.Run("uses the url path and credentials", func(t *testing.T) {
		if srv.paths[0] != "/prefix/api/v2/alerts" {
			t.Errorf("path = %q", srv.paths[0])
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("chaosd:s3cret"))
		if srv.auth[0] != want {
			t.Errorf("Authorization = %q, want %q", srv.auth[0], want)
		}
	})
	t.Run("evidence carries labels, startsAt and fingerprint", func(t *testing.T) {
		if len(ev.Alerts) != 1 {
			t.Fatalf("alerts = %+v", ev.Alerts)
		}
		a := ev.Alerts[0]
		if a.Labels["severity"] != "critical" || a.Fingerprint != "fp-HighErrorRate" || a.State != "active" ||
			!a.StartsAt.Equal(time.Date(2023, 11, 14, 22, 10, 0, 0, time.UTC)) || a.Source != SourceAlertmanager ||
			a.Annotations["summary"] == "" {
			t.Errorf("evidence = %+v", a)
		}
	})
}

func TestAlertmanagerUnknown(t *testing.T) {
	tests := []struct {
		name    string
		answer  canned
		timeout time.Duration
		want    string // in the problem message
	}{
		{name: "malformed json", answer: jsonAnswer(`[{"labels":`), want: "get alerts"},
		{name: "wrong json shape", answer: jsonAnswer(`{"alerts":[]}`), want: "get alerts"},
		{name: "alert without status", answer: jsonAnswer(`[{"labels":{"alertname":"A"},"fingerprint":"x"}]`), want: "status is missing"},
		{name: "server error", answer: canned{status: http.StatusInternalServerError, body: `"boom"`}, want: "500"},
		{name: "html error page", answer: canned{status: http.StatusBadGateway, contentType: "text/html", body: "<html>bad gateway</html>"}, want: "get alerts"},
		{name: "slow server", answer: canned{hang: true}, timeout: 100 * time.Millisecond, want: "timed out after 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, map[string]canned{"/api/v2/alerts": tt.answer})
			g := newAMGuard(t, srv.URL, nil, nil, tt.timeout)

			start := time.Now()
			ev := g.Poll(context.Background())
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("evaluation took %s, not bounded by the timeout", elapsed)
			}
			if ev.State != StateUnknown {
				t.Fatalf("state = %s, want unknown (%s)", ev.State, ev.Summary())
			}
			if len(ev.Problems) != 1 || ev.Problems[0].Source != SourceAlertmanager || !strings.Contains(ev.Problems[0].Message, tt.want) {
				t.Errorf("problems = %+v, want one alertmanager problem containing %q", ev.Problems, tt.want)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := newFakeServer(t, nil)
		url := srv.URL
		srv.Close()
		ev := newAMGuard(t, url, nil, nil, 0).Poll(context.Background())
		if ev.State != StateUnknown {
			t.Errorf("state = %s, want unknown", ev.State)
		}
	})
}

func TestNewAlertmanagerClient(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantErr bool
	}{
		{name: "http", url: "http://alertmanager:9093"},
		{name: "https with path", url: "https://am.example.com/alertmanager/"},
		{name: "no scheme", url: "alertmanager:9093", wantErr: true},
		{name: "no host", url: "http:///api", wantErr: true},
		{name: "bad url", url: "http://[::1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewAlertmanagerClient(tt.url, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && c.Alert == nil {
				t.Error("client has no alert service")
			}
		})
	}
}
