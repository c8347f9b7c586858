package control

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ConfigWriter is the field manager that last wrote a ConfigMap's data,
// from its metadata.managedFields. Kubernetes records the manager (the
// client's --field-manager, or its user agent: kubectl-edit, helm,
// kubectl-client-side-apply), the operation and the time, not the user:
// only the API server's audit log knows who sent a request.
type ConfigWriter struct {
	Manager   string    `json:"manager"`
	Operation string    `json:"operation"`
	At        time.Time `json:"at,omitzero"`
}

// LastConfigWriter returns the managedFields entry that owns data or
// binaryData and was written last. Entries owning only other fields are
// skipped: chaosd's own annotations (status, pause) are rewritten every
// few seconds and would otherwise always look like the last writer. An
// entry's time is when its manager last changed any of its fields, so a
// manager that owns data and later changed only a label counts from then;
// an entry without a time took ownership without changing anything (an
// apply of identical content) and counts as the oldest.
func LastConfigWriter(cm *corev1.ConfigMap) (ConfigWriter, bool) {
	var (
		best  ConfigWriter
		found bool
	)
	for _, mf := range cm.ManagedFields {
		if mf.FieldsV1 == nil || mf.Subresource != "" || !ownsData(mf.FieldsV1.Raw) {
			continue
		}
		var at time.Time
		if mf.Time != nil {
			at = mf.Time.Time
		}
		// Later entries win ties: managedFields times have one-second
		// resolution, and the API server appends the newest manager.
		if !found || !at.Before(best.At) {
			best, found = ConfigWriter{Manager: mf.Manager, Operation: string(mf.Operation), At: at}, true
		}
	}
	return best, found
}

// ownsData reports whether a FieldsV1 set includes data or binaryData.
func ownsData(raw []byte) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return false
	}
	_, data := fields["f:data"]
	_, binary := fields["f:binaryData"]
	return data || binary
}

// KeyHolding returns the data key of cm whose value hashes (SHA-256, hex,
// as config.Config.Hash) to hash: whether the ConfigMap holds the config
// chaosd loaded from its mounted file. The kubelet updates the mount a
// while after the ConfigMap, so a later edit may already be there.
func KeyHolding(cm *corev1.ConfigMap, hash string) (string, bool) {
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sum := sha256.Sum256([]byte(cm.Data[k]))
		if hex.EncodeToString(sum[:]) == hash {
			return k, true
		}
	}
	return "", false
}
