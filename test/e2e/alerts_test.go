//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chaosd/chaosd/test/cluster"
)

// amAlert is an alert as Alertmanager's v2 API returns it.
type amAlert struct {
	Labels    map[string]string `json:"labels"`
	StartsAt  time.Time         `json:"startsAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
	Status    struct {
		State string `json:"state"`
	} `json:"status"`
}

// activeAlerts lists active alerts matching filter. Silenced and inhibited
// alerts are included by default; exclude them explicitly.
func activeAlerts(ctx context.Context, base, filter string) ([]amAlert, error) {
	q := url.Values{"active": {"true"}, "silenced": {"false"}, "inhibited": {"false"}, "filter": {filter}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/alerts?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET alerts: %s", resp.Status)
	}
	var alerts []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return nil, fmt.Errorf("decode alerts: %w", err)
	}
	return alerts, nil
}

// activeAlert returns the active, unsilenced, uninhibited alert with this
// name, if Alertmanager has one. It fails the test when Alertmanager cannot
// answer: in a wait for an alert to resolve, an error must never read as
// "resolved".
func activeAlert(t testing.TB, c *cluster.Cluster, name string) (amAlert, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alerts, err := activeAlerts(ctx, c.AlertmanagerURL, `alertname="`+name+`"`)
	if err != nil {
		t.Fatalf("ask Alertmanager for %s: %v", name, err)
	}
	for _, a := range alerts {
		if a.Status.State == "active" {
			return a, true
		}
	}
	return amAlert{}, false
}

// alertActive reports whether Alertmanager has an active, unsilenced alert
// with this name; it fails the test if Alertmanager cannot answer.
func alertActive(t testing.TB, c *cluster.Cluster, name string) bool {
	t.Helper()
	_, ok := activeAlert(t, c, name)
	return ok
}

// promHasData reports whether a PromQL query returns at least one sample.
func promHasData(t testing.TB, c *cluster.Cluster, query string) bool {
	t.Helper()
	resp, err := http.Get(c.PrometheusURL + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	return json.NewDecoder(resp.Body).Decode(&body) == nil && len(body.Data.Result) > 0
}

// waitForScrape waits until Prometheus has scraped the demo exporter, so a
// guard check on it is not "no data" (which fails closed).
func waitForScrape(t testing.TB, c *cluster.Cluster) {
	t.Helper()
	eventually(t, time.Minute, "Prometheus to scrape demo_healthy", func() bool { return promHasData(t, c, "demo_healthy") })
}
