package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/journal"
)

// The audit trail: who paused, stopped or resumed chaosd, or changed its
// config, and from where. Each action is written to the journal's audit
// log, logged, and (by the leader) left as an Event on chaosd's ConfigMap,
// one Event object each (syncRecorder), so two pauses never merge into a
// series that keeps only the first one's note. Like runs, audit entries
// are journaled by the leader only: replicas may share a journal volume.

// auditTimeout bounds the ConfigMap read that attributes a config change.
const auditTimeout = 5 * time.Second

// recordAudit journals (when leading) and logs e; it never blocks what
// was audited.
func (d *daemon) recordAudit(e journal.AuditEntry) {
	if !d.o.LeaderElect || d.leading.Load() {
		if err := d.journal.WriteAudit(e); err != nil {
			d.log.Warn("audit entry not journaled", zap.String("action", string(e.Action)), zap.Error(err))
		}
	}
	d.log.Info("audit", zap.String("action", string(e.Action)), zap.String("who", e.Who), zap.Strings("groups", e.Groups),
		zap.String("from", e.From), zap.String("detail", e.Detail))
}

// auditPause records a pause (or, with --revert, a stop) set with
// `chaosd pause` and returns the sentence that says who did it.
func (d *daemon) auditPause(p control.ManualPause) string {
	e := journal.AuditEntry{At: p.At, Action: journal.AuditPause, Who: p.By, Groups: p.Groups, From: p.From, Detail: "reason: " + p.Reason}
	if p.Reason == "" {
		e.Detail = "no reason given"
	}
	verb := "paused"
	if p.Mode == config.PauseRevert {
		e.Action, verb = journal.AuditStop, "stopped (pause --revert)"
	}
	if e.At.IsZero() {
		e.At = d.o.Clock.Now() // an unreadable pause annotation has no time
	}
	if e.Who == "" {
		e.Who = control.UnknownUser + " (not recorded by this chaosd pause)"
	}
	d.recordAudit(e)
	return fmt.Sprintf("chaosd %s by %s: %s", verb, byWhom(e), e.Detail)
}

// auditResume records a `chaosd resume` seen on cm at at.
func (d *daemon) auditResume(cm *corev1.ConfigMap, at time.Time) {
	a, ok := control.ResumedBy(cm)
	if !ok {
		a.User = control.UnknownUser + " (" + control.AnnotationResumedBy + " not recorded)"
	}
	e := journal.AuditEntry{At: at, Action: journal.AuditResume, Who: a.User, Groups: a.Groups, From: a.From,
		Detail: "manual pause and cooldown lifted"}
	d.recordAudit(e)
	d.eventOnConfigMapWith(d.runEvents, "Normal", "Resumed", "Resume", "chaosd resumed by "+byWhom(e))
}

// auditConfig records a config change chaosd loaded (rejected=nil) or
// refused, attributed to the ConfigMap's last data writer, and posts its
// Event. hash is the loaded config's; empty for a refused one, whose
// bytes chaosd did not keep.
func (d *daemon) auditConfig(hash string, rejected error) {
	e := journal.AuditEntry{At: d.o.Clock.Now(), Action: journal.AuditConfig, ConfigHash: hash}
	d.attributeConfig(&e)
	eventType, reason, note := "Normal", "ConfigReloaded", "config reloaded ("+shortHash(hash)+")"
	e.Detail = "loaded, hash " + shortHash(hash)
	if rejected != nil {
		e.Action = journal.AuditConfigRejected
		e.Detail = "rejected, last good config still in force: " + rejected.Error()
		eventType, reason, note = "Warning", "ConfigRejected", "config rejected, last good config still in force: "+rejected.Error()
	}
	d.recordAudit(e)
	d.eventOnConfigMapWith(d.runEvents, eventType, reason, "Reload", note+"; written by "+byWhom(e))
}

// attributeConfig fills who wrote the config: the field manager that last
// wrote the ConfigMap's data. A loaded config is attributed only when the
// ConfigMap holds exactly its bytes; otherwise (a later edit already
// there, or a config mounted from elsewhere) Who says unknown and why.
func (d *daemon) attributeConfig(e *journal.AuditEntry) {
	ref, ok := d.configMapRef()
	if !ok {
		e.Who = control.UnknownUser + " (no --configmap to read managedFields from)"
		return
	}
	e.From = "configmap " + ref.String()
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	cm, err := d.o.Kube.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		e.Who = fmt.Sprintf("%s (read configmap %s: %v)", control.UnknownUser, ref, err)
		return
	}
	e.ResourceVersion = cm.ResourceVersion
	w, found := control.LastConfigWriter(cm)
	if !found {
		e.Who = control.UnknownUser + " (no managedFields entry owns the ConfigMap's data)"
		return
	}
	e.FieldManager, e.Operation, e.WrittenAt = w.Manager, w.Operation, w.At
	if e.ConfigHash != "" {
		key, holds := control.KeyHolding(cm, e.ConfigHash)
		if !holds {
			e.Who = fmt.Sprintf("%s (configmap %s at resourceVersion %s does not hold this config; its last data writer is %s)",
				control.UnknownUser, ref, cm.ResourceVersion, w.Manager)
			return
		}
		e.From += " key " + key
	}
	e.Who = w.Manager + " (field manager)"
	e.From += fmt.Sprintf(", %s at %s, resourceVersion %s", w.Operation, w.At.UTC().Format(time.RFC3339), cm.ResourceVersion)
}

// byWhom says who and from where, for Events.
func byWhom(e journal.AuditEntry) string {
	return control.Actor{User: e.Who, Groups: e.Groups, From: e.From}.String()
}

// auditSummaries lists the latest audit entries for the status.
func (d *daemon) auditSummaries() []control.AuditSummary {
	if d.journal == nil {
		return nil
	}
	entries := d.journal.Audit(control.MaxListed)
	out := make([]control.AuditSummary, 0, len(entries))
	for _, e := range entries {
		who := e.Who
		if len(e.Groups) > 0 {
			who += " (" + strings.Join(e.Groups, ", ") + ")"
		}
		out = append(out, control.AuditSummary{At: e.At, Action: string(e.Action), Who: who, From: e.From, Detail: e.Detail})
	}
	return out
}
