package traffic

import (
	"context"
	"fmt"
	"net"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Server is the demo gRPC server. It serves plaintext on a loopback address
// of its own; the mesh knows it through a WorkloadEntry (see Objects).
type Server struct {
	grpc *grpc.Server
	ln   net.Listener
	done chan error
}

// StartServer listens on addr (host:port, port 0 for a free one; the host
// must be in 127.0.0.0/8) and serves until Stop. Its request metrics
// (grpc_server_handled_total, grpc_server_handling_seconds) are registered
// on reg.
func StartServer(addr string, reg prometheus.Registerer) (*Server, error) {
	if err := requireLoopback(addr); err != nil {
		return nil, fmt.Errorf("demo server: %w", err)
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	if err := reg.Register(metrics); err != nil {
		return nil, fmt.Errorf("register demo server metrics: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for demo server: %w", err)
	}
	s := &Server{
		grpc: grpc.NewServer(grpc.ChainUnaryInterceptor(metrics.UnaryServerInterceptor())),
		ln:   ln,
		done: make(chan error, 1),
	}
	s.grpc.RegisterService(&serviceDesc, echoHandler{})
	// Zero series for every code, so a rate over them exists from the start.
	metrics.InitializeMetrics(s.grpc)
	go func() { s.done <- s.grpc.Serve(ln) }()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Stop ends every call and the listener.
func (s *Server) Stop() error {
	s.grpc.Stop()
	if err := <-s.done; err != nil && err != grpc.ErrServerStopped {
		return fmt.Errorf("demo server: %w", err)
	}
	return nil
}

type echoHandler struct{}

func (echoHandler) echo(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return wrapperspb.String(in.GetValue()), nil
}

// requireLoopback refuses any address outside 127.0.0.0/8: the demo never
// listens where another machine could reach it.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("address %q: not in 127.0.0.0/8", addr)
	}
	return nil
}
