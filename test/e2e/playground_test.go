//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSmokePlayground runs the README's first command, `make demo`, as a
// newcomer would: it waits for chaosd's status page to show a run with a
// verdict, then presses Ctrl-C and checks everything stops.
func TestSmokePlayground(t *testing.T) {
	if os.Getenv("CHAOSD_E2E_KUBECONFIG") != "" {
		t.Skip("the playground starts its own cluster")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("make", "demo")
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("make demo: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var log syncBuffer
	statusURL := make(chan string, 1)
	pageLine := regexp.MustCompile(`status page\s+(http://\S+)/`)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			_, _ = io.WriteString(&log, line+"\n")
			if m := pageLine.FindStringSubmatch(line); m != nil {
				statusURL <- m[1]
			}
		}
	}()
	interrupted := false
	t.Cleanup(func() {
		if !interrupted {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("make demo output:\n%s", tail(log.String(), 80))
		}
	})

	var base string
	select {
	case base = <-statusURL:
	case err := <-done:
		t.Fatalf("make demo exited before printing its guide: %v", err)
	case <-time.After(10 * time.Minute): // a cold machine builds the binaries first
		t.Fatal("make demo printed no status page address within 10 minutes")
	}
	t.Logf("playground status page at %s", base)

	// config/demo.yaml runs kill-random-pod @every 1m with 20s jitter.
	var verdict string
	eventually(t, 3*time.Minute, "a finished run on the status API", func() bool {
		resp, err := http.Get(base + "/api/v1/runs")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var runs []struct {
			Verdict string `json:"verdict"`
		}
		if json.NewDecoder(resp.Body).Decode(&runs) != nil || len(runs) == 0 {
			return false
		}
		verdict = runs[0].Verdict
		return verdict != ""
	})
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `class="v-`+verdict+`"`) {
		t.Fatalf("status page does not show the run's verdict %q", verdict)
	}
	t.Logf("the status page shows a %s run", verdict)

	// Ctrl-C, as a person would: the whole process group gets SIGINT.
	interrupted = true
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatal("make demo did not stop within 2 minutes of Ctrl-C")
	}
	if !strings.Contains(log.String(), "chaosd stopped") {
		t.Errorf("chaosd did not shut down cleanly on Ctrl-C")
	}
	if err := syscall.Kill(-cmd.Process.Pid, 0); err == nil {
		t.Errorf("processes of the playground are still running after Ctrl-C")
	}
}
