package importer

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chaosd/chaosd/internal/config"
)

// cmUnsupported says, per Chaos Mesh kind chaosd cannot express, why.
var cmUnsupported = map[string]string{
	"NetworkChaos":         "chaosd injects no network faults (delay, loss, partition); its HTTP faults act through an Istio VirtualService",
	"StressChaos":          "chaosd does not stress CPU or memory",
	"IOChaos":              "chaosd injects no file-system faults",
	"TimeChaos":            "chaosd does not skew clocks",
	"DNSChaos":             "chaosd injects no DNS faults",
	"KernelChaos":          "chaosd injects no kernel faults",
	"JVMChaos":             "chaosd injects no JVM faults",
	"BlockChaos":           "chaosd injects no block-device faults",
	"AWSChaos":             "chaosd acts on Kubernetes objects, not on cloud instances (node-delete and zone outages cover losing a node)",
	"GCPChaos":             "chaosd acts on Kubernetes objects, not on cloud instances (node-delete and zone outages cover losing a node)",
	"AzureChaos":           "chaosd acts on Kubernetes objects, not on cloud instances (node-delete and zone outages cover losing a node)",
	"PhysicalMachineChaos": "chaosd acts on Kubernetes objects, not on machines outside the cluster",
	"PhysicalMachine":      "chaosd acts on Kubernetes objects, not on machines outside the cluster",
	"Workflow":             "chaosd runs independent experiments on their own schedules; it has no workflows (write each step as an experiment)",
	"StatusCheck":          "chaosd judges runs by its guard (Alertmanager alerts, Prometheus checks); write the check as an alert or a guard check",
	"StatusCheckTemplate":  "chaosd judges runs by its guard (Alertmanager alerts, Prometheus checks); write the check as an alert or a guard check",
	"RemoteCluster":        "chaosd acts on the cluster it runs in; run one chaosd per cluster",
}

// ChaosMesh translates Chaos Mesh objects (YAML, several documents per file
// and kind: List allowed) into one chaosd config:
//   - a PodChaos pod-kill becomes a pod-kill experiment: its selector the
//     target, its mode the target's mode, gracePeriod the action's;
//   - a Schedule wrapping one keeps its cron schedule; a bare PodChaos,
//     which Chaos Mesh runs once, gets Options.Schedule;
//   - selectors chaosd has no equivalent for disable the experiment rather
//     than widen it; HTTPChaos and every other kind become warnings;
//   - an object Chaos Mesh's CRD schema or webhook would refuse is refused.
func (o Options) ChaosMesh(files ...File) (Result, error) {
	if len(files) == 0 {
		return Result{}, errors.New("import Chaos Mesh: no files given")
	}
	o = o.withDefaults()
	d := &draft{
		source:     "Chaos Mesh objects " + fileNames(files),
		amURL:      o.AlertmanagerURL,
		scheduleOK: true,
		header: []string{
			"Chaos Mesh injects a chaos object when it is applied, or on a Schedule. chaosd runs each",
			"experiment on its schedule against random targets, and halts, reverts and pauses itself",
			"while the guard's alerts fire.",
		},
	}
	d.dryUnlessLive(o)
	c := &cmConv{d: d, o: o}
	for _, f := range files {
		objs, err := decodeChaosMesh(f)
		if err != nil {
			return Result{}, fmt.Errorf("import Chaos Mesh: %w", err)
		}
		for _, obj := range objs {
			if err := c.object(obj); err != nil {
				return Result{}, fmt.Errorf("import Chaos Mesh: %s: %w", obj.describe(), err)
			}
		}
	}
	if len(d.exps) == 0 {
		d.warn(wNothingToRun, nil, "no PodChaos pod-kill among the objects given; no experiment was created")
	}
	return d.finish()
}

func (obj cmObject) describe() string {
	name := obj.Metadata.Name
	if obj.Metadata.Namespace != "" {
		name = obj.Metadata.Namespace + "/" + name
	}
	return fmt.Sprintf("%s %s %q", obj.where, obj.Kind, name)
}

