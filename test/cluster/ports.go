package cluster

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Ports are picked below Linux's ephemeral range (32768-60999 by default),
// so outgoing connections never borrow one between reservation and bind.
const (
	portRangeLow  = 20000
	portRangeHigh = 32000
	portAttempts  = 500
)

// portAllocator hands out loopback ports that no other cluster on this
// machine holds. Test packages run in parallel as separate processes, and
// "listen on :0, close, pass the number on" races between them; each port is
// therefore also claimed with flock on a per-port lock file, held until
// release. The kernel drops the locks if the process dies.
type portAllocator struct {
	rng     *rand.Rand
	lockDir string
	held    []*os.File
}

func newPortAllocator(rng *rand.Rand, lockDir string) (*portAllocator, error) {
	if err := os.MkdirAll(lockDir, 0o777); err != nil {
		return nil, fmt.Errorf("create port lock dir: %w", err)
	}
	return &portAllocator{rng: rng, lockDir: lockDir}, nil
}

// reserve returns a port that is free on 127.0.0.1 and locked for this
// allocator.
func (a *portAllocator) reserve() (int, error) {
	for range portAttempts {
		port := portRangeLow + a.rng.IntN(portRangeHigh-portRangeLow)
		lock, err := a.lock(port)
		if err != nil {
			continue
		}
		if !portFree(port) {
			lock.Close()
			continue
		}
		a.held = append(a.held, lock)
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d after %d attempts", portRangeLow, portRangeHigh, portAttempts)
}

// reserveN reserves n distinct ports.
func (a *portAllocator) reserveN(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		p, err := a.reserve()
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

func (a *portAllocator) lock(port int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(a.lockDir, strconv.Itoa(port)+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// release unlocks every reserved port.
func (a *portAllocator) release() error {
	var errs []error
	for _, f := range a.held {
		errs = append(errs, f.Close())
	}
	a.held = nil
	return errors.Join(errs...)
}

// portFree reports whether 127.0.0.1:port can be bound right now.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
