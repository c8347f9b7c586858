package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// process is one component started by the supervisor.
type process struct {
	name    string
	tier    int // stop order, see tierClients
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has been reaped
	exitErr error         // valid after exited is closed
}

// exitedErr returns a non-nil error, with the end of the log, if the process
// is no longer running. Readiness waits call it to fail fast.
func (p *process) exitedErr() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v); last log lines:\n%s", p.name, p.exitErr, tailFile(p.logPath, 30))
	default:
		return nil
	}
}

// supervisor starts components and guarantees they die with the cluster.
//
//   - Each component runs in its own process group (Setpgid), so stop can
//     signal everything it may have spawned.
//   - Each gets Pdeathsig=SIGKILL, so it dies if the test binary dies
//     (timeout panic, kill -9) without running any cleanup. Linux sends that
//     signal when the *thread* that forked the child exits, and the Go runtime
//     may retire threads; every fork therefore happens on one goroutine
//     locked to its thread for the supervisor's lifetime.
type supervisor struct {
	logDir string
	reqs   chan launchRequest

	mu    sync.Mutex
	procs []*process
}

type launchRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func newSupervisor(logDir string) *supervisor {
	s := &supervisor{logDir: logDir, reqs: make(chan launchRequest)}
	go s.launchLoop()
	return s
}

// launchLoop never unlocks its thread: when it returns (after close), the
// thread exits and any child still alive receives its Pdeathsig.
func (s *supervisor) launchLoop() {
	runtime.LockOSThread()
	for req := range s.reqs {
		req.done <- req.cmd.Start()
	}
}

// start runs path with args, stdout and stderr going to logDir/<name>.log.
// tier says when stopAll stops it.
func (s *supervisor) start(name string, tier int, path string, args, extraEnv []string) (*process, error) {
	logPath := filepath.Join(s.logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(logFile, "# %s %q\n", path, args)

	done := make(chan error, 1)
	s.reqs <- launchRequest{cmd: cmd, done: done}
	if err := <-done; err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, tier: tier, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.exitErr = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// pids returns the PID of every component started so far.
func (s *supervisor) pids() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.procs))
	for _, p := range s.procs {
		out[p.name] = p.cmd.Process.Pid
	}
	return out
}

// Stop tiers: a component is stopped only after everything that depends on
// it. kube-apiserver stalls in shutdown for its whole grace period once etcd
// is gone, so the order matters for teardown time.
const (
	tierStorage   = 0 // etcd
	tierAPIServer = 1 // kube-apiserver
	tierClients   = 2 // controllers, kwok, monitoring
)

// stopAll stops the processes tier by tier, highest first. Within a tier all
// groups get SIGTERM at once, then SIGKILL after grace; it returns once every
// component has been reaped and its process group is empty.
func (s *supervisor) stopAll(grace time.Duration) error {
	s.mu.Lock()
	procs := append([]*process(nil), s.procs...)
	s.mu.Unlock()

	var errs []error
	for tier := tierClients; tier >= tierStorage; tier-- {
		var group []*process
		for _, p := range procs {
			if p.tier == tier {
				group = append(group, p)
			}
		}
		errs = append(errs, stopTogether(group, grace))
	}
	return errors.Join(errs...)
}

func stopTogether(procs []*process, grace time.Duration) error {
	for _, p := range procs {
		signalGroup(p, syscall.SIGTERM)
	}
	deadline := time.After(grace)
	expired := false
	for _, p := range procs {
		if !expired {
			select {
			case <-p.exited:
				continue
			case <-deadline:
				expired = true
			}
		}
		// Past the grace period: a SIGKILL to an exited group is a no-op.
		signalGroup(p, syscall.SIGKILL)
		<-p.exited
	}
	var errs []error
	for _, p := range procs {
		// Kill anything a component left behind in its group; init reaps it.
		if err := waitGroupGone(p, 5*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// waitGroupGone SIGKILLs p's process group until it has no members left.
func waitGroupGone(p *process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		signalGroup(p, syscall.SIGKILL)
		if err := syscall.Kill(-p.cmd.Process.Pid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group of %s (pgid %d) still has members after SIGKILL", p.name, p.cmd.Process.Pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// close ends the launcher goroutine; call it after stopAll.
func (s *supervisor) close() {
	close(s.reqs)
}

func signalGroup(p *process, sig syscall.Signal) {
	// The group id is the child's pid (Setpgid with Pgid 0). ESRCH just means
	// the group is already gone.
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}
