package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/model"
)

// NewAlertmanagerClient builds an Alertmanager v2 API client the way amtool
// does: host and scheme from rawURL, base path rawURL's path + /api/v2, and
// basic auth when the URL carries user info. hc may be nil.
func NewAlertmanagerClient(rawURL string, hc *http.Client) (*amclient.AlertmanagerAPI, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse alertmanager url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("alertmanager url %q: scheme must be http or https", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("alertmanager url %q: host is missing", rawURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	rt := httptransport.NewWithClient(u.Host, path.Join("/", u.Path, "/api/v2"), []string{u.Scheme}, hc)
	if u.User != nil {
		pw, _ := u.User.Password()
		rt.DefaultAuthentication = httptransport.BasicAuth(u.User.Username(), pw)
	}
	return amclient.New(rt, strfmt.Default), nil
}

// alertLister is the one Alertmanager call the guard makes.
type alertLister interface {
	GetAlerts(params *alert.GetAlertsParams, opts ...alert.ClientOption) (*alert.GetAlertsOK, error)
}

var _ alertLister = alert.ClientService(nil)

// alertmanagerSource finds the Alertmanager alerts that block.
type alertmanagerSource struct {
	api     alertLister
	filter  alertFilter
	timeout time.Duration
}

// evaluate returns the blocking alerts, or an error when Alertmanager could
// not be asked or its answer makes no sense.
func (s *alertmanagerSource) evaluate(ctx context.Context) ([]AlertEvidence, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	yes, no := true, false
	params := alert.NewGetAlertsParamsWithContext(ctx).
		WithTimeout(s.timeout).
		WithActive(&yes).
		WithSilenced(&no).
		WithInhibited(&no).
		WithFilter(s.filter.serverFilter())
	resp, err := s.api.GetAlerts(params)
	if err != nil {
		return nil, fmt.Errorf("get alerts: %w", describeTimeout(ctx, err, s.timeout))
	}
	var out []AlertEvidence
	for i, a := range resp.GetPayload() {
		if a == nil || a.Status == nil || a.Status.State == nil {
			return nil, fmt.Errorf("get alerts: malformed alert %d: status is missing", i)
		}
		if !activeAndUnmuted(a.Status) {
			continue
		}
		ls := toLabelSet(a.Labels)
		if !s.filter.blocks(ls) {
			continue
		}
		out = append(out, alertmanagerEvidence(a, ls))
	}
	sortAlerts(out)
	return out, nil
}

// activeAndUnmuted re-checks locally what the query parameters asked the
// server for, in case a proxy or an old server ignored them. Unprocessed
// alerts count as active: the guard fails closed.
func activeAndUnmuted(st *models.AlertStatus) bool {
	if *st.State == models.AlertStatusStateSuppressed {
		return false
	}
	return len(st.SilencedBy) == 0 && len(st.InhibitedBy) == 0
}

func alertmanagerEvidence(a *models.GettableAlert, ls model.LabelSet) AlertEvidence {
	ev := AlertEvidence{
		Source:      SourceAlertmanager,
		Name:        string(ls[model.AlertNameLabel]),
		State:       *a.Status.State,
		Labels:      map[string]string(a.Labels),
		Annotations: map[string]string(a.Annotations),
	}
	if a.StartsAt != nil {
		ev.StartsAt = time.Time(*a.StartsAt)
	}
	if a.Fingerprint != nil {
		ev.Fingerprint = *a.Fingerprint
	}
	return ev
}

func toLabelSet(ls models.LabelSet) model.LabelSet {
	out := make(model.LabelSet, len(ls))
	for k, v := range ls {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}

// sortAlerts orders evidence deterministically: oldest first, then by name
// and fingerprint.
func sortAlerts(as []AlertEvidence) {
	sort.SliceStable(as, func(i, j int) bool {
		a, b := as[i], as[j]
		if !a.StartsAt.Equal(b.StartsAt) {
			return a.StartsAt.Before(b.StartsAt)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Fingerprint < b.Fingerprint
	})
}

// describeTimeout makes a timeout say so, since the underlying error is
// often a bare "context deadline exceeded" deep inside a url.Error.
func describeTimeout(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return err
}
