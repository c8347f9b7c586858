package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/journal"
)

// TestAuditPauseResumeStop: each pause, stop (pause --revert) and resume
// seen while chaosd runs is journaled with who and from where and leaves
// one Event naming them; what was set before chaosd started, and a pause
// seen again, are not news.
func TestAuditPauseResumeStop(t *testing.T) {
	alice := control.Actor{User: "alice", Groups: []string{"system:masters"}, From: "alice@laptop, context prod"}
	pause := func(mode config.PauseMode, a control.Actor, at time.Time, reason string) map[string]string {
		raw, _ := json.Marshal(control.ManualPause{Mode: mode, Reason: reason, By: a.User, Groups: a.Groups, From: a.From, At: at})
		return map[string]string{control.AnnotationPause: string(raw)}
	}
	resume := func(a *control.Actor, at time.Time) map[string]string {
		m := map[string]string{control.AnnotationResumedAt: at.Format(time.RFC3339Nano)}
		if a != nil {
			raw, _ := json.Marshal(a)
			m[control.AnnotationResumedBy] = string(raw)
		}
		return m
	}
	t1, t2, t3 := testNow.Add(time.Minute), testNow.Add(2*time.Minute), testNow.Add(3*time.Minute)
	tests := []struct {
		name string
		// sights are the ConfigMap's annotations as the informer delivers them.
		sights     []map[string]string
		wantWho    []string // newest first
		wantAction []journal.AuditAction
		wantEvents []string // reason: note fragment
	}{
		{name: "pause before start is not news; resume and pause are",
			sights: []map[string]string{pause(config.Paused, control.Actor{User: "old"}, testNow, "before"),
				resume(&control.Actor{User: "bob", From: "bob@desk, in-cluster"}, t1), pause(config.Paused, alice, t2, "maintenance")},
			wantWho: []string{"alice", "bob"}, wantAction: []journal.AuditAction{journal.AuditPause, journal.AuditResume},
			wantEvents: []string{"Resumed: chaosd resumed by bob from bob@desk, in-cluster",
				"Paused: chaosd paused by alice (groups system:masters) from alice@laptop, context prod: reason: maintenance"}},
		{name: "pause --revert is a stop",
			sights:  []map[string]string{nil, pause(config.PauseRevert, alice, t1, "incident 42")},
			wantWho: []string{"alice"}, wantAction: []journal.AuditAction{journal.AuditStop},
			wantEvents: []string{"EmergencyStop: every active fault reverted: chaosd stopped (pause --revert) by alice (groups system:masters) from alice@laptop, context prod: reason: incident 42"}},
		{name: "the same pause seen again is audited once",
			sights:  []map[string]string{nil, pause(config.Paused, alice, t1, ""), pause(config.Paused, alice, t1, "")},
			wantWho: []string{"alice"}, wantAction: []journal.AuditAction{journal.AuditPause},
			wantEvents: []string{"Paused: chaosd paused by alice (groups system:masters) from alice@laptop, context prod: no reason given"}},
		{name: "resume recorded by an older chaosd",
			sights:     []map[string]string{resume(nil, t1), resume(nil, t3)},
			wantWho:    []string{"unknown (chaosd.io/resumed-by not recorded)"},
			wantAction: []journal.AuditAction{journal.AuditResume},
			wantEvents: []string{"Resumed: chaosd resumed by unknown (chaosd.io/resumed-by not recorded)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset()
			d, _ := testDaemon(t, inScope, kube, nil, false)
			var seen controlsSeen
			for _, a := range tt.sights {
				d.controlsChanged(context.Background(), chaosdConfigMap(a), &seen)
			}
			got := d.journal.Audit(0)
			if len(got) != len(tt.wantWho) {
				t.Fatalf("audit = %+v, want %d entries", got, len(tt.wantWho))
			}
			for i, e := range got {
				if e.Who != tt.wantWho[i] || e.Action != tt.wantAction[i] {
					t.Errorf("entry %d = %s by %q, want %s by %q", i, e.Action, e.Who, tt.wantAction[i], tt.wantWho[i])
				}
			}
			assertEvents(t, kube, tt.wantEvents)
		})
	}
}

