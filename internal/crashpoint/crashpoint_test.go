package crashpoint

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestHit runs this test binary again as a child armed at a point, and
// checks the child dies by SIGKILL at that point and nowhere else (with
// -tags chaosdcrash), or runs to its end (release build).
func TestHit(t *testing.T) {
	if os.Getenv("CRASHPOINT_CHILD") != "" {
		Hit("other.point")
		os.Stdout.WriteString("before\n")
		Hit("armed.point")
		os.Stdout.WriteString("after\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHit$")
	cmd.Env = append(os.Environ(), "CRASHPOINT_CHILD=1", EnvVar+"=armed.point")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if !Enabled {
		if err != nil || !bytes.Contains(stdout.Bytes(), []byte("after")) || bytes.Contains(stderr.Bytes(), []byte(Marker)) {
			t.Fatalf("release build: child err %v, stdout %q, stderr %q; want it to run to its end without a crash", err, stdout.String(), stderr.String())
		}
		return
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child err %v, want it killed", err)
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL", ee)
	}
	if !bytes.Contains(stdout.Bytes(), []byte("before")) || bytes.Contains(stdout.Bytes(), []byte("after")) {
		t.Fatalf("child stdout %q: want it killed between the two writes", stdout.String())
	}
	if want := Marker + "armed.point\n"; stderr.String() != want {
		t.Fatalf("child stderr %q, want %q", stderr.String(), want)
	}
}
