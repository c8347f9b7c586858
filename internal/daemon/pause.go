package daemon

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"

	"github.com/chaosd/chaosd/internal/config"
	"github.com/chaosd/chaosd/internal/control"
	"github.com/chaosd/chaosd/internal/runner"
)

// pauseReason is one active pause: kind is the bounded metric label
// (config, manual, cooldown), text is what people read; why, until and
// untilText are its parts for the status page's guard panel.
type pauseReason struct {
	kind, text string
	why        string
	until      time.Time
	untilText  string
}

// Paused combines the three pause switches for the scheduler: the config
// file's paused, a manual pause set with `chaosd pause`, and the self-pause
// after a weakness.
func (d *daemon) Paused(now time.Time) (bool, string) {
	reasons := d.pauseReasons(now)
	if len(reasons) == 0 {
		return false, ""
	}
	return true, reasons[0].text
}

func (d *daemon) pauseReasons(now time.Time) []pauseReason {
	var reasons []pauseReason
	if p := d.cfg.Load().Paused; p.IsPaused() {
		text := fmt.Sprintf("paused: %s in config", p)
		reasons = append(reasons, pauseReason{kind: "config", text: text, why: text, untilText: "the config file changes"})
	}
	if mp := d.manual.Load(); mp != nil {
		r := control.ManualPauseReason
		if mp.By != "" {
			r += " by " + mp.By
		}
		if mp.Reason != "" {
			r += ": " + mp.Reason
		}
		reasons = append(reasons, pauseReason{kind: "manual", text: r, why: r, untilText: "chaosd resume"})
	}
	if paused, why, until := d.self.Paused(now); paused {
		r := pauseReason{kind: "cooldown", why: why, until: until}
		if !until.IsZero() {
			r.text = why + " (until " + until.UTC().Format(time.RFC3339) + ")"
		} else {
			r.untilText = "chaosd resume"
			r.text = why + " (until chaosd resume)"
		}
		reasons = append(reasons, r)
	}
	return reasons
}

// watchControls follows chaosd's ConfigMap for `chaosd pause` and
// `chaosd resume`.
func (d *daemon) watchControls(ctx context.Context) {
	ref, ok := d.configMapRef()
	if !ok {
		return
	}
	factory := informers.NewSharedInformerFactoryWithOptions(d.o.Kube, 0, informers.WithNamespace(ref.Namespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", ref.Name).String()
		}))
	inf := factory.Core().V1().ConfigMaps().Informer()
	var seen controlsSeen
	onChange := func(obj any) {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			d.controlsChanged(ctx, cm, &seen)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onChange,
		UpdateFunc: func(_, obj any) { onChange(obj) },
		DeleteFunc: func(any) { d.manual.Store(nil) },
	})
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}

// controlsSeen is what watchControls remembers between updates.
type controlsSeen struct {
	seen       bool // the first sight only learns the last resume
	lastResume time.Time
}

// controlsChanged applies one sight of chaosd's ConfigMap: a new resume,
// a manual pause set, changed or lifted.
func (d *daemon) controlsChanged(ctx context.Context, cm *corev1.ConfigMap, s *controlsSeen) {
	if at := control.ResumedAt(cm); at.After(s.lastResume) {
		if s.seen {
			d.self.Resume()
			d.log.Info("resumed with chaosd resume", zap.Time("at", at))
			d.auditResume(cm, at)
		}
		s.lastResume = at
	}
	// What was set before chaosd started is in force, not news: only
	// changes seen while running are audited.
	audit := s.seen
	s.seen = true
	p, set, err := control.PauseFrom(cm)
	if err != nil {
		d.log.Warn("unreadable pause annotation, treating as paused", zap.Error(err))
	}
	prev := d.manual.Load()
	if !set {
		d.manual.Store(nil)
		return
	}
	d.manual.Store(&p)
	if prev != nil && prev.Mode == p.Mode && prev.At.Equal(p.At) {
		return
	}
	d.log.Info("paused with chaosd pause", zap.String("mode", string(p.Mode)), zap.String("reason", p.Reason), zap.String("by", p.By))
	why := "chaosd pause --revert"
	switch {
	case audit && p.Mode == config.PauseRevert:
		why = d.auditPause(p) // the EmergencyStop Event carries it
	case audit:
		d.eventOnConfigMapWith(d.runEvents, "Normal", "Paused", "Pause", d.auditPause(p))
	}
	if p.Mode == config.PauseRevert {
		d.emergencyStop(ctx, why)
	}
}