// TestAuditConfigAttribution: a config change is attributed to the field
// manager that last wrote the ConfigMap's data, never to chaosd's own
// newer annotation writes, and only when the ConfigMap holds the loaded
// bytes; otherwise, and when it cannot be read, the writer is unknown
// with the reason.
func TestAuditConfigAttribution(t *testing.T) {
	const content = "paused: true\n"
	sum := sha256.Sum256([]byte(content))
	hash := hex.EncodeToString(sum[:])
	written := time.Date(2026, 11, 25, 11, 59, 58, 0, time.UTC)
	managed := func(manager string, at time.Time, fields string) metav1.ManagedFieldsEntry {
		mt := metav1.NewTime(at)
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, Time: &mt,
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	cm := func(data string) *corev1.ConfigMap {
		c := chaosdConfigMap(nil)
		c.ResourceVersion, c.Data = "812", map[string]string{"config.yaml": data}
		c.ManagedFields = []metav1.ManagedFieldsEntry{
			managed("helm", written.Add(-time.Hour), `{"f:data":{"f:config.yaml":{}}}`),
			managed("bob-editor", written, `{"f:data":{"f:config.yaml":{}}}`),
			managed("chaosd", written.Add(time.Minute), `{"f:metadata":{"f:annotations":{"f:chaosd.io/status":{}}}}`),
		}
		return c
	}
	tests := []struct {
		name     string
		cm       *corev1.ConfigMap // nil: the read fails
		hash     string
		rejected error
		want     journal.AuditEntry
		event    string
	}{
		{name: "loaded, attributed to the last data writer", cm: cm(content), hash: hash,
			want: journal.AuditEntry{Action: journal.AuditConfig, Who: "bob-editor (field manager)", FieldManager: "bob-editor", Operation: "Update",
				ResourceVersion: "812", ConfigHash: hash, WrittenAt: written,
				From: "configmap chaosd/chaosd-config key config.yaml, Update at 2026-11-25T11:59:58Z, resourceVersion 812"},
			event: "ConfigReloaded: config reloaded (" + hash[:12] + "); written by bob-editor (field manager) from configmap chaosd/chaosd-config key config.yaml"},
		{name: "the ConfigMap holds other bytes", cm: cm("paused: false\n"), hash: hash,
			want: journal.AuditEntry{Action: journal.AuditConfig, FieldManager: "bob-editor", Operation: "Update", ResourceVersion: "812", ConfigHash: hash, WrittenAt: written,
				Who:  "unknown (configmap chaosd/chaosd-config at resourceVersion 812 does not hold this config; its last data writer is bob-editor)",
				From: "configmap chaosd/chaosd-config"},
			event: "ConfigReloaded: config reloaded (" + hash[:12] + "); written by unknown (configmap"},
		{name: "rejected, attributed without comparing bytes", cm: cm("bad"), rejected: errors.New("experiments[0].name: required"),
			want: journal.AuditEntry{Action: journal.AuditConfigRejected, Who: "bob-editor (field manager)", FieldManager: "bob-editor", Operation: "Update",
				ResourceVersion: "812", WrittenAt: written, From: "configmap chaosd/chaosd-config, Update at 2026-11-25T11:59:58Z, resourceVersion 812"},
			event: "ConfigRejected: config rejected, last good config still in force: experiments[0].name: required; written by bob-editor"},
		{name: "the ConfigMap cannot be read", hash: hash,
			want:  journal.AuditEntry{Action: journal.AuditConfig, ConfigHash: hash, Who: "unknown (read configmap chaosd/chaosd-config: boom)", From: "configmap chaosd/chaosd-config"},
			event: "ConfigReloaded: config reloaded (" + hash[:12] + "); written by unknown (read configmap chaosd/chaosd-config: boom)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset()
			// A reactor, not the tracker: the fake's field manager would
			// rewrite managedFields on create.
			kube.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
				if tt.cm == nil {
					return true, nil, errors.New("boom")
				}
				return true, tt.cm, nil
			})
			d, _ := testDaemon(t, inScope, kube, nil, false)
			d.auditConfig(tt.hash, tt.rejected)
			got := d.journal.Audit(0)
			if len(got) != 1 {
				t.Fatalf("audit = %+v, want one entry", got)
			}
			e := got[0]
			if e.Action != tt.want.Action || e.Who != tt.want.Who || e.From != tt.want.From || e.FieldManager != tt.want.FieldManager ||
				e.Operation != tt.want.Operation || e.ResourceVersion != tt.want.ResourceVersion || e.ConfigHash != tt.want.ConfigHash ||
				!e.WrittenAt.Equal(tt.want.WrittenAt) || !e.At.Equal(testNow) {
				t.Errorf("entry =\n%+v\nwant\n%+v", e, tt.want)
			}
			assertEvents(t, kube, []string{tt.event})
		})
	}
}

// assertEvents checks that the Events on chaosd's ConfigMap are exactly
// want, as "reason: note" prefixes, in any order (the fake lists a map).
func assertEvents(t *testing.T, kube *fake.Clientset, want []string) {
	t.Helper()
	list, err := kube.EventsV1().Events(testNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range list.Items {
		if ev.Regarding.Kind == "ConfigMap" && ev.Regarding.Name == testConfigMap {
			got = append(got, ev.Reason+": "+ev.Note)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("events = %q, want %d", got, len(want))
	}
	for _, w := range want {
		n := 0
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d events begin %q, want 1; events: %q", n, w, got)
		}
	}
}
