//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSmokePlayground runs the README's first command, `make demo`, as a
// newcomer would: it waits for chaosd's status page to show a passed run
// (the playground's demo stays healthy, so every run must pass), then
// presses Ctrl-C and checks everything stops.
func TestSmokePlayground(t *testing.T) {
	if os.Getenv("CHAOSD_E2E_KUBECONFIG") != "" {
		t.Skip("the playground starts its own cluster")
	}
	// go test runs in the package's directory; runtime.Caller would give a
	// module path, not a directory, under -trimpath (which make sets).
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(wd, "..", "..")
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

	// config/demo.yaml runs kill-random-pod @every 1m with 20s jitter, and
	// nothing in the playground turns the demo unhealthy: every run must
	// pass. Any other verdict (error, skipped, aborted, weakness) is a broken
	// playground, whatever the status page shows.
	var run playgroundRun
	eventually(t, 3*time.Minute, "a finished run on the status API", func() bool {
		runs, err := playgroundRuns(base)
		if err != nil {
			return false // chaosd starts listening after the guide is printed
		}
		finished := false
		for _, r := range runs {
			switch r.Verdict {
			case "": // still running
			case "passed":
				run, finished = r, true
			case "alert-gap":
				// abort-grpc-demo's 10% abort is one by design (config/demo.yaml):
				// checked in "the gRPC demo carries real traffic" below.
				if r.Experiment != "abort-grpc-demo" {
					t.Fatalf("run %s of %s: alert-gap (%s); only abort-grpc-demo's SLI is set to find one", r.RunID, r.Experiment, r.Reason)
				}
			default:
				t.Fatalf("run %s of %s: verdict %q (%s), want passed: the playground's demo is healthy", r.RunID, r.Experiment, r.Verdict, r.Reason)
			}
		}
		return finished
	})
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `class="v-passed"`) {
		t.Fatalf("status page does not show run %s as passed", run.RunID)
	}
	t.Logf("the status page shows run %s of %s as passed", run.RunID, run.Experiment)

	t.Run("every printed link and command works as printed", func(t *testing.T) {
		playgroundFollowGuide(t, root, log.String())
	})

	t.Run("the gRPC demo carries real traffic that a held abort fails", func(t *testing.T) {
		playgroundTrafficFault(t, base, log.String())
	})

	t.Run("make it fail as the guide says: a weakness, ChaosWeaknessFound and the guard panel", func(t *testing.T) {
		playgroundMakeItFail(t, base, log.String())
	})

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

// playgroundGet returns a 200 response's body.
func playgroundGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", u, resp.Status, err)
	}
	return string(b)
}

// playgroundRun is a run as the status API lists it.
type playgroundRun struct {
	RunID      string `json:"runId"`
	Experiment string `json:"experiment"`
	Verdict    string `json:"verdict"`
	Reason     string `json:"reason"`
}

// playgroundRuns reads the finished runs from chaosd's status API.
func playgroundRuns(base string) ([]playgroundRun, error) {
	resp, err := http.Get(base + "/api/v1/runs")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/runs: %s", resp.Status)
	}
	var runs []playgroundRun
	if err := json.NewDecoder(resp.Body).Decode(&runs); err != nil {
		return nil, fmt.Errorf("decode /api/v1/runs: %w", err)
	}
	return runs, nil
}

