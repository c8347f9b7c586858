//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chaosd/chaosd/test/cluster"
)

// alertActive reports whether Alertmanager has an active, unsilenced alert
// with this name (asked through its v2 API).
func alertActive(t testing.TB, c *cluster.Cluster, name string) bool {
	t.Helper()
	resp, err := http.Get(c.AlertmanagerURL + "/api/v2/alerts?active=true&silenced=false&inhibited=false&filter=alertname%3D%22" + name + "%22")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var alerts []struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if json.NewDecoder(resp.Body).Decode(&alerts) != nil {
		return false
	}
	for _, a := range alerts {
		if a.Status.State == "active" {
			return true
		}
	}
	return false
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
