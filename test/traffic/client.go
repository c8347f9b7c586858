package traffic

import (
	"context"
	"fmt"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/xds"
)

// Client calls the demo service through the mesh: its target is an
// xds:/// name that istiod resolves, so istiod's routes, and the faults in
// them, apply to every call.
type Client struct {
	conn *grpc.ClientConn
	now  func() time.Time
}

// Dial connects to target (e.g. xds:///grpc-demo.grpc-demo.svc.cluster.local:7070)
// with the given xDS bootstrap (see Bootstrap). The bootstrap goes to this
// client's own resolver, not to the process environment, so several
// clients, each with its own istiod, can live in one process. Request
// metrics (grpc_client_handled_total, grpc_client_handling_seconds) are
// registered on reg. now times each call; nil means time.Now.
func Dial(target string, bootstrap []byte, reg prometheus.Registerer, now func() time.Time) (*Client, error) {
	resolver, err := xds.NewXDSResolverWithConfigForTesting(bootstrap)
	if err != nil {
		return nil, fmt.Errorf("xds resolver: %w", err)
	}
	metrics := grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram())
	if err := reg.Register(metrics); err != nil {
		return nil, fmt.Errorf("register demo client metrics: %w", err)
	}
	conn, err := grpc.NewClient(target,
		grpc.WithResolvers(resolver),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(metrics.UnaryClientInterceptor()))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Client{conn: conn, now: now}, nil
}

// Call makes one request with the given timeout and reports its outcome;
// an error is part of the outcome, never returned.
func (c *Client) Call(ctx context.Context, timeout time.Duration) Outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := c.now()
	_, err := invokeEcho(ctx, c.conn, "ping")
	st := status.Convert(err)
	return Outcome{Start: start, Latency: c.now().Sub(start), Code: st.Code(), Message: st.Message()}
}

// Close closes the connection and the xDS stream.
func (c *Client) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("close demo client: %w", err)
	}
	return nil
}
