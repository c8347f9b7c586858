package cluster

import (
	"math/rand/v2"
	"net"
	"testing"
)

func TestPortAllocatorReservesDistinctFreePorts(t *testing.T) {
	a, err := newPortAllocator(rand.New(rand.NewPCG(1, 2)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.release()
	ports, err := a.reserveN(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < portRangeLow || p >= portRangeHigh {
			t.Errorf("port %d outside %d-%d", p, portRangeLow, portRangeHigh)
		}
		if seen[p] {
			t.Errorf("port %d reserved twice", p)
		}
		seen[p] = true
	}
}

// Two allocators with the same random sequence model two test processes
// that happen to draw the same numbers: the locks must keep them apart.
func TestPortAllocatorLocksAcrossAllocators(t *testing.T) {
	lockDir := t.TempDir()
	first, err := newPortAllocator(rand.New(rand.NewPCG(7, 7)), lockDir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := newPortAllocator(rand.New(rand.NewPCG(7, 7)), lockDir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.release()
	a, err := first.reserve()
	if err != nil {
		t.Fatal(err)
	}
	b, err := second.reserve()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("both allocators got port %d", a)
	}
	if err := first.release(); err != nil {
		t.Fatal(err)
	}
	// Released: the same sequence now yields the first port again.
	third, err := newPortAllocator(rand.New(rand.NewPCG(7, 7)), lockDir)
	if err != nil {
		t.Fatal(err)
	}
	defer third.release()
	if c, err := third.reserve(); err != nil || c != a {
		t.Errorf("after release got %d, %v; want %d", c, err, a)
	}
}

func TestPortFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if portFree(port) {
		t.Errorf("port %d reported free while listening", port)
	}
	l.Close()
	if !portFree(port) {
		t.Errorf("port %d reported busy after close", port)
	}
}
