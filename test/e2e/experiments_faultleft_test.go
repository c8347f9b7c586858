//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	istiov1 "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/experiments"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/test/cluster"
)

// faultLeftConfig holds a 50% abort on go-demo-8's VirtualService for 6 s,
// long enough for the test to edit it; "@every 1h" keeps the daemon's
// scheduler out of the way, "@every 4s" lets the daemon start a run soon.
const faultLeftConfig = `
experiments:
  - name: abort-edited
    schedule: "SCHEDULE"
    target: {kind: virtualservice, namespaces: [go-demo-8], selector: app=go-demo-8, mode: one}
    action: {type: http-abort, status: 500, percent: 50}
    duration: 6s
    observe: 0s
`

// faultLeftEditor is the field manager of the test's second client.
const faultLeftEditor = "e2e-editor"

// TestExperimentsFaultLeftWhenEdited: while chaosd holds a 50% abort, a
// second client (field manager e2e-editor) sets its percentage to 75. The
// revert must leave that abort in place (it is someone else's now), clear
// chaosd's intent, and say so everywhere: a ChaosFaultLeft Warning Event on
// the VirtualService naming e2e-editor, the run's reason and journal,
// `chaosd once`'s summary and exit code 5, and in the daemon the status
// page and chaosd_faults_left_total.
func TestExperimentsFaultLeftWhenEdited(t *testing.T) {
	c := expStart(t, cluster.FullOptions())
	original := expGetVS(t, c, cluster.DemoNamespace, "go-demo-8").Spec
	want := `fault left in place on route #0 of virtualservice/go-demo-8/go-demo-8 (abort): changed by ` + faultLeftEditor

	t.Run("chaosd once exits 5", func(t *testing.T) {
		vs := guardWatchVirtualServices(t, c)
		cfg := newConfigDir(t, withMonitoring(c, expGuard+strings.ReplaceAll(faultLeftConfig, "SCHEDULE", "@every 1h")))
		dir := t.TempDir()
		once := safetyStartOnce(t, c, cfg.Path, "abort-edited", "--journal-dir", dir)
		vs.next(t, 0, 2*time.Minute, "chaosd once's injection", func(e guardVSEvent) bool { return e.Name == "go-demo-8" && e.Injected })
		editedAt := faultLeftNudge(t, c)
		safetyWait(t, once.done, 2*time.Minute, "chaosd once to revert and exit")
		out := once.out.String()
		if code := once.cmd.ProcessState.ExitCode(); code != 5 || !strings.Contains(out, "left:    "+want) {
			t.Fatalf("exit %d, want 5 and the summary line %q:\n%s", code, want, tail(out, 40))
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) != 1 {
			t.Fatalf("journal files %v (%v)", files, err)
		}
		rec, err := journal.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if left := rec.FaultsLeft(); len(left) != 1 || left[0] != want || !strings.Contains(rec.Reason, want) {
			t.Errorf("journal: faults left %q, reason %q; want %q in both", left, rec.Reason, want)
		}
		faultLeftCheck(t, c, want, editedAt)
		faultLeftRestore(t, c, original)
	})

	t.Run("the daemon counts it and shows it", func(t *testing.T) {
		vs := guardWatchVirtualServices(t, c)
		cfg := newConfigDir(t, withMonitoring(c, expGuard+strings.ReplaceAll(faultLeftConfig, "SCHEDULE", "@every 4s")))
		p := startChaosd(t, c, cfg.Path)
		const series = `chaosd_faults_left_total{action="http-abort",experiment="abort-edited"}`
		if v := guardMetric(t, p, series); v != 0 {
			t.Fatalf("%s = %v before any run, want 0", series, v)
		}
		vs.next(t, 0, 2*time.Minute, "the daemon's injection", func(e guardVSEvent) bool { return e.Name == "go-demo-8" && e.Injected })
		editedAt := faultLeftNudge(t, c)
		r := guardWaitRun(t, p, time.Minute, "the edited run's record", func(guardRun) bool { return true })
		if v := guardMetric(t, p, series); v != 1 {
			t.Errorf("%s = %v after the run, want 1", series, v)
		}
		if _, page := p.Get(t, "/"); !strings.Contains(page, want) {
			t.Errorf("the status page does not show %q", want)
		}
		// Stop before a second run injects on top of the fault left.
		p.Stop(30 * time.Second)
		if !strings.Contains(r.Reason, want) {
			t.Errorf("run %s reason %q, want %q", r.RunID, r.Reason, want)
		}
		if !strings.Contains(p.Log(), "fault left in place: changed by another writer while held") {
			t.Errorf("no warning log for the fault left:\n%s", tail(p.Log(), 30))
		}
		faultLeftCheck(t, c, want, editedAt)
		faultLeftRestore(t, c, original)
	})
}

// faultLeftNudge sets the held abort's percentage to 75 as field manager
// e2e-editor, and returns when it did.
func faultLeftNudge(t *testing.T, c *cluster.Cluster) time.Time {
	t.Helper()
	expUpdateVSAs(t, c, "go-demo-8", faultLeftEditor, func(vs *istiov1.VirtualService) {
		if vs.Spec.Http[0].Fault.GetAbort() == nil {
			t.Fatalf("no abort to nudge on go-demo-8: %v", vs.Spec.Http[0].Fault)
		}
		vs.Spec.Http[0].Fault.Abort.Percentage.Value = 75
	})
	return time.Now()
}

// faultLeftCheck: the nudged abort is still on the route, chaosd's intent
// is gone, and the VirtualService has a ChaosFaultLeft Warning Event
// saying so.
func faultLeftCheck(t *testing.T, c *cluster.Cluster, want string, editedAt time.Time) {
	t.Helper()
	ctx := context.Background()
	vs, err := c.Istio.NetworkingV1().VirtualServices(cluster.DemoNamespace).Get(ctx, "go-demo-8", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := vs.Spec.Http[0].Fault.GetAbort().GetPercentage().GetValue(); got != 75 {
		t.Errorf("route 0's abort percentage %v after the revert, want the editor's 75 left in place (%v)", got, vs.Spec.Http[0].Fault)
	}
	if chaosdMarked(vs.Labels, vs.Annotations) {
		t.Errorf("chaosd's intent is still on go-demo-8: %v %v", vs.Labels, vs.Annotations)
	}
	var found bool
	eventually(t, 30*time.Second, "a ChaosFaultLeft Warning Event on go-demo-8", func() bool {
		evs, err := c.Kube.EventsV1().Events(cluster.DemoNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.Reason == experiments.ReasonFaultLeft && e.Type == "Warning" && e.Regarding.Name == "go-demo-8" &&
				e.EventTime.After(editedAt) && strings.Contains(e.Note, want) {
				found = true
			}
		}
		return found
	})
}

// faultLeftRestore puts the spec back as it was before the test: the fault
// left in place is the test's to remove, as it would be a user's.
func faultLeftRestore(t *testing.T, c *cluster.Cluster, spec json.RawMessage) {
	t.Helper()
	var orig istiov1.VirtualService
	if err := json.Unmarshal([]byte(`{"spec":`+string(spec)+`}`), &orig); err != nil {
		t.Fatalf("the VirtualService's spec before the run: %v", err)
	}
	expUpdateVSAs(t, c, "go-demo-8", faultLeftEditor, func(vs *istiov1.VirtualService) {
		orig.Spec.DeepCopyInto(&vs.Spec)
	})
	assertNothingLeft(t, c)
}
