package landing

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/guard"
)

// fakeAPI answers each query by the entry whose key it contains.
type fakeAPI struct {
	answers map[string]model.Value
	err     error
	asked   []string
	at      []time.Time
}

func (f *fakeAPI) Query(_ context.Context, q string, ts time.Time, _ ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	f.asked, f.at = append(f.asked, q), append(f.at, ts)
	if f.err != nil {
		return nil, nil, nil, f.err
	}
	// The longest key that matches wins: the faulted query contains the
	// traffic query's metric name too.
	best, answer := "", model.Value(model.Vector{})
	for k, v := range f.answers {
		if strings.Contains(q, k) && len(k) > len(best) {
			best, answer = k, v
		}
	}
	return answer, nil, nil, nil
}

func vec(v float64) model.Vector { return model.Vector{{Value: model.SampleValue(v)}} }

func TestVirtualServiceLanding(t *testing.T) {
	vars := config.LandingVars{Namespace: "shop", Name: "cart", Host: "cart.shop.svc.cluster.local", Window: "30s", Flag: "FI"}
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	faulted := `response_flags=~".*(FI).*"`
	tests := []struct {
		name        string
		landing     config.Landing
		answers     map[string]model.Value
		err         error
		want        guard.LandingState
		wantSummary string
	}{
		{name: "faulted requests", answers: map[string]model.Value{faulted: vec(12), "istio_requests_total": vec(120)}, want: guard.Landed, wantSummary: "12 of 120 requests to cart.shop.svc.cluster.local in 30s were faulted"},
		{name: "traffic, none faulted", answers: map[string]model.Value{faulted: vec(0), "istio_requests_total": vec(120)}, want: guard.NotLanded, wantSummary: "0 of 120 requests"},
		{name: "no series at all", answers: nil, want: guard.TooLittleTraffic, wantSummary: "0 requests to cart.shop.svc.cluster.local in 30s, fewer than the 20 needed"},
		{name: "below the minimum", answers: map[string]model.Value{faulted: vec(3), "istio_requests_total": vec(19)}, want: guard.TooLittleTraffic},
		{name: "query fails", err: errors.New("connection refused"), want: guard.LandingUnknown, wantSummary: "connection refused"},
		{name: "custom queries", landing: config.Landing{MinRequests: 5,
			Query:        `sum(increase(grpc_client_handled_total{grpc_code!="OK"}[{{.window}}]))`,
			TrafficQuery: `sum(increase(grpc_client_handled_total[{{.window}}]))`},
			answers: map[string]model.Value{`grpc_code!="OK"`: vec(7), "grpc_client_handled_total[30s]": vec(70)}, want: guard.Landed, wantSummary: "7 of 70"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.landing
			if l.MinRequests == 0 {
				l.MinRequests = config.DefaultLandingMinRequests
			}
			api := &fakeAPI{answers: tt.answers, err: tt.err}
			got := Prober{API: api}.VirtualService(context.Background(), l, vars, at)
			if got.State != string(tt.want) || !strings.Contains(got.Summary, tt.wantSummary) {
				t.Errorf("state %s (%s), want %s containing %q", got.State, got.Summary, tt.want, tt.wantSummary)
			}
			if len(api.asked) != 2 || !api.at[0].Equal(at) {
				t.Fatalf("asked %q at %v, want two queries at %s", api.asked, api.at, at)
			}
			if l.Query == "" && (!strings.Contains(api.asked[0], `destination_service="cart.shop.svc.cluster.local"`) || !strings.Contains(api.asked[0], "[30s]")) {
				t.Errorf("default query not filled in: %s", api.asked[0])
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	for host, want := range map[string]string{
		"cart": "cart.shop.svc.cluster.local", "cart.shop": "cart.shop.svc.cluster.local",
		"cart.shop.svc": "cart.shop.svc.cluster.local", "api.example.com": "api.example.com",
	} {
		if got := HostOf(host, "shop"); got != want {
			t.Errorf("HostOf(%q) = %q, want %q", host, got, want)
		}
	}
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	if w := Window(t0, t0.Add(29500*time.Millisecond)); w != "30s" {
		t.Errorf("Window = %s, want 30s (rounded up)", w)
	}
	if f := Flag(config.Action{Type: config.ActionHTTPFault, Abort: &config.AbortSpec{Status: 500, Percent: 1}, FixedDelay: &config.DelaySpec{Delay: time.Second, Percent: 1}}); f != "FI|DI" {
		t.Errorf("Flag(http-fault) = %s", f)
	}
}
