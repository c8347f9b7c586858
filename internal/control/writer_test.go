package control

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestLastConfigWriter: the config's writer is the newest managedFields
// entry that owns data, never chaosd's own annotation writes, which are
// newer on every live ConfigMap.
func TestLastConfigWriter(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	entry := func(manager string, op metav1.ManagedFieldsOperationType, at time.Time, fields string) metav1.ManagedFieldsEntry {
		mt := metav1.NewTime(at)
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Time: &mt, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	const (
		data        = `{"f:data":{".":{},"f:config.yaml":{}}}`
		binary      = `{"f:binaryData":{"f:config.yaml":{}}}`
		annotations = `{"f:metadata":{"f:annotations":{"f:chaosd.io/status":{}}}}`
	)
	chaosd := entry("chaosd", metav1.ManagedFieldsOperationUpdate, t0.Add(time.Hour), annotations)
	tests := []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    ConfigWriter
		found   bool
	}{
		{name: "chaosd's newer annotation write is skipped",
			entries: []metav1.ManagedFieldsEntry{entry("helm", metav1.ManagedFieldsOperationUpdate, t0, data), chaosd},
			want:    ConfigWriter{Manager: "helm", Operation: "Update", At: t0}, found: true},
		{name: "newest data writer wins",
			entries: []metav1.ManagedFieldsEntry{entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, t0.Add(time.Minute), data),
				entry("helm", metav1.ManagedFieldsOperationUpdate, t0, data), chaosd},
			want: ConfigWriter{Manager: "kubectl-edit", Operation: "Update", At: t0.Add(time.Minute)}, found: true},
		{name: "same second: the later entry wins",
			entries: []metav1.ManagedFieldsEntry{entry("helm", metav1.ManagedFieldsOperationUpdate, t0, data),
				entry("bob-editor", metav1.ManagedFieldsOperationApply, t0, binary)},
			want: ConfigWriter{Manager: "bob-editor", Operation: "Apply", At: t0}, found: true},
		{name: "an entry without a time changed nothing",
			entries: []metav1.ManagedFieldsEntry{entry("helm", metav1.ManagedFieldsOperationUpdate, t0, data),
				func() metav1.ManagedFieldsEntry {
					e := entry("same-content", metav1.ManagedFieldsOperationApply, t0, data)
					e.Time = nil
					return e
				}()},
			want: ConfigWriter{Manager: "helm", Operation: "Update", At: t0}, found: true},
		{name: "status subresource is not data",
			entries: []metav1.ManagedFieldsEntry{func() metav1.ManagedFieldsEntry {
				e := entry("odd", metav1.ManagedFieldsOperationUpdate, t0, data)
				e.Subresource = "status"
				return e
			}(), chaosd}},
		{name: "only annotations", entries: []metav1.ManagedFieldsEntry{chaosd}},
		{name: "unreadable fields", entries: []metav1.ManagedFieldsEntry{entry("x", metav1.ManagedFieldsOperationUpdate, t0, `{bad`)}},
		{name: "no managedFields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{ManagedFields: tt.entries}}
			got, found := LastConfigWriter(cm)
			if found != tt.found || got.Manager != tt.want.Manager || got.Operation != tt.want.Operation || !got.At.Equal(tt.want.At) {
				t.Errorf("LastConfigWriter = %+v, %v; want %+v, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

// TestKeyHolding: a loaded config is matched to the ConfigMap key holding
// exactly its bytes (the hash config.Config.Hash gives).
func TestKeyHolding(t *testing.T) {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	cm := &corev1.ConfigMap{Data: map[string]string{"a.yaml": "x", "config.yaml": "paused: true\n"}}
	if key, ok := KeyHolding(cm, hash("paused: true\n")); !ok || key != "config.yaml" {
		t.Errorf("KeyHolding = %q, %v; want config.yaml", key, ok)
	}
	if key, ok := KeyHolding(cm, hash("paused: false\n")); ok {
		t.Errorf("KeyHolding of another config = %q, want none", key)
	}
}