// playgroundFollowGuide follows every URL the playground printed (GET, or
// POST for the curl -X POST /healthy line; /unhealthy is left alone, as it
// would make the next runs weaknesses) and runs every printed chaosd and kubectl command in a
// shell from the repository root, as a newcomer would paste it. A 404, a
// non-2xx, Debian's "no web application" placeholder or a failing command
// fails it.
func playgroundFollowGuide(t *testing.T, root, output string) {
	start := strings.Index(output, "chaosd playground")
	end := strings.Index(output, "Ctrl-C (chaosd reverts")
	if start < 0 || end < start {
		t.Fatalf("no guide in the output:\n%s", tail(output, 40))
	}
	guide := output[start:end]
	urlRE := regexp.MustCompile(`http://[^\s)]+`)
	client := &http.Client{Timeout: 30 * time.Second}
	var followed, ran int
	for _, line := range strings.Split(guide, "\n") {
		line = strings.TrimSpace(line)
		if strings.Contains(line, "/unhealthy") {
			continue // breaking the demo is the newcomer's choice, not this test's
		}
		if i := strings.Index(line, "curl -X POST "); i >= 0 {
			u := urlRE.FindString(line[i:])
			resp, err := client.Post(u, "text/plain", nil)
			if err != nil {
				t.Errorf("%s: %v", line, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Errorf("POST %s: %s", u, resp.Status)
			}
			followed++
			continue
		}
		for _, u := range urlRE.FindAllString(line, -1) {
			resp, err := client.Get(u)
			if err != nil {
				t.Errorf("GET %s: %v", u, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "does not include a web application") {
				t.Errorf("GET %s: %s, %d bytes: not a working page: %.200s", u, resp.Status, len(body), body)
			}
			followed++
		}
		i := strings.Index(line, "/chaosd ")
		if i < 0 {
			i = strings.Index(line, "/kubectl ")
		}
		if i >= 0 && strings.Contains(line, "--kubeconfig") {
			cmdline := line[strings.LastIndex(line[:i], " ")+1:]
			cmd := exec.Command("sh", "-c", cmdline)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%s: %v\n%s", cmdline, err, out)
			}
			ran++
		}
	}
	t.Logf("followed %d printed URLs, ran %d printed chaosd and kubectl commands", followed, ran)
	if followed < 7 || ran != 5 {
		t.Errorf("followed %d URLs and ran %d commands; the guide prints at least 7 URLs, 3 chaosd and 2 kubectl commands (the kubectl hack/e2e-bins.sh builds):\n%s", followed, ran, guide)
	}
}

// playgroundTrafficFault waits for a passed run of abort-grpc-demo (10% of
// the gRPC demo's requests aborted through istiod for 30s) and asks the
// playground's Prometheus what the demo's client saw: requests answered OK,
// and requests failed with the abort's code (503 is UNAVAILABLE in gRPC), so
// the traffic is real and the fault reached it. The verdict alert-gap says
// the demo's SLI (its error ratio, +5 points tolerated) got worse while the
// error-ratio alert (25%) stayed quiet: chaosd raised ChaosAlertGapFound
// and the status page charts the SLI.
func playgroundTrafficFault(t *testing.T, base, output string) {
	m := regexp.MustCompile(`Prometheus\s+(http://\S+)/classic/graph`).FindStringSubmatch(output)
	am := regexp.MustCompile(`Alertmanager\s+(http://\S+)/api/v2/alerts`).FindStringSubmatch(output)
	if m == nil || am == nil {
		t.Fatalf("no Prometheus or Alertmanager URL in the guide:\n%s", tail(output, 40))
	}
	prom := m[1]
	var run playgroundRun
	// Activations every 90s with 20s jitter, a 45s run: 8 minutes is a hang guard.
	eventually(t, 8*time.Minute, "a finished run of abort-grpc-demo", func() bool {
		runs, err := playgroundRuns(base)
		if err != nil {
			t.Fatalf("status API: %v", err)
		}
		for _, r := range runs {
			if r.Experiment == "abort-grpc-demo" && r.Verdict != "" {
				run = r
				return true
			}
		}
		return false
	})
	if run.Verdict != "alert-gap" {
		t.Fatalf("run %s of abort-grpc-demo: %s (%s), want alert-gap: a 10%% abort moves the error ratio beyond +5 points and stays under the 25%% alert", run.RunID, run.Verdict, run.Reason)
	}
	page := playgroundGet(t, base+"/")
	if want := "SLI grpc-error-ratio (abort-grpc-demo)"; !strings.Contains(page, want) {
		t.Errorf("status page has no chart panel %q", want)
	}
	eventually(t, time.Minute, "ChaosAlertGapFound in Alertmanager", func() bool { // hang guard
		body := playgroundGet(t, am[1]+"/api/v2/alerts?filter="+url.QueryEscape(`alertname="ChaosAlertGapFound"`))
		return strings.Contains(body, base+"/api/v1/runs/"+run.RunID+"/report")
	})
	query := func(q string) float64 {
		t.Helper()
		resp, err := http.Get(prom + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("query %s: %s %v", q, resp.Status, err)
		}
		if len(body.Data.Result) == 0 {
			return 0
		}
		v, _ := body.Data.Result[0].Value[1].(string)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("query %s: value %q", q, v)
		}
		return f
	}
	const counter = `grpc_client_handled_total{job="grpc-demo",grpc_service="chaosd.demo.Demo",grpc_code="%s"}`
	var ok, failed float64
	// Prometheus scrapes every second; a few scrapes after the run is a hang guard.
	eventually(t, time.Minute, "Prometheus to show the demo's OK and UNAVAILABLE requests", func() bool {
		ok, failed = query(fmt.Sprintf(`sum(`+counter+`)`, "OK")), query(fmt.Sprintf(`sum(`+counter+`)`, "Unavailable"))
		return ok > 0 && failed > 0
	})
	t.Logf("the gRPC demo's client: %.0f requests OK, %.0f failed UNAVAILABLE by abort-grpc-demo (run %s)", ok, failed, run.RunID)
	if ratio := failed / (ok + failed); ratio > 0.25 {
		t.Errorf("%.0f%% of all the demo's requests failed; a 10%% abort held 30s should fail far fewer", 100*ratio)
	}
	playgroundWantAlertRule(t, prom, "GRPCDemoErrorRatioHigh")
}

