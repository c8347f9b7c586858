package traffic

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names the gRPC Prometheus middleware exports for the demo.
const (
	ClientHandled = "grpc_client_handled_total"
	ServerHandled = "grpc_server_handled_total"
)

// Handled reads counter name (ClientHandled or ServerHandled) of the demo
// method for one gRPC code (e.g. "OK", "Unavailable") from g; a code never
// seen reads 0.
func Handled(g prometheus.Gatherer, name, code string) (float64, error) {
	families, err := g.Gather()
	if err != nil {
		return 0, fmt.Errorf("gather demo metrics: %w", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["grpc_code"] == code && labels["grpc_method"] == MethodName && labels["grpc_service"] == ServiceName {
				return m.GetCounter().GetValue(), nil
			}
		}
	}
	return 0, nil
}
