//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/journal"
	"github.com/chaosd/chaosd/test/cluster"
)

// TestDaemonAuditAttributesPauseAndConfigEdits proves the audit trail
// against the real API server: `chaosd pause` and `chaosd resume` run with
// a kubeconfig that impersonates alice are attributed to alice (the API
// server's SelfSubjectReview, not the OS user), and a ConfigMap edit by
// bob with field manager bob-editor is attributed to bob-editor (the
// ConfigMap's managedFields), although chaosd's own status writes to the
// same ConfigMap are newer. Each shows on the status page, in the
// journal's audit log, in `chaosd status` and as an Event on the ConfigMap.
func TestDaemonAuditAttributesPauseAndConfigEdits(t *testing.T) {
	c := schedCluster(t)
	ctx := context.Background()
	first := withMonitoring(c, schedIdleConfig)
	// The ConfigMap holds the config, as the Helm chart creates it; the
	// mounted file follows it (configDir.Swap plays the kubelet).
	auditCreateConfigMap(t, c, first)
	cfg := newConfigDir(t, first)
	journalDir := filepath.Join(t.TempDir(), "journal")
	p := startChaosd(t, c, cfg.Path, "--journal-dir", journalDir)
	// chaosd audits only what changes while it watches: wait for its first
	// status write, seconds after its ConfigMap watch started.
	eventually(t, 30*time.Second, "chaosd's first status on its ConfigMap", func() bool {
		cm, err := c.Kube.CoreV1().ConfigMaps(chaosdNamespace).Get(ctx, chaosdConfigMap, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get configmap: %v", err)
		}
		return cm.Annotations[control.AnnotationStatus] != ""
	})
	alice := auditKubeconfig(t, c, "alice")

	out := auditCtl(t, alice, "pause", "--reason", "audit e2e")
	if !strings.Contains(out, "as alice (groups system:masters") {
		t.Errorf("chaosd pause says it acted as something other than alice:\n%s", out)
	}
	auditWaitRow(t, p, "pause", `alice \(system:masters[^<]*\)</td><td>[^<]*, context chaosd-e2e</td><td>reason: audit e2e`)

	// bob edits the config with his own field manager; then the kubelet
	// would update the mount.
	second := first + "# edited by bob\n"
	rv := auditWriteConfig(t, c.RESTConfig, "bob", "bob-editor", second)
	cfg.Swap(t, second)
	auditWaitRow(t, p, "config", `bob-editor \(field manager\)</td><td>configmap chaosd/chaosd-config key config.yaml, Update at [^<]*, resourceVersion [0-9]+</td>`)

	auditCtl(t, alice, "resume")
	auditWaitRow(t, p, "resume", `alice \(system:masters[^<]*\)</td>`)

	entries, err := journal.ReadAuditFile(filepath.Join(journalDir, journal.AuditFile))
	if err != nil {
		t.Fatalf("read the journal's audit log: %v", err)
	}
	sum := sha256.Sum256([]byte(second))
	want := []struct {
		action journal.AuditAction
		check  func(journal.AuditEntry) bool
	}{
		{journal.AuditPause, func(e journal.AuditEntry) bool {
			return e.Who == "alice" && slices.Contains(e.Groups, "system:masters") && strings.HasSuffix(e.From, ", context chaosd-e2e")
		}},
		{journal.AuditConfig, func(e journal.AuditEntry) bool {
			// The version chaosd read: bob's, or later when chaosd's own
			// status write came between (etcd revisions are numbers here).
			read, err := strconv.ParseInt(e.ResourceVersion, 10, 64)
			return e.FieldManager == "bob-editor" && e.Operation == "Update" && err == nil && read >= rv &&
				e.ConfigHash == hex.EncodeToString(sum[:])
		}},
		{journal.AuditResume, func(e journal.AuditEntry) bool {
			return e.Who == "alice" && slices.Contains(e.Groups, "system:masters")
		}},
	}
	if len(entries) != len(want) {
		t.Fatalf("journal audit log = %+v, want %d entries: pause, config, resume", entries, len(want))
	}
	for i, w := range want {
		if entries[i].Action != w.action || !w.check(entries[i]) {
			t.Errorf("journal audit entry %d = %+v, want %s attributed as above", i, entries[i], w.action)
		}
	}

	// chaosd status reads the status the leader publishes every few seconds.
	statusLines := []string{"audit (newest first):", "  resume          alice (system:masters",
		"  config          bob-editor (field manager) from configmap chaosd/chaosd-config", "  pause           alice (system:masters"}
	var status string
	eventually(t, 30*time.Second, "chaosd status to list the three audit entries", func() bool {
		var code int
		if code, status = runChaosdCommand(t, c, 30*time.Second, "status", "--namespace", chaosdNamespace); code != 0 {
			t.Fatalf("chaosd status: exit %d\n%s", code, status)
		}
		return strings.Contains(status, statusLines[1])
	})
	for _, w := range statusLines {
		if !strings.Contains(status, w) {
			t.Errorf("chaosd status lacks %q:\n%s", w, status)
		}
	}

	// Each Event is created right after its journal entry.
	wantEvents := []struct{ reason, note string }{
		{"Paused", "chaosd paused by alice (groups system:masters"},
		{"ConfigReloaded", "written by bob-editor (field manager)"},
		{"Resumed", "chaosd resumed by alice (groups system:masters"},
	}
	var events *eventsv1.EventList
	eventually(t, 30*time.Second, "the three audit Events on chaosd's ConfigMap", func() bool {
		if events, err = c.Kube.EventsV1().Events(chaosdNamespace).List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatalf("list events: %v", err)
		}
		return slices.ContainsFunc(events.Items, func(ev eventsv1.Event) bool { return ev.Reason == "Resumed" })
	})
	for _, w := range wantEvents {
		if !slices.ContainsFunc(events.Items, func(ev eventsv1.Event) bool {
			return ev.Reason == w.reason && ev.Regarding.Name == chaosdConfigMap && strings.Contains(ev.Note, w.note)
		}) {
			t.Errorf("no %s Event on the ConfigMap with %q; events:\n%s", w.reason, w.note, auditEventNotes(events.Items))
		}
	}
}