// cmPauseAnnotation pauses a chaos object or Schedule (api/v1alpha1
// PauseAnnotationKey).
const cmPauseAnnotation = "experiment.chaos-mesh.org/pause"

// cmConv converts the objects of all files into one draft.
type cmConv struct {
	d *draft
	o Options
}

func (c *cmConv) object(obj cmObject) error {
	if obj.APIVersion != cmGroupVersion {
		c.d.warn(wUnsupportedChaos, nil, "%s: apiVersion %q is not Chaos Mesh's %s; skipped", obj.describe(), obj.APIVersion, cmGroupVersion)
		return nil
	}
	if obj.Metadata.Name == "" {
		return errors.New("metadata.name is required")
	}
	switch obj.Kind {
	case "PodChaos":
		var spec cmPodChaosSpec
		if err := strictDecode(&obj.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		return c.podChaos(obj, "spec", spec, nil)
	case "Schedule":
		var spec cmScheduleSpec
		if err := strictDecode(&obj.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		return c.schedule(obj, spec)
	case "HTTPChaos":
		var spec cmHTTPChaosSpec
		if err := strictDecode(&obj.Spec, &spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		return c.httpChaos(obj, "spec", spec, "")
	}
	why, ok := cmUnsupported[obj.Kind]
	if !ok {
		why = "not a kind chaosd knows"
	}
	c.d.warn(wUnsupportedChaos, nil, "%s: %s; not converted", obj.describe(), why)
	return nil
}

// schedule converts a Schedule as chaos-mesh v2.8.3 runs it
// (controllers/schedule/cron/controller.go, api/v1alpha1/schedule_webhook.go):
// the cron spec is parsed by StandardCronParser (optional seconds field,
// descriptors) in the controller's local time, UTC in its image; at each
// activation it spawns a new object of spec.type from the embedded spec;
// with concurrencyPolicy Forbid (the default) it spawns none while an
// earlier one is unfinished, and a PodChaos pod-kill is finished as soon
// as its pods are deleted (IsOneShot, controllers/utils/controller/finished.go).
func (c *cmConv) schedule(obj cmObject, spec cmScheduleSpec) error {
	if err := validateCMSchedule(spec); err != nil {
		return err
	}
	key := scheduleItemKeys[spec.Type]
	for k := range spec.Items {
		if !slices.Contains(mapValues(scheduleItemKeys), k) {
			return fmt.Errorf("spec: unknown field %q", k)
		}
		if k != key {
			c.d.note(nDriverIgnored, nil, "%s: spec.%s is ignored by Chaos Mesh, which spawns only spec.type %s", obj.describe(), k, spec.Type)
		}
	}
	item, ok := spec.Items[key]
	if !ok {
		return fmt.Errorf("spec.type %s needs spec.%s, which Chaos Mesh's webhook reads to spawn it", spec.Type, key)
	}
	switch spec.Type {
	case "PodChaos":
		var pc cmPodChaosSpec
		if err := strictDecode(&item, &pc); err != nil {
			return fmt.Errorf("spec.podChaos: %w", err)
		}
		return c.podChaos(obj, "spec.podChaos", pc, &spec)
	case "HTTPChaos":
		var hc cmHTTPChaosSpec
		if err := strictDecode(&item, &hc); err != nil {
			return fmt.Errorf("spec.httpChaos: %w", err)
		}
		return c.httpChaos(obj, "spec.httpChaos", hc, spec.Schedule)
	}
	c.d.warn(wUnsupportedChaos, nil, "%s: a Schedule of %s: %s; not converted", obj.describe(), spec.Type, cmUnsupported[spec.Type])
	return nil
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// podChaos converts a PodChaos spec, bare (sched nil) or in a Schedule.
func (c *cmConv) podChaos(obj cmObject, path string, spec cmPodChaosSpec, sched *cmScheduleSpec) error {
	if err := validateCMPodChaos(spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if spec.Action != "pod-kill" {
		why := "chaosd cannot make a pod fail in place (pod-failure swaps its image for a pause image for the duration); pod-kill with a schedule is the nearest chaosd experiment"
		if spec.Action == "container-kill" {
			why = "chaosd kills whole pods, not single containers; pod-kill is the nearest chaosd experiment"
		}
		c.d.warn(wUnsupportedChaos, nil, "%s: %s action %s: %s; not converted", obj.describe(), path, spec.Action, why)
		return nil
	}
	e := &draftExperiment{
		name:   dnsLabel(obj.Metadata.Name),
		target: draftTarget{kind: string(config.TargetPod)},
		action: draftAction{typ: string(config.ActionPodKill)},
	}
	c.d.addExperiment(e)
	e.comment = []string{fmt.Sprintf("From %s (%s).", obj.describe(), path)}
	path = obj.describe() + " " + path // findings name the object
	sc := &cmSelectorConv{d: c.d, exp: e, path: path}
	sc.convert(obj, spec.cmPodSelector)
	// Chaos Mesh deletes with GracePeriodSeconds: &spec.GracePeriod, so its
	// default 0 deletes at once (controllers/chaosimpl/podchaos/podkill/impl.go);
	// chaosd's default is the pod's own grace period, so it is always written.
	var gp int64
	if spec.GracePeriod != nil {
		gp = *spec.GracePeriod
	}
	e.action.gracePeriod = ptr(time.Duration(gp) * time.Second)
	if spec.Duration != nil {
		c.d.note(nDriverIgnored, e, "%s.duration %s: a pod-kill is one-shot in Chaos Mesh (finished once its pods are deleted), so the duration changes nothing; chaosd's run ends after its observe window", path, *spec.Duration)
	}
	if len(spec.ContainerNames) > 0 {
		c.d.note(nDriverIgnored, e, "%s.containerNames: Chaos Mesh's pod-kill selects whole pods and ignores them; so does chaosd", path)
	}
	if spec.RemoteCluster != "" {
		e.disabled = true
		c.d.warn(wUnsupportedFilter, e, "%s.remoteCluster %s: chaosd acts only on the cluster it runs in; the experiment is disabled rather than run against this one (run chaosd in %s)", path, spec.RemoteCluster, spec.RemoteCluster)
	}
	c.metadata(obj, e)
	if sched == nil {
		e.schedule, e.jitter, e.oneShot = c.o.Schedule, c.o.Jitter, true
		c.d.note(nDefaultSchedule, e, "%s: Chaos Mesh kills once when the PodChaos is applied; chaosd runs it on schedule %q with jitter %s; to kill once, use `chaosd once %s -f FILE`", obj.describe(), c.o.Schedule, formatDuration(c.o.Jitter), e.name)
		return nil
	}
	c.scheduleKeys(obj, e, *sched)
	return nil
}

// metadata maps what of metadata means something to Chaos Mesh and names
// the rest.
func (c *cmConv) metadata(obj cmObject, e *draftExperiment) {
	var ignored []string
	for k, v := range obj.Metadata.Other {
		if ann, ok := v.(map[string]any); ok && k == "annotations" {
			// api/v1alpha1 PauseAnnotationKey: a paused object injects nothing.
			if fmt.Sprint(ann[cmPauseAnnotation]) == "true" {
				e.disabled = true
				e.comment = append(e.comment, "Paused in Chaos Mesh ("+cmPauseAnnotation+": \"true\"), so disabled here.")
			}
			for a := range ann {
				if a != cmPauseAnnotation {
					ignored = append(ignored, "metadata.annotations."+a)
				}
			}
			continue
		}
		ignored = append(ignored, "metadata."+k)
	}
	if !obj.Status.IsZero() {
		ignored = append(ignored, "status")
	}
	if len(ignored) > 0 {
		sort.Strings(ignored)
		c.d.note(nIgnoredFlag, e, "%s: %s: about the Kubernetes object, not the fault; not converted", obj.describe(), strings.Join(ignored, ", "))
	}
}
