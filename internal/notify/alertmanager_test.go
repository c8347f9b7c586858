package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/internal/targets"
)

// fakeAlertmanager speaks Alertmanager's POST /api/v2/alerts.
type fakeAlertmanager struct {
	*httptest.Server
	mu     sync.Mutex
	posted models.PostableAlerts
	path   string
	user   string
	pass   string
	status int
}

type amRequest struct {
	posted     models.PostableAlerts
	path       string
	user, pass string
}

func (am *fakeAlertmanager) last() amRequest {
	am.mu.Lock()
	defer am.mu.Unlock()
	return amRequest{posted: am.posted, path: am.path, user: am.user, pass: am.pass}
}

func newFakeAlertmanager(t *testing.T, status int) *fakeAlertmanager {
	am := &fakeAlertmanager{status: status}
	am.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/api/v2/alerts") {
			http.NotFound(w, r)
			return
		}
		var alerts models.PostableAlerts
		if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(err.Error())
			return
		}
		am.mu.Lock()
		am.posted, am.path = alerts, r.URL.Path
		am.user, am.pass, _ = r.BasicAuth()
		am.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(am.status)
		if am.status != http.StatusOK {
			_ = json.NewEncoder(w).Encode("boom")
		}
	}))
	t.Cleanup(am.Close)
	return am
}

func TestRaiseWeakness(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 2, 0, 0, time.UTC)
	twoTargets := testRecord(journal.VerdictWeakness)
	twoTargets.Selection.Chosen = append(twoTargets.Selection.Chosen, targets.Target{Kind: config.TargetVirtualService, Namespace: "shop", Name: "cart"})
	noTarget := testRecord(journal.VerdictWeakness)
	noTarget.Selection.Chosen = nil
	tests := []struct {
		name       string
		rec        journal.Record
		cooldown   time.Duration
		subPath    string
		wantEnd    time.Time
		wantTarget []string
	}{
		{name: "cooldown sets endsAt", rec: testRecord(journal.VerdictWeakness), cooldown: 10 * time.Minute, wantEnd: now.Add(10 * time.Minute), wantTarget: []string{"virtualservice/shop/checkout"}},
		{name: "manual cooldown lasts an hour", rec: testRecord(journal.VerdictWeakness), cooldown: 0, wantEnd: now.Add(time.Hour), wantTarget: []string{"virtualservice/shop/checkout"}},
		{name: "one alert per target", rec: twoTargets, cooldown: time.Minute, wantEnd: now.Add(time.Minute), wantTarget: []string{"virtualservice/shop/checkout", "virtualservice/shop/cart"}},
		{name: "no target: one alert without target labels", rec: noTarget, cooldown: time.Minute, wantEnd: now.Add(time.Minute), wantTarget: []string{""}},
		{name: "alertmanager under a path prefix", rec: testRecord(journal.VerdictWeakness), cooldown: time.Minute, subPath: "/alertmanager", wantEnd: now.Add(time.Minute), wantTarget: []string{"virtualservice/shop/checkout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeAlertmanager(t, http.StatusOK)
			am, err := NewAlertmanager(AlertmanagerOptions{URL: fake.URL + tt.subPath, Clock: clocktesting.NewFakePassiveClock(now), ExternalURL: "https://chaosd.example"})
			if err != nil {
				t.Fatal(err)
			}
			if err := am.RaiseWeakness(context.Background(), tt.rec, tt.cooldown); err != nil {
				t.Fatalf("RaiseWeakness: %v", err)
			}
			got := fake.last()
			if want := tt.subPath + "/api/v2/alerts"; got.path != want {
				t.Errorf("posted to %s, want %s", got.path, want)
			}
			if len(got.posted) != len(tt.wantTarget) {
				t.Fatalf("posted %d alerts, want %d", len(got.posted), len(tt.wantTarget))
			}
			for i, a := range got.posted {
				wantLabels := models.LabelSet{"alertname": "ChaosWeaknessFound", "experiment": "checkout-abort", "action": "http-abort", "severity": "warning"}
				if tt.wantTarget[i] != "" {
					wantLabels["target"], wantLabels["namespace"] = tt.wantTarget[i], "shop"
				}
				if len(a.Labels) != len(wantLabels) {
					t.Errorf("alert %d labels = %v, want %v", i, a.Labels, wantLabels)
				}
				for k, v := range wantLabels {
					if a.Labels[k] != v {
						t.Errorf("alert %d label %s = %q, want %q", i, k, a.Labels[k], v)
					}
				}
				if a.Annotations["report_url"] != "https://chaosd.example/api/v1/runs/run-42/report" || a.Annotations["description"] != "alert CheckoutErrorRate fired during the hold" || !strings.Contains(a.Annotations["summary"], "checkout-abort") {
					t.Errorf("alert %d annotations = %v", i, a.Annotations)
				}
				if !time.Time(a.StartsAt).Equal(now) || !time.Time(a.EndsAt).Equal(tt.wantEnd) {
					t.Errorf("alert %d active %s..%s, want %s..%s", i, time.Time(a.StartsAt), time.Time(a.EndsAt), now, tt.wantEnd)
				}
				if a.GeneratorURL != "https://chaosd.example/api/v1/runs/run-42/report" {
					t.Errorf("generatorURL = %q", a.GeneratorURL)
				}
			}
		})
	}
}

func TestAlertmanagerErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		wantRetry bool
	}{
		{name: "400 is permanent", status: http.StatusBadRequest, wantRetry: false},
		{name: "500 is retried", status: http.StatusInternalServerError, wantRetry: true},
		{name: "unexpected 503 is retried", status: http.StatusServiceUnavailable, wantRetry: true},
		{name: "unexpected 403 is permanent", status: http.StatusForbidden, wantRetry: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeAlertmanager(t, tt.status)
			u := strings.Replace(fake.URL, "http://", "http://chaosd:hunter2@", 1)
			am, err := NewAlertmanager(AlertmanagerOptions{URL: u})
			if err != nil {
				t.Fatal(err)
			}
			err = am.RaiseWeakness(context.Background(), testRecord(journal.VerdictWeakness), time.Minute)
			if err == nil {
				t.Fatal("want an error")
			}
			if got := fake.last(); got.user != "chaosd" || got.pass != "hunter2" {
				t.Errorf("basic auth = %q/%q", got.user, got.pass)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
			if retry, _ := retryable(err, time.Second, time.Minute); retry != tt.wantRetry {
				t.Errorf("retryable = %v, want %v (err %v)", retry, tt.wantRetry, err)
			}
		})
	}
	t.Run("unreachable is retried", func(t *testing.T) {
		fake := newFakeAlertmanager(t, http.StatusOK)
		fake.Close()
		am, err := NewAlertmanager(AlertmanagerOptions{URL: fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		err = am.RaiseWeakness(context.Background(), testRecord(journal.VerdictWeakness), time.Minute)
		if retry, _ := retryable(err, time.Second, time.Minute); err == nil || !retry {
			t.Errorf("err = %v, retryable = %v", err, retry)
		}
	})
}

func TestNewAlertmanagerRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "alertmanager:9093", "ftp://am", "http://user:s3cret@[::1"} {
		t.Run(u, func(t *testing.T) {
			_, err := NewAlertmanager(AlertmanagerOptions{URL: u})
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestAlertmanagerThroughDispatcher(t *testing.T) {
	fake := newFakeAlertmanager(t, http.StatusOK)
	now := t0 // the env's fake clock
	am, err := NewAlertmanager(AlertmanagerOptions{URL: fake.URL, Clock: clocktesting.NewFakePassiveClock(now), Cooldown: config.Cooldown{Duration: 15 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, DispatcherOptions{ExternalURL: "https://chaosd.example", Receivers: []Receiver{{Notifier: am, On: []config.Event{config.EventWeakness}}}})
	e.d.DispatchFinished(testRecord(journal.VerdictPassed))
	e.d.Dispatch(config.EventStarted, testRecord(""))
	e.d.DispatchFinished(testRecord(journal.VerdictWeakness))
	e.drain(t)
	posted := fake.last().posted
	if len(posted) != 1 || !time.Time(posted[0].EndsAt).Equal(now.Add(15*time.Minute)) {
		t.Fatalf("posted %+v", posted)
	}
	if posted[0].Annotations["report_url"] != "https://chaosd.example/api/v1/runs/run-42/report" {
		t.Errorf("annotations = %v", posted[0].Annotations)
	}
}

// TestAlertGapThroughDispatcher: an alert-gap run raises its own alert,
// ChaosAlertGapFound, not ChaosWeaknessFound.
func TestAlertGapThroughDispatcher(t *testing.T) {
	fake := newFakeAlertmanager(t, http.StatusOK)
	am, err := NewAlertmanager(AlertmanagerOptions{URL: fake.URL, Clock: clocktesting.NewFakePassiveClock(t0), Cooldown: config.Cooldown{Duration: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, DispatcherOptions{Receivers: []Receiver{{Notifier: am, On: []config.Event{config.EventAlertGap}}}})
	e.d.DispatchFinished(testRecord(journal.VerdictWeakness)) // not subscribed
	e.d.DispatchFinished(testRecord(journal.VerdictAlertGap))
	e.drain(t)
	posted := fake.last().posted
	if len(posted) != 1 || posted[0].Labels["alertname"] != AlertGapAlertName || !strings.Contains(posted[0].Annotations["summary"], "alert gap") {
		t.Fatalf("posted %+v", posted)
	}
}