// auditKubeconfig writes the cluster's admin kubeconfig impersonating
// user (in group system:masters, so RBAC lets it annotate the ConfigMap).
func auditKubeconfig(t *testing.T, c *cluster.Cluster, user string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	if len(cfg.AuthInfos) != 1 {
		t.Fatalf("kubeconfig has %d users, want the admin only", len(cfg.AuthInfos))
	}
	for _, u := range cfg.AuthInfos {
		u.Impersonate, u.ImpersonateGroups = user, []string{"system:masters"}
	}
	path := filepath.Join(t.TempDir(), user+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	return path
}

// auditCreateConfigMap creates chaosd's namespace and its ConfigMap with
// the config in it, with field manager helm. It must hold data from the
// start: the API server tracks no field manager on an object created
// without fields (ensureChaosdNamespace's empty ConfigMap) until a first
// server-side apply, so later updates would have no managedFields.
func auditCreateConfigMap(t *testing.T, c *cluster.Cluster, content string) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chaosdNamespace}}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace: %v", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: chaosdNamespace, Name: chaosdConfigMap},
		Data: map[string]string{"config.yaml": content}}
	if _, err := c.Kube.CoreV1().ConfigMaps(chaosdNamespace).Create(ctx, cm, metav1.CreateOptions{FieldManager: "helm"}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}
}

// auditWriteConfig puts content into chaosd's ConfigMap as user with
// field manager manager, and returns its resourceVersion.
func auditWriteConfig(t *testing.T, admin *rest.Config, user, manager, content string) int64 {
	t.Helper()
	cfg := rest.CopyConfig(admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:masters"}}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cm, err := kube.CoreV1().ConfigMaps(chaosdNamespace).Get(ctx, chaosdConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap: %v", err)
	}
	cm.Data = map[string]string{"config.yaml": content}
	cm, err = kube.CoreV1().ConfigMaps(chaosdNamespace).Update(ctx, cm, metav1.UpdateOptions{FieldManager: manager})
	if err != nil {
		t.Fatalf("update configmap as %q with field manager %s: %v", user, manager, err)
	}
	rv, err := strconv.ParseInt(cm.ResourceVersion, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q is not an etcd revision: %v", cm.ResourceVersion, err)
	}
	return rv
}

// auditCtl runs a chaosd control command with kubeconfig and returns its
// output; it fails the test on a non-zero exit.
func auditCtl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // hang guard
	defer cancel()
	cmd := exec.CommandContext(ctx, chaosdBinary(t), append(args, "--kubeconfig", kubeconfig, "--namespace", chaosdNamespace)...)
	cmd.Env = append(os.Environ(), "KUBERNETES_SERVICE_HOST=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chaosd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// auditWaitRow waits until the status page's audit table has a row for
// action whose cells after the time match row (a regexp).
func auditWaitRow(t *testing.T, p *chaosdProcess, action, row string) {
	t.Helper()
	re := regexp.MustCompile(`<tr><td class="nw">[^<]+</td><td class="nw">` + regexp.QuoteMeta(action) + `</td><td>` + row)
	var page string
	deadline := time.Now().Add(30 * time.Second) // hang guard
	for time.Now().Before(deadline) {
		_, page = p.Get(t, "/")
		if re.MatchString(page) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	section := page
	if i := strings.Index(page, `<section id="audit">`); i >= 0 {
		section = page[i:]
	}
	t.Fatalf("no audit row %s matching %s on the status page:\n%s", action, re, section)
}

func auditEventNotes(items []eventsv1.Event) string {
	var notes []string
	for _, ev := range items {
		notes = append(notes, ev.Reason+": "+ev.Note)
	}
	return strings.Join(notes, "\n")
}
