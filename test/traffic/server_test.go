package traffic

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestStartServerRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "10.0.0.1:0", ":0", "[::1]:0"} {
		if s, err := StartServer(addr, prometheus.NewRegistry()); err == nil {
			_ = s.Stop()
			t.Errorf("StartServer(%q) succeeded, want it refused", addr)
		}
	}
}

// The server answers and counts what it handled; the client side through
// istiod is proven end to end (test/e2e TestTraffic…).
func TestServerEchoesAndCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := StartServer("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	conn, err := grpc.NewClient("passthrough:///"+s.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // hang guard
	defer cancel()
	out, err := invokeEcho(ctx, conn, "hello")
	if err != nil || out.GetValue() != "hello" {
		t.Fatalf("echo = %v, %v; want hello", out, err)
	}
	if got := handled(t, reg, "grpc_server_handled_total", "OK"); got != 1 {
		t.Errorf("grpc_server_handled_total{grpc_code=OK} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(reg, "grpc_server_handling_seconds"); n == 0 {
		t.Error("no grpc_server_handling_seconds histogram registered")
	}
}

func handled(t *testing.T, reg *prometheus.Registry, name, code string) float64 {
	t.Helper()
	v, err := Handled(reg, name, code)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
