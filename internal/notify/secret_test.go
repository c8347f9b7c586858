package notify

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
)

func TestURLSource(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const secret = "https://hooks.slack.com/services/T0/B0/SECRETTOKEN"
	env := map[string]string{"SLACK_URL": secret, "EMPTY": ""}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		src     URLSource
		want    string
		wantErr string
	}{
		{name: "file with trailing newline", src: URLSource{File: write("ok", secret+"\n")}, want: secret},
		{name: "env", src: URLSource{Env: "SLACK_URL", Getenv: getenv}, want: secret},
		{name: "value", src: URLSource{Value: "http://hook.internal/x"}, want: "http://hook.internal/x"},
		{name: "missing file", src: URLSource{File: filepath.Join(dir, "missing")}, wantErr: "read URL from file"},
		{name: "empty file", src: URLSource{File: write("empty", "\n")}, wantErr: "is empty"},
		{name: "unset env", src: URLSource{Env: "EMPTY", Getenv: getenv}, wantErr: "environment variable EMPTY is empty"},
		{name: "not a URL, not echoed", src: URLSource{File: write("bad", "hooks.slack.com/services/SECRETTOKEN")}, wantErr: "not an absolute http(s) URL"},
		{name: "unparsable, not echoed", src: URLSource{File: write("worse", "http://[SECRETTOKEN")}, wantErr: "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.src.URL()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "SECRETTOKEN") {
					t.Errorf("error leaks the URL: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("URL() = %q, %v; want %q", got, err, tt.want)
			}
			if strings.Contains(tt.src.String(), "SECRETTOKEN") {
				t.Errorf("String() leaks the URL: %s", tt.src)
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	const secret = "https://user:pw@hooks.example.com/services/T0/B0/SECRET%2FTOKEN?sig=QUERYSIG"
	red := newRedactor(secret)
	tests := []struct {
		name string
		err  error
	}{
		{name: "whole URL", err: fmt.Errorf("failed: %s", secret)},
		{name: "url.Error", err: &url.Error{Op: "Post", URL: secret, Err: errors.New("dial tcp: i/o timeout")}},
		{name: "wrapped url.Error", err: fmt.Errorf("send: %w", &url.Error{Op: "Post", URL: secret, Err: errors.New("EOF")})},
		{name: "path only", err: errors.New("404 for /services/T0/B0/SECRET%2FTOKEN")},
		{name: "unescaped path", err: errors.New("404 for /services/T0/B0/SECRET/TOKEN")},
		{name: "query only", err: errors.New("bad sig=QUERYSIG")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := red.error(tt.err, false)
			for _, leak := range []string{"SECRET", "QUERYSIG", "user:pw"} {
				if strings.Contains(got.Error(), leak) {
					t.Errorf("redacted error %q still contains %q", got, leak)
				}
			}
			var ue *url.Error
			if errors.As(got, &ue) {
				t.Error("redacted error still unwraps to the *url.Error holding the URL")
			}
		})
	}
}

func TestReceiversFromConfig(t *testing.T) {
	cfg := &config.Config{
		Guard: config.Guard{Cooldown: config.Cooldown{Manual: true}},
		Notifications: config.Notifications{
			Slack:        &config.SlackNotification{WebhookURLFile: "/secrets/slack", On: config.DefaultNotifyOn},
			Webhook:      &config.WebhookNotification{URLEnv: "HOOK", On: []config.Event{config.EventStarted, config.EventFinished}},
			Alertmanager: &config.AlertmanagerNotification{RaiseOnWeakness: true, RaiseOnAlertGap: true, URL: "http://am:9093", ExternalURL: "http://chaosd:8080"},
		},
	}
	rs, err := ReceiversFromConfig(cfg, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s%v", r.Notifier.Name(), r.On))
	}
	if want := "[slack[weakness alert-gap error] webhook[started finished] alertmanager[weakness alert-gap]]"; fmt.Sprint(got) != want {
		t.Errorf("receivers = %v, want %s", got, want)
	}
	if am := rs[2].Notifier.(*Alertmanager); CooldownDuration(am.cooldown) != 0 {
		t.Errorf("manual cooldown = %s, want 0 (alert lasts %s)", CooldownDuration(am.cooldown), ManualCooldownAlertDuration)
	}
	if ExternalURL(cfg.Notifications) != "http://chaosd:8080" {
		t.Error("ExternalURL")
	}

	cfg.Notifications.Alertmanager.RaiseOnWeakness = false
	cfg.Notifications.Alertmanager.RaiseOnAlertGap = false
	if rs, _ := ReceiversFromConfig(cfg, BuildOptions{}); len(rs) != 2 {
		t.Errorf("raiseOnWeakness=false and raiseOnAlertGap=false still built %d receivers", len(rs))
	}
	if rs, _ := ReceiversFromConfig(&config.Config{}, BuildOptions{}); len(rs) != 0 {
		t.Errorf("no notifications configured, got %d receivers", len(rs))
	}
}

func TestReportLinkAndEventFor(t *testing.T) {
	tests := []struct {
		name, external, id, want string
	}{
		{name: "plain", external: "http://chaosd:8080", id: "r1", want: "http://chaosd:8080/api/v1/runs/r1/report"},
		{name: "trailing slash", external: "https://chaos.example/", id: "r1", want: "https://chaos.example/api/v1/runs/r1/report"},
		{name: "escaped id", external: "https://c", id: "a b|c", want: "https://c/api/v1/runs/a%20b%7Cc/report"},
		{name: "no external URL", external: "", id: "r1", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReportLink(tt.external, tt.id); got != tt.want {
				t.Errorf("ReportLink = %q, want %q", got, tt.want)
			}
		})
	}
	for v, want := range map[journal.Verdict]config.Event{
		journal.VerdictWeakness: config.EventWeakness, journal.VerdictError: config.EventError,
		journal.VerdictPassed: config.EventFinished, journal.VerdictAborted: config.EventFinished, journal.VerdictSkipped: config.EventFinished,
	} {
		t.Run("event for "+string(v), func(t *testing.T) {
			if got := EventFor(v); got != want {
				t.Errorf("EventFor(%s) = %s, want %s", v, got, want)
			}
		})
	}
	if CooldownDuration(config.Cooldown{Duration: time.Minute}) != time.Minute {
		t.Error("CooldownDuration")
	}
}
