package importer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The corpus under testdata/chaosmesh: each file says where it comes from.
func TestChaosMeshGolden(t *testing.T) {
	tests := []struct {
		file     string
		warnings []string
		notes    []string
	}{
		// No namespace anywhere: kubectl's current one, assumed default.
		{file: "pod-kill-example.yaml", warnings: []string{"W024"}, notes: []string{"N002", "N003", "N004", "N015"}},
		// "@every 5s" is shorter than a chaosd run: W020 from chaosd's own validation.
		{file: "schedule-podchaos.yaml", warnings: []string{"W020", "W024"}, notes: []string{"N003", "N004", "N006", "N015"}},
		{file: "web-show-pod-kill.yaml", notes: []string{"N003", "N004", "N006", "N015"}},
		{file: "auth-rbac-podchaos.yaml", warnings: []string{"W024"}, notes: []string{"N002", "N003", "N004", "N015"}},
		{file: "unsupported-examples.yaml", warnings: []string{"W011", "W021"}, notes: []string{"N003", "N004"}},
		{file: "http-abort.yaml", warnings: []string{"W011", "W022"}, notes: []string{"N003", "N004"}},
		{file: "selectors.yaml", warnings: []string{"W005", "W014", "W018", "W023"}, notes: []string{"N002", "N003", "N004", "N006", "N007", "N014", "N015", "N016"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := testOptions(nil).ChaosMesh(readFile(t, filepath.Join("testdata", "chaosmesh", tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, tt.warnings, tt.notes, filepath.Join("chaosmesh", strings.TrimSuffix(tt.file, ".yaml")+".golden"))
		})
	}
}

// The mapping itself, read back through config.Parse.
func TestChaosMeshMapping(t *testing.T) {
	res, err := testOptions(nil).ChaosMesh(
		readFile(t, filepath.Join("testdata", "chaosmesh", "selectors.yaml")),
		readFile(t, filepath.Join("testdata", "chaosmesh", "web-show-pod-kill.yaml")),
	)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, res)
	byName := map[string]int{}
	for i, e := range cfg.Experiments {
		byName[e.Name] = i
	}
	exp := func(name string) int {
		i, ok := byName[name]
		if !ok {
			t.Fatalf("no experiment %s in\n%s", name, res.Config)
		}
		return i
	}
	le, oa, nn, pn, ws := exp("labels-and-expressions"), exp("opt-in-annotation"), exp("by-node-and-name"), exp("by-pod-names"), exp("web-show-pod-kill")
	e := cfg.Experiments
	checks := []struct {
		name      string
		got, want any
	}{
		{"seconds field dropped", e[le].Schedule, "*/10 * * * *"},
		{"namespaces", strings.Join(e[le].Target.Namespaces, ","), "shop,kube-system"},
		{"label and expression selectors", e[le].Target.Selector, "app=web,!canary,tier notin (db)"},
		{"fixed is count", e[le].Target.Mode.String(), "count:2"},
		{"gracePeriod in seconds", e[le].Action.GracePeriod.String(), "30s"},
		{"kube-system allowed as the source names it", strings.Join(cfg.Policies["default"].AllowNamespaces, ","), "kube-system"},
		{"runs", e[le].Disabled, false},
		{"random-max-percent is maxPercent", e[oa].Target.Mode.String(), "maxPercent:50"},
		{"annotation opt-in", e[oa].Target.OptIn, true},
		{"field selector namespace", strings.Join(e[oa].Target.Namespaces, ","), "shop"},
		{"paused in Chaos Mesh is disabled", e[oa].Disabled, true},
		{"a bare PodChaos gets the default schedule", e[oa].Schedule, "@every 1h"},
		{"all", e[nn].Target.Mode.String(), "all"},
		{"node selectors disable", e[nn].Disabled, true},
		{"pod names disable", e[pn].Disabled, true},
		{"fixed-percent is percent", e[pn].Target.Mode.String(), "percent:25"},
		{"Schedule keeps its cron", e[ws].Schedule, "@every 1m"},
		{"default gracePeriod 0 deletes at once", e[ws].Action.GracePeriod.String(), "0s"},
		{"one", e[ws].Target.Mode.String(), "one"},
		{"web-show namespace", strings.Join(e[ws].Target.Namespaces, ","), "default"},
		{"web-show selector", e[ws].Target.Selector, "app=web-show"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

// What Chaos Mesh's CRD schema, webhook or kubectl's strict validation
// refuses is refused, with the reason.
func TestChaosMeshRefuses(t *testing.T) {
	podChaos := func(spec string) string {
		return "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: p, namespace: ns}\nspec:\n" + spec
	}
	schedule := func(spec string) string {
		return "apiVersion: chaos-mesh.org/v1alpha1\nkind: Schedule\nmetadata: {name: s}\nspec:\n" + spec
	}
	const sel = "  selector: {labelSelectors: {app: a}}\n"
	const pod = "  podChaos: {action: pod-kill, mode: one, selector: {}}\n"
	tests := []struct {
		name, doc, want string
	}{
		{"upstream sample with a placeholder field", string(readFile(t, filepath.Join("testdata", "chaosmesh", "refused-sample.yaml")).Data), `unknown field "foo"`},
		{"Chaos Mesh 1.x scheduler", string(readFile(t, filepath.Join("testdata", "chaosmesh", "http-abort-scheduler.yaml")).Data), "Chaos Mesh 1.x"},
		{"no action", podChaos("  mode: one\n" + sel), "action is required"},
		{"unknown action", podChaos("  action: pod-delete\n  mode: one\n" + sel), `action "pod-delete"`},
		{"no mode", podChaos("  action: pod-kill\n" + sel), "mode is required"},
		{"unknown mode", podChaos("  action: pod-kill\n  mode: some\n" + sel), `mode "some"`},
		{"fixed without a value", podChaos("  action: pod-kill\n  mode: fixed\n" + sel), "mode fixed needs"},
		{"fixed 0", podChaos("  action: pod-kill\n  mode: fixed\n  value: \"0\"\n" + sel), "greater than 0"},
		{"percent over 100", podChaos("  action: pod-kill\n  mode: fixed-percent\n  value: \"101\"\n" + sel), "(0,100]"},
		{"random-max-percent 0", podChaos("  action: pod-kill\n  mode: random-max-percent\n  value: \"0\"\n" + sel), "(0,100]"},
		{"value as a number", podChaos("  action: pod-kill\n  mode: fixed\n  value: 2\n" + sel), "must be a string"},
		{"no selector", podChaos("  action: pod-kill\n  mode: one\n"), "selector is required"},
		{"negative gracePeriod", podChaos("  action: pod-kill\n  mode: one\n  gracePeriod: -1\n" + sel), "gracePeriod -1"},
		{"bad duration", podChaos("  action: pod-kill\n  mode: one\n  duration: 30\n" + sel), `duration "30"`},
		{"container-kill without containers", podChaos("  action: container-kill\n  mode: one\n" + sel), "containerNames"},
		{"bad expression operator", podChaos("  action: pod-kill\n  mode: one\n  selector: {expressionSelectors: [{key: a, operator: Like, values: [b]}]}\n"), "select no pod"},
		{"bad phase selector", podChaos("  action: pod-kill\n  mode: one\n  selector: {podPhaseSelectors: [phase=Running]}\n"), "unsupported operator"},
		{"typo in a selector", podChaos("  action: pod-kill\n  mode: one\n  selector: {labelSelector: {app: a}}\n"), `unknown field "labelSelector"`},
		{"no name", "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nspec: {}\n", "metadata.name"},
		{"bad cron", schedule("  schedule: every hour\n  type: PodChaos\n" + pod), "spec.schedule"},
		{"empty CRON_TZ", schedule("  schedule: CRON_TZ=\n  type: PodChaos\n" + pod), "spec.schedule"},
		{"concurrency policy", schedule("  schedule: '@hourly'\n  concurrencyPolicy: Replace\n  type: PodChaos\n" + pod), "Forbid or Allow"},
		{"history limit 0", schedule("  schedule: '@hourly'\n  historyLimit: 0\n  type: PodChaos\n" + pod), "historyLimit 0"},
		{"deadline 0", schedule("  schedule: '@hourly'\n  startingDeadlineSeconds: 0\n  type: PodChaos\n" + pod), "startingDeadlineSeconds 0"},
		{"no type", schedule("  schedule: '@hourly'\n" + pod), "spec.type is required"},
		{"unknown type", schedule("  schedule: '@hourly'\n  type: PodKill\n" + pod), "unknown template type"},
		{"type without its spec", schedule("  schedule: '@hourly'\n  type: PodChaos\n  networkChaos: {}\n"), "needs spec.podChaos"},
		{"unknown schedule field", schedule("  schedule: '@hourly'\n  type: PodChaos\n  suspend: true\n" + pod), `unknown field "suspend"`},
		{"invalid embedded PodChaos", schedule("  schedule: '@hourly'\n  type: PodChaos\n  podChaos: {action: pod-kill, mode: fixed, selector: {}}\n"), "mode fixed needs"},
		{"not YAML", "kind: [", "document 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testOptions(nil).ChaosMesh(File{Name: "in.yaml", Data: []byte(tt.doc)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Findings the golden corpus does not show, one construct each.
func TestChaosMeshFindings(t *testing.T) {
	podChaos := func(spec string) string {
		return "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: p, namespace: ns}\nspec:\n" + spec
	}
	schedule := func(cron, extra string) string {
		return "apiVersion: chaos-mesh.org/v1alpha1\nkind: Schedule\nmetadata: {name: s, namespace: ns}\nspec:\n  schedule: '" + cron + "'\n  type: PodChaos\n" + extra +
			"  podChaos: {action: pod-kill, mode: one, selector: {}}\n"
	}
	tests := []struct {
		name, doc string
		code      string
		disabled  bool
		schedule  string
	}{
		{name: "Allow overlaps runs", doc: schedule("@every 10m", "  concurrencyPolicy: Allow\n"), code: "W014", schedule: "@every 10m"},
		{name: "several times a minute", doc: schedule("*/20 * * * * *", ""), code: "W014", schedule: "* * * * *"},
		{name: "second 0 is exact", doc: schedule("0 0 3 * * *", ""), code: "", schedule: "0 3 * * *"},
		{name: "time zone kept", doc: schedule("CRON_TZ=Europe/Berlin 0 0 3 * * *", ""), code: "", schedule: "CRON_TZ=Europe/Berlin 0 3 * * *"},
		{name: "other spec ignored by Chaos Mesh", doc: schedule("@hourly", "  networkChaos: {action: delay}\n"), code: "N014", schedule: "@hourly"},
		{name: "remote cluster", doc: podChaos("  action: pod-kill\n  mode: one\n  remoteCluster: east\n  selector: {}\n"), code: "W005", disabled: true, schedule: "@every 1h"},
		{name: "containerNames ignored by pod-kill", doc: podChaos("  action: pod-kill\n  mode: one\n  containerNames: [app]\n  selector: {}\n"), code: "N014", schedule: "@every 1h"},
		{name: "annotation selector", doc: podChaos("  action: pod-kill\n  mode: one\n  selector: {annotationSelectors: {owner: me}}\n"), code: "W005", disabled: true, schedule: "@every 1h"},
		{name: "field namespace outside namespaces", doc: podChaos("  action: pod-kill\n  mode: one\n  selector: {namespaces: [a], fieldSelectors: {metadata.namespace: b}}\n"), code: "W005", disabled: true, schedule: "@every 1h"},
		{name: "phases beyond Running", doc: podChaos("  action: pod-kill\n  mode: one\n  selector: {podPhaseSelectors: [Running, Pending]}\n"), code: "W005", schedule: "@every 1h"},
		{name: "phase exclusion keeps Running", doc: podChaos("  action: pod-kill\n  mode: one\n  selector: {podPhaseSelectors: ['!Failed']}\n"), code: "", schedule: "@every 1h"},
		{name: "status phase field", doc: podChaos("  action: pod-kill\n  mode: one\n  selector: {fieldSelectors: {status.phase: Succeeded}}\n"), code: "W005", disabled: true, schedule: "@every 1h"},
		{name: "not a Chaos Mesh object", doc: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\n" + podChaos("  action: pod-kill\n  mode: one\n  selector: {}\n"), code: "W021", schedule: "@every 1h"},
		{name: "status of an exported object", doc: podChaos("  action: pod-kill\n  mode: one\n  selector: {}\nstatus: {experiment: {}}\n"), code: "N006", schedule: "@every 1h"},
		{name: "Workflow", doc: "apiVersion: chaos-mesh.org/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec: {entry: e}\n---\n" + podChaos("  action: pod-kill\n  mode: one\n  selector: {}\n"), code: "W021", schedule: "@every 1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := testOptions(nil).ChaosMesh(File{Name: "in.yaml", Data: []byte(tt.doc)})
			if err != nil {
				t.Fatal(err)
			}
			cfg := mustParse(t, res)
			all := append(append([]Warning{}, res.Warnings...), res.Notes...)
			if tt.code != "" && !slices.Contains(codes(all), tt.code) {
				t.Errorf("findings %v, want one %s", all, tt.code)
			}
			if tt.code == "" && len(res.Warnings) > 0 {
				t.Errorf("warnings %v, want none", res.Warnings)
			}
			if len(cfg.Experiments) != 1 {
				t.Fatalf("%d experiments, want 1:\n%s", len(cfg.Experiments), res.Config)
			}
			e := cfg.Experiments[0]
			if e.Disabled != tt.disabled || e.Schedule != tt.schedule {
				t.Errorf("disabled %v schedule %q, want %v %q:\n%s", e.Disabled, e.Schedule, tt.disabled, tt.schedule, res.Config)
			}
		})
	}
}

func TestChaosMeshSeveralFiles(t *testing.T) {
	res, err := testOptions(nil).ChaosMesh(
		readFile(t, filepath.Join("testdata", "chaosmesh", "pod-kill-example.yaml")),
		readFile(t, filepath.Join("testdata", "chaosmesh", "auth-rbac-podchaos.yaml")),
	)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParse(t, res)
	var names []string
	for _, e := range cfg.Experiments {
		names = append(names, e.Name)
	}
	// Both files name their object pod-kill-example.
	if want := []string{"pod-kill-example", "pod-kill-example-2"}; !slices.Equal(names, want) {
		t.Errorf("experiments %v, want %v", names, want)
	}
	if _, err := testOptions(nil).ChaosMesh(); err == nil {
		t.Error("no files: want an error")
	}
}

// An HTTPChaos in a Schedule is not converted either; the experiment the
// warning suggests keeps the Schedule's cron spec.
func TestChaosMeshScheduledHTTPChaos(t *testing.T) {
	doc := "apiVersion: chaos-mesh.org/v1alpha1\nkind: Schedule\nmetadata: {name: s, namespace: shop}\nspec:\n  schedule: '@every 30m'\n  type: HTTPChaos\n" +
		"  httpChaos: {mode: all, selector: {labelSelectors: {app: web}}, target: Request, port: 80, delay: 2s, duration: 1m}\n"
	res, err := testOptions(nil).ChaosMesh(File{Name: "in.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	mustParse(t, res)
	if got := codes(res.Warnings); !slices.Equal(got, []string{"W011", "W022"}) {
		t.Fatalf("warnings %v, want W011 and W022", res.Warnings)
	}
	for _, want := range []string{`schedule: "@every 30m"`, "namespaces: [shop]", "type: http-delay, delay: 2s, percent: 100", "duration: 1m"} {
		if !strings.Contains(res.Warnings[0].Message, want) {
			t.Errorf("W022 %q lacks %q", res.Warnings[0].Message, want)
		}
	}
}
