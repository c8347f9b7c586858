package cluster

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The supervisor's guarantees are what keeps a failed test from leaking
// processes, so they are tested with a real child: a shell that leaves a
// grandchild in its process group and ignores SIGTERM.
func TestSupervisorStopsProcessGroups(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	s := newSupervisor(t.TempDir())
	defer s.close()
	stubborn, err := s.start("stubborn", tierClients, sh, []string{"-c", `trap "" TERM; sleep 60 & echo started; wait`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.start("polite", tierStorage, sh, []string{"-c", "exec sleep 60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitForLog(t, stubborn.logPath, "started")
	pids := s.pids()
	if pids["stubborn"] == 0 || pids["polite"] == 0 {
		t.Fatalf("pids() = %v", pids)
	}

	begin := time.Now()
	if err := s.stopAll(300 * time.Millisecond); err != nil {
		t.Fatalf("stopAll() = %v", err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("stopAll took %s", took)
	}
	for name, pid := range pids {
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group of %s still exists: %v", name, err)
		}
	}
}

func TestProcessExitedErrIncludesLog(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	s := newSupervisor(t.TempDir())
	defer s.close()
	p, err := s.start("broken", tierClients, sh, []string{"-c", "echo bad flag >&2; exit 3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-p.exited
	err = p.exitedErr()
	if err == nil || !strings.Contains(err.Error(), "bad flag") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("exitedErr() = %v, want exit status and log tail", err)
	}
}

func waitForLog(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(tailFile(path, 10), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never logged %q", path, want)
}