// playgroundWantAlertRule: the playground's Prometheus has loaded the alert
// and evaluates it without error, so the guard's error-ratio alert is
// computed from the real requests above (TestTrafficGuard shows the same
// rule firing and halting a fault).
func playgroundWantAlertRule(t *testing.T, prom, name string) {
	t.Helper()
	resp, err := http.Get(prom + "/api/v1/rules?type=alert")
	if err != nil {
		t.Fatalf("Prometheus rules: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name           string  `json:"name"`
					Health         string  `json:"health"`
					LastError      string  `json:"lastError"`
					EvaluationTime float64 `json:"evaluationTime"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Prometheus rules: %s %v", resp.Status, err)
	}
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			if r.Name != name {
				continue
			}
			if r.Health != "ok" {
				t.Fatalf("alert %s: health %q (%s), want ok", name, r.Health, r.LastError)
			}
			return
		}
	}
	t.Fatalf("the playground's Prometheus has no alert %s", name)
}

// playgroundMakeItFail does what the guide's "make it fail" lines say:
// while abort-go-demo-8's fault is held (the status page lists it), it
// POSTs the printed /unhealthy URL, then checks that chaosd found a
// weakness in that run, raised ChaosWeaknessFound in the printed
// Alertmanager, and that the status page's guard panel showed the check.
func playgroundMakeItFail(t *testing.T, base, output string) {
	unhealthy := regexp.MustCompile(`curl -X POST (http://\S+/unhealthy)`).FindStringSubmatch(output)
	am := regexp.MustCompile(`Alertmanager\s+(http://\S+)/api/v2/alerts`).FindStringSubmatch(output)
	if unhealthy == nil || am == nil {
		t.Fatalf("no /unhealthy or Alertmanager URL in the guide:\n%s", tail(output, 40))
	}
	healthy := strings.TrimSuffix(unhealthy[1], "/unhealthy") + "/healthy"
	var runID string
	// abort-go-demo-8: every 3m (10s jitter), held 90s; 5 minutes is a hang guard.
	eventually(t, 5*time.Minute, "abort-go-demo-8's fault held (Active faults)", func() bool {
		resp, err := http.Get(base + "/api/v1/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			Active []struct{ RunID, Experiment string }
		}
		if json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false
		}
		for _, a := range st.Active {
			if a.Experiment == "abort-go-demo-8" {
				runID = a.RunID
				return true
			}
		}
		return false
	})
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`id="guard-state"`, `<table id="guard-checks">`, "demo is healthy", `<svg class="chart"`, `class="fault-window"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("status page while the fault is held lacks %q", want)
		}
	}
	post := func(u string) {
		t.Helper()
		resp, err := http.Post(u, "text/plain", nil)
		if err != nil {
			t.Fatalf("POST %s: %v", u, err)
		}
		resp.Body.Close()
	}
	post(unhealthy[1])
	defer post(healthy)
	// Prometheus scrapes every second and the rule has for: 0s; the guard
	// polls every second: a minute is a hang guard.
	eventually(t, time.Minute, "run "+runID+" to end with a weakness", func() bool {
		runs, err := playgroundRuns(base)
		if err != nil {
			return false
		}
		for _, r := range runs {
			if r.RunID == runID && r.Verdict != "" {
				if r.Verdict != "weakness" {
					t.Fatalf("run %s: %s (%s), want weakness", r.RunID, r.Verdict, r.Reason)
				}
				return true
			}
		}
		return false
	})
	eventually(t, time.Minute, "ChaosWeaknessFound in Alertmanager", func() bool {
		resp, err := http.Get(am[1] + "/api/v2/alerts?filter=" + url.QueryEscape(`alertname="ChaosWeaknessFound"`))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var alerts []struct {
			Annotations map[string]string `json:"annotations"`
		}
		return json.NewDecoder(resp.Body).Decode(&alerts) == nil && len(alerts) == 1 &&
			alerts[0].Annotations["report_url"] == base+"/api/v1/runs/"+runID+"/report"
	})
	t.Logf("run %s found a weakness and raised ChaosWeaknessFound with its report link", runID)
}