// emergencyStop cancels every run and reverts every active fault at once.
func (d *daemon) emergencyStop(ctx context.Context, why string) {
	d.log.Warn("emergency stop: reverting every active fault", zap.String("reason", why))
	d.sched.CancelAll()
	d.revertAll(why)
	d.eventOnConfigMapWith(d.runEvents, "Warning", "EmergencyStop", "Revert", "every active fault reverted: "+why)
	d.publishStatus(ctx)
}

// revertAll reverts whatever this replica still holds, on a context of its
// own so it runs even during shutdown.
func (d *daemon) revertAll(why string) {
	if len(d.engine.Active()) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := d.engine.RevertAll(ctx); err != nil {
		d.log.Error("revert all failed", zap.String("reason", why), zap.Error(err))
		return
	}
	d.log.Info("reverted all active faults", zap.String("reason", why))
}

// eventOnConfigMap records an Event on chaosd's ConfigMap, if there is one.
// A standby stays quiet: with two replicas every Event would appear twice.
func (d *daemon) eventOnConfigMap(eventType, reason, action, note string) {
	d.eventOnConfigMapWith(d.recorder, eventType, reason, action, note)
}

func (d *daemon) eventOnConfigMapWith(rec events.EventRecorder, eventType, reason, action, note string) {
	ref, ok := d.configMapRef()
	if !ok || (d.o.LeaderElect && !d.leading.Load()) {
		return
	}
	if len(note) > 1000 {
		note = note[:997] + "..."
	}
	obj := &corev1.ObjectReference{Kind: "ConfigMap", APIVersion: "v1", Namespace: ref.Namespace, Name: ref.Name}
	rec.Eventf(obj, nil, eventType, reason, action, "%s", note)
}

// readControls reads the manual pause once, for a one-shot run. It fails
// closed, since the pause it cannot see may be the one an operator set
// during an incident: an undecodable pause annotation counts as a pause,
// and a ConfigMap it cannot read refuses the run (ErrPauseUnknown). Only a
// ConfigMap that does not exist means no pause. The status annotation is
// not read: a malformed one says nothing about the pause next to it.
func (d *daemon) readControls(ctx context.Context) error {
	ref, ok := d.configMapRef()
	if !ok {
		return nil
	}
	cm, err := d.o.Kube.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		d.log.Info("chaosd's ConfigMap does not exist, so no manual pause is set", zap.String("configmap", ref.String()))
		return nil
	case err != nil:
		return fmt.Errorf("%w: read configmap %s: %w", ErrPauseUnknown, ref, err)
	}
	p, set, err := control.PauseFrom(cm)
	if err != nil {
		d.log.Warn("unreadable pause annotation, treating as paused", zap.Error(err))
	}
	if set {
		d.manual.Store(&p)
	}
	return nil
}

// persistedPause is how the runner pauses chaosd: each self-pause, the
// cooldown after a weakness as much as the pause of onUnknown: pause, is
// recorded on chaosd's ConfigMap as it is taken, so a restart or a failover
// during the same outage stays paused (restoreCooldown).
type persistedPause struct{ d *daemon }

var _ runner.Pauser = persistedPause{}

func (p persistedPause) PauseAfterWeakness(c config.Cooldown, reason string) {
	p.d.self.PauseAfterWeakness(c, reason)
	p.d.recordCooldown()
}

func (p persistedPause) PauseManual(reason string) {
	p.d.self.PauseManual(reason)
	p.d.recordCooldown()
}

// recordCooldown keeps the self-pause on the ConfigMap, so a restarted or
// newly elected leader honours it too.
func (d *daemon) recordCooldown() {
	ref, ok := d.configMapRef()
	if !ok || !d.leading.Load() {
		return
	}
	paused, why, until := d.self.Paused(d.o.Clock.Now())
	if !paused {
		return
	}
	c := control.Cooldown{Reason: why, Until: until, Manual: until.IsZero()}
	if err := control.SetCooldown(context.Background(), d.o.Kube, ref, c); err != nil {
		d.log.Warn("record cooldown failed", zap.Error(err))
	}
}

// restoreCooldown re-applies a cooldown recorded by an earlier leader.
func (d *daemon) restoreCooldown(ctx context.Context) {
	ref, ok := d.configMapRef()
	if !ok {
		return
	}
	cm, err := d.o.Kube.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return
	}
	c, ok := control.CooldownFrom(cm)
	switch {
	case !ok:
	case c.Manual:
		d.self.PauseManual(c.Reason)
	case c.Until.After(d.o.Clock.Now()):
		d.self.PauseFor(c.Reason, c.Until.Sub(d.o.Clock.Now()))
	}
}
