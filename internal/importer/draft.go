package importer

import (
	"fmt"
	"strings"
	"time"
)

// draft is the chaosd config being built, in the importer's own terms: only
// what importers can produce, in the order it is rendered.
type draft struct {
	source     string // "Chaos Toolkit experiments a.yaml, b.json"
	header     []string
	timezone   string
	dryRun     *bool
	windows    draftWindows
	amURL      string
	promURL    string
	checks     []draftCheck
	policy     *draftPolicy // rendered as policies.default
	exps       []*draftExperiment
	findings   []finding
	scheduleOK bool // the schedules are the tool's own; no default-schedule comment
}

type draftWindows struct {
	weekdays []string
	hours    string
	blackout []string
}

type draftCheck struct {
	name, expr string
	min, max   *float64
	empty      bool
	from       string // where it came from, for a comment
}

type draftPolicy struct {
	exclude   []string
	allow     []string
	minPodAge time.Duration
}

type draftExperiment struct {
	name     string
	comment  []string
	schedule string
	jitter   time.Duration
	target   draftTarget
	action   draftAction
	duration time.Duration
	observe  time.Duration // 0: chaosd's default
	disabled bool
	oneShot  bool // the source ran it once; the schedule is chaosd's default
}

type draftTarget struct {
	kind              string
	namespaces        []string
	namespaceSelector string
	selector          string
	optIn             bool
	ownerKinds        []string
	excludeOwnerKinds []string
	podNamespace      string
	mode              string // "" is chaosd's default, one
}

type draftAction struct {
	typ                string
	gracePeriod        *time.Duration
	status             int
	percent            *float64
	delay              time.Duration
	abort              *draftAbort
	fixedDelay         *draftDelay
	route              *draftRoute
	deleteEmptyDirData bool
	timeout            time.Duration
}

type draftAbort struct {
	status  int
	percent float64
}

type draftDelay struct {
	delay   time.Duration
	percent float64
}

type draftRoute struct{ host, subset string }

// finding is a Warning or Note, attached to an experiment when it is about
// one so it can be rendered next to it.
type finding struct {
	w    Warning
	note bool
	exp  *draftExperiment
}

func (d *draft) warn(k kind, exp *draftExperiment, format string, args ...any) {
	d.add(k, false, exp, format, args...)
}

func (d *draft) note(k kind, exp *draftExperiment, format string, args ...any) {
	d.add(k, true, exp, format, args...)
}

func (d *draft) add(k kind, note bool, exp *draftExperiment, format string, args ...any) {
	w := Warning{Code: k.code, Name: k.name, Message: fmt.Sprintf(format, args...)}
	for _, f := range d.findings {
		if f.w == w {
			return // the same construct repeated (a probe used by ref) is reported once
		}
	}
	d.findings = append(d.findings, finding{w: w, note: note, exp: exp})
}

// addExperiment appends e under a name no other experiment has.
func (d *draft) addExperiment(e *draftExperiment) {
	taken := map[string]bool{}
	for _, o := range d.exps {
		taken[o.name] = true
	}
	e.name = uniqueName(e.name, taken)
	d.exps = append(d.exps, e)
}

// dryUnlessLive starts the config in dry run unless o.Live, for sources
// whose faults chaosd would run on a schedule they did not have, and names
// the assumed Alertmanager.
func (d *draft) dryUnlessLive(o Options) {
	if !o.Live {
		d.dryRun = ptr(true)
		d.note(nDryRun, nil, "the config starts with dryRun: true; check `chaosd plan` and set it to false to inject faults")
	}
	d.note(nAssumedGuard, nil, "guard.alertmanager.url is %s; point it at your Alertmanager", o.AlertmanagerURL)
}

// fileNames lists the files for the config's header.
func fileNames(files []File) string {
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

func ptr[T any](v T) *T { return &v }
