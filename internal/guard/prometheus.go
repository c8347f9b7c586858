package guard

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
)

// prometheusAPI is the part of the Prometheus HTTP API the guard uses.
type prometheusAPI interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error)
	QueryRange(ctx context.Context, query string, r promv1.Range, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error)
	Alerts(ctx context.Context) (promv1.AlertsResult, error)
}

func newPrometheusAPI(address string, hc *http.Client) (prometheusAPI, error) {
	c, err := api.NewClient(api.Config{Address: address, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %q: %w", address, err)
	}
	return promv1.NewAPI(c), nil
}

// prometheusSource evaluates checks and finds pending alerts.
type prometheusSource struct {
	api     prometheusAPI
	checks  []config.Check
	filter  alertFilter
	timeout time.Duration
}

// check runs one check. Any failure to get a usable answer is Unknown, with
// the reason in the result.
func (s *prometheusSource) check(ctx context.Context, c config.Check) (CheckResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// The zero time lets Prometheus evaluate at its own "now", so a skew
	// between chaosd's clock and Prometheus' never makes data look absent.
	v, warnings, _, err := s.api.Query(ctx, c.Expr, time.Time{}, promv1.WithTimeout(s.timeout))
	if err != nil {
		err = fmt.Errorf("query: %w", describeTimeout(ctx, err, s.timeout))
		r := newCheckResult(c)
		r.State, r.Reason = StateUnknown, err.Error()
		return r, err
	}
	r := judgeCheck(c, v)
	r.Warnings = warnings
	return r, nil
}

// pending returns the pending alerts in Prometheus that the filter says
// block. Firing alerts are left to Alertmanager, which knows about silences.
func (s *prometheusSource) pending(ctx context.Context) ([]AlertEvidence, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.api.Alerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("get alerts: %w", describeTimeout(ctx, err, s.timeout))
	}
	var out []AlertEvidence
	for _, a := range res.Alerts {
		if a.State != promv1.AlertStatePending || !s.filter.blocks(a.Labels) {
			continue
		}
		out = append(out, AlertEvidence{
			Source:      SourcePending,
			Name:        string(a.Labels[model.AlertNameLabel]),
			State:       string(a.State),
			Labels:      labelMap(a.Labels),
			Annotations: labelMap(a.Annotations),
			StartsAt:    a.ActiveAt,
			Fingerprint: a.Labels.Fingerprint().String(),
		})
	}
	sortAlerts(out)
	return out, nil
}

func labelMap(ls model.LabelSet) map[string]string {
	if len(ls) == 0 {
		return nil
	}
	out := make(map[string]string, len(ls))
	for k, v := range ls {
		out[string(k)] = string(v)
	}
	return out
}
