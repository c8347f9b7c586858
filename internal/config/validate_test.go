package config

import (
	"slices"
	"strings"
	"testing"
)

// TestParseErrors holds every class of problem validation reports, each with
// the exact message a config author sees (Messages: "path: msg"). The whole
// list is compared, so a case also proves nothing else is reported.
func TestParseErrors(t *testing.T) {
	tests := []problemCase{
		// Unknown keys.
		{"unknown top-level key", experimentDoc("bogus: 1"), []string{
			"bogus: unknown key",
		}},
		{"unknown nested keys", experimentDoc("guard: {alertmanager: {url: http://am:9093, nope: 1}}",
			"target: {kind: pod, namespaces: [demo], extra: x, more: y}",
			"action: {type: pod-kill, typo: 1}"), []string{
			"guard.alertmanager.nope: unknown key",
			"experiments[0].target.extra: unknown key",
			"experiments[0].target.more: unknown key",
			"experiments[0].action.typo: unknown key",
		}},
		{"unknown key in a policy", experimentDoc("policies: {default: {excludeNamespace: [x]}}"), []string{
			"policies.default.excludeNamespace: unknown key",
		}},

		// Wrong types.
		{"string for int", experimentDoc(`maxConcurrentRuns: "two"`), []string{
			"maxConcurrentRuns: expected a whole number, got a string",
		}},
		{"string for bool", experimentDoc("", `disabled: "no"`), []string{
			"experiments[0].disabled: expected true or false, got a string",
		}},
		{"list for map", experimentDoc("windows: [a]\npolicies: [b]"), []string{
			"windows: expected a mapping, got a list",
			"policies: expected a mapping, got a list",
		}},
		{"scalar for map", experimentDoc("", "target: pods", "action: 7"), []string{
			"experiments[0].target: expected a mapping, got a string",
			"experiments[0].action: expected a mapping, got a whole number",
		}},
		{"scalar for list", experimentDoc("", "target: {kind: pod, namespaces: demo}"), []string{
			"experiments[0].target.namespaces: expected a list, got a string",
		}},
		{"map for list", "experiments: {a: 1}\n", []string{
			"experiments: expected a list, got a mapping",
		}},
		{"number for string", experimentDoc("", "schedule: 5"), []string{
			"experiments[0].schedule: expected a string, got a whole number",
		}},
		{"bool for duration", experimentDoc("", "observe: true"), []string{
			"experiments[0].observe: expected a duration like 30s, got a boolean",
		}},
		{"bare number for duration", experimentDoc("guard: {pollInterval: 5, timeout: 1.5}", "jitter: 5"), []string{
			"guard.pollInterval: expected a duration with a unit like 30s, got 5",
			"guard.timeout: expected a duration with a unit like 30s, got 1.5",
			"experiments[0].jitter: expected a duration with a unit like 30s, got 5",
		}},
		{"not YAML at all", "experiments: [\n", []string{
			"line 1: did not find expected node content",
		}},
		{"a list instead of a mapping", "- a\n- b\n", []string{
			"unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]interface {}",
		}},
		{"recursive alias", "a: &x {b: *x}\n", []string{
			"anchor 'x' value contains itself",
		}},

		// Durations.
		{"bad durations", experimentDoc("guard: {pollInterval: fast}",
			`jitter: "5 minutes"`, "action: {type: pod-kill, gracePeriod: 1x}"), []string{
			`guard.pollInterval: invalid duration "fast", expected a number with a unit like 30s`,
			`experiments[0].action.gracePeriod: invalid duration "1x", expected a number with a unit like 30s`,
			`experiments[0].jitter: invalid duration "5 minutes", expected a number with a unit like 30s`,
		}},
		{"negative durations", experimentDoc("", "jitter: -1s", "observe: -1s",
			"action: {type: pod-kill, gracePeriod: -1s}"), []string{
			"experiments[0].action.gracePeriod: must not be negative",
			"experiments[0].jitter: must not be negative",
			"experiments[0].observe: must not be negative",
		}},

		// Schedules.
		{"cron syntax", experimentDoc("", `schedule: "* * *"`), []string{
			`experiments[0].schedule: invalid cron expression "* * *": expected exactly 5 fields, found 3: [* * *]`,
		}},
		{"cron value out of range", experimentDoc("", `schedule: "61 * * * *"`), []string{
			`experiments[0].schedule: invalid cron expression "61 * * * *": end of range (61) above maximum (59): 61`,
		}},
		{"cron never fires", experimentDoc("", `schedule: "0 0 30 2 *"`), []string{
			`experiments[0].schedule: cron expression "0 0 30 2 *" never fires`,
		}},
		{"CRON_TZ with nothing after it", experimentDoc("", `schedule: "CRON_TZ="`), []string{
			`experiments[0].schedule: invalid cron expression "CRON_TZ="`,
		}},
		{"CRON_TZ zone without schedule", experimentDoc("", `schedule: "CRON_TZ=Europe/Berlin"`), []string{
			`experiments[0].schedule: invalid cron expression "CRON_TZ=Europe/Berlin"`,
		}},
		{"TZ with nothing after it", experimentDoc("", `schedule: "TZ="`), []string{
			`experiments[0].schedule: invalid cron expression "TZ="`,
		}},
		{"CRON_TZ unknown zone", experimentDoc("", `schedule: "CRON_TZ=Nowhere/X 0 * * *"`), []string{
			`experiments[0].schedule: invalid cron expression "CRON_TZ=Nowhere/X 0 * * *": provided bad location Nowhere/X: unknown time zone Nowhere/X`,
		}},
		{"missing schedule", experimentDoc("", `schedule: ""`), []string{
			"experiments[0].schedule: schedule is required",
		}},
		{"@every below a second", experimentDoc("", `schedule: "@every 500ms"`), []string{
			`experiments[0].schedule: invalid cron expression "@every 500ms": @every needs a whole number of seconds, at least 1s`,
		}},
		{"@every negative", experimentDoc("", `schedule: "@every -1h"`), []string{
			`experiments[0].schedule: invalid cron expression "@every -1h": @every needs a whole number of seconds, at least 1s`,
		}},
		{"@every bad duration", experimentDoc("", `schedule: "@every soon"`), []string{
			`experiments[0].schedule: invalid cron expression "@every soon": failed to parse duration @every soon: time: invalid duration "soon"`,
		}},
		{"jitter equal to the gap", experimentDoc("", `schedule: "@every 1h"`, "jitter: 1h"), []string{
			"experiments[0].jitter: jitter 1h0m0s must be shorter than the schedule's shortest gap 1h0m0s",
		}},
		{"jitter above the shortest cron gap", experimentDoc("", `schedule: "0 9,10 * * *"`, "jitter: 90m"), []string{
			"experiments[0].jitter: jitter 1h30m0s must be shorter than the schedule's shortest gap 1h0m0s",
		}},

		// Percentages.
		{"action percent above 100", experimentDoc("",
			"target: {kind: virtualservice, namespaces: [demo]}",
			"action: {type: http-abort, status: 500, percent: 150}", "duration: 1m"), []string{
			"experiments[0].action.percent: percentage 150 is outside 0-100",
		}},
		{"http-fault percentages and statuses", experimentDoc("",
			"target: {kind: virtualservice}",
			"action: {type: http-fault, abort: {status: 99, percent: -1}, fixedDelay: {delay: 0s, percent: 101}}",
			"duration: 1m"), []string{
			"experiments[0].action.abort.percent: percentage -1 is outside 0-100",
			"experiments[0].action.abort.status: HTTP status must be 200-599, got 99",
			"experiments[0].action.fixedDelay.delay: must be a positive duration",
			"experiments[0].action.fixedDelay.percent: percentage 101 is outside 0-100",
		}},
		{"mode percent above 100", experimentDoc("", "target: {kind: pod, mode: percent:101}"), []string{
			"experiments[0].target.mode: percentage 101 is outside 0-100",
		}},
		{"mode maxPercent above 100", experimentDoc("", "target: {kind: pod, mode: maxPercent:200}"), []string{
			"experiments[0].target.mode: percentage 200 is outside 0-100",
		}},
		{"mode percent zero", experimentDoc("", "target: {kind: pod, mode: percent:0}"), []string{
			"experiments[0].target.mode: mode percent:0 must be at least 1",
		}},
		{"mode without number", experimentDoc("", "target: {kind: pod, mode: count:x}"), []string{
			`experiments[0].target.mode: mode "count" needs a whole number, as in count:2`,
		}},
		{"mode one with argument", experimentDoc("", "target: {kind: pod, mode: one:2}"), []string{
			`experiments[0].target.mode: mode "one" takes no argument`,
		}},
		{"unknown mode", experimentDoc("", "target: {kind: pod, mode: 3}"), []string{
			`experiments[0].target.mode: must be one, all, count:N, percent:N or maxPercent:N, got "3"`,
		}},
		{"maxUnavailablePerWorkload", experimentDoc(`policies:
  default: {maxUnavailablePerWorkload: 101%}
  b: {maxUnavailablePerWorkload: -1}
  c: {maxUnavailablePerWorkload: abc}`), []string{
			`policies.default.maxUnavailablePerWorkload: percentage "101%" is outside 0-100`,
			`policies.b.maxUnavailablePerWorkload: must not be negative, got "-1"`,
			`policies.c.maxUnavailablePerWorkload: must be a whole number or a percentage like 34%, got "abc"`,
		}},

		// Selectors and matchers.
		{"selectors that don't parse", experimentDoc("",
			`target: {kind: pod, selector: "app in (", namespaceSelector: "=x"}`), []string{
			`experiments[0].target.namespaceSelector: invalid label selector "=x": found '=', expected: !, identifier, or 'end of string'`,
			`experiments[0].target.selector: invalid label selector "app in (": unable to parse requirement: found '', expected: ',', ')' or identifier`,
		}},
		{"bad matchers", experimentDoc(`guard:
  alertmanager:
    url: http://am:9093
    block: ['severity=~"(', 'foo']
    ignore: ['a="b"', '=x']`), []string{
			`guard.alertmanager.block[0]: invalid matcher "severity=~\"(": matcher value contains unescaped double quote: "(`,
			`guard.alertmanager.block[1]: invalid matcher "foo": bad matcher format: foo`,
			`guard.alertmanager.ignore[1]: invalid matcher "=x": bad matcher format: =x`,
		}},

		// Names and references.
		{"duplicate experiment names", experimentDoc("") + `  - name: e
    schedule: "@hourly"
    target: {kind: pod}
    action: {type: pod-kill}
`, []string{
			`experiments[1].name: duplicate experiment name "e" (also experiments[0])`,
		}},
		{"invalid names", experimentDoc("policies: {Bad_Policy: {}}", "name: Bad_Name", "policy: Bad_Policy"), []string{
			`policies.Bad_Policy: policy name "Bad_Policy" is not a valid name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
			`experiments[0].name: "Bad_Name" is not a valid name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
		}},
		{"missing name", experimentDoc("", `name: ""`), []string{
			"experiments[0].name: is required",
		}},
		{"undefined policy", experimentDoc("", "policy: nope"), []string{
			`experiments[0].policy: references undefined policy "nope"`,
		}},

		// Namespaces and policies.
		{"namespace excluded by the policy", experimentDoc("policies: {default: {excludeNamespaces: [demo]}}"), []string{
			`experiments[0].target.namespaces[0]: namespace "demo" is excluded by the experiment's policy`,
		}},
		{"kube-system is excluded without a policy", experimentDoc("", "target: {kind: pod, namespaces: [kube-system]}"), []string{
			`experiments[0].target.namespaces[0]: namespace "kube-system" is excluded by the experiment's policy`,
		}},
		{"kube-system is excluded by another policy's allow", experimentDoc(
			"policies: {system: {allowNamespaces: [kube-system]}}",
			"target: {kind: pod, namespaces: [kube-system]}"), []string{
			`experiments[0].target.namespaces[0]: namespace "kube-system" is excluded by the experiment's policy`,
		}},
		{"podNamespace excluded", experimentDoc("",
			"target: {kind: node, podNamespace: kube-system}", "action: {type: node-cordon}", "duration: 1m"), []string{
			`experiments[0].target.podNamespace: namespace "kube-system" is excluded by the experiment's policy`,
		}},
		{"invalid namespaces", experimentDoc("policies: {default: {excludeNamespaces: [Bad_NS], minReadyNodes: -1, minPodAge: -1s}}",
			"target: {kind: pod, namespaces: [UPPER]}"), []string{
			`policies.default.excludeNamespaces[0]: invalid namespace "Bad_NS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
			`policies.default.minPodAge: must not be negative`,
			`policies.default.minReadyNodes: must not be negative`,
			`experiments[0].target.namespaces[0]: invalid namespace "UPPER": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
		}},

		// Targets and actions.
		{"unknown target kind", experimentDoc("", "target: {kind: rocket}"), []string{
			`experiments[0].target.kind: must be one of pod, virtualservice, node, zone, url, got "rocket"`,
		}},
		{"unknown action", experimentDoc("", "action: {type: explode}"), []string{
			`experiments[0].action.type: unknown action "explode"`,
		}},
		{"action/target mismatch", experimentDoc("", "action: {type: node-drain}", "duration: 1m"), []string{
			"experiments[0].action.type: action node-drain cannot target a pod",
		}},
		{"zone cannot be deleted", experimentDoc("", "target: {kind: zone}", "action: {type: node-delete, restore: true}", "duration: 1m"), []string{
			"experiments[0].action.type: action node-delete cannot target a zone",
		}},
		{"fields not applying to the action", experimentDoc("", "action: {type: pod-kill, status: 500, delay: 1s, restore: true}"), []string{
			"experiments[0].action.delay: does not apply to action pod-kill",
			"experiments[0].action.restore: does not apply to action pod-kill",
			"experiments[0].action.status: does not apply to action pod-kill",
		}},
		{"fields not applying to the target", experimentDoc("",
			"target: {kind: node, namespaces: [demo], ownerKinds: [Pod], label: zone, url: http://x}",
			"action: {type: node-cordon}", "duration: 1m"), []string{
			"experiments[0].target.label: does not apply to target kind node",
			"experiments[0].target.namespaces: does not apply to target kind node",
			"experiments[0].target.ownerKinds: does not apply to target kind node",
			"experiments[0].target.url: does not apply to target kind node",
		}},
		{"excluded owner kinds are kind names, for pods only", experimentDoc("",
			"target: {kind: node, excludeOwnerKinds: [daemonset, Job]}", "action: {type: node-cordon}", "duration: 1m"), []string{
			"experiments[0].target.excludeOwnerKinds: does not apply to target kind node",
			`experiments[0].target.excludeOwnerKinds[0]: must be a kind such as DaemonSet or Job, got "daemonset"`,
		}},
		{"unknown owner kind", experimentDoc("", "target: {kind: pod, ownerKinds: [Job]}"), []string{
			`experiments[0].target.ownerKinds[0]: must be one of Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, got "Job"`,
		}},
		{"zone and url take one target", experimentDoc("",
			"target: {kind: zone, mode: all}", "action: {type: node-cordon}", "duration: 1m") + `  - name: load
    schedule: "@hourly"
    target: {kind: url, mode: count:2}
    action: {type: http-load}
`, []string{
			"experiments[0].target.mode: a zone outage takes one zone at a time; mode must be one",
			"experiments[1].target.mode: a url target is a single endpoint; mode must be one",
			"experiments[1].target.url: is required",
		}},
		{"http-load limits", experimentDoc("",
			"target: {kind: url, url: ftp://x}", "action: {type: http-load, concurrency: 5000, duration: 1h, rate: -1}"), []string{
			`experiments[0].target.url: must be an http or https URL, got "ftp://x"`,
			"experiments[0].action.concurrency: must be 1-1000, got 5000",
			"experiments[0].action.duration: must be positive and at most 10m0s, got 1h0m0s",
			"experiments[0].action.rate: must not be negative",
		}},
		{"action details", experimentDoc("",
			"target: {kind: virtualservice}", "action: {type: http-delay, route: {subset: x}}", "duration: 1m") + `  - name: fault
    schedule: "@hourly"
    target: {kind: virtualservice}
    action: {type: http-fault}
    duration: 1m
  - name: kill
    schedule: "@hourly"
    target: {kind: pod}
    action: {type: pod-kill, method: shoot}
  - name: drain
    schedule: "@hourly"
    target: {kind: node}
    action: {type: node-drain, timeout: -1s}
    duration: 1m
`, []string{
			"experiments[0].action.delay: must be a positive duration",
			"experiments[0].action.route.host: is required",
			"experiments[1].action: http-fault needs abort, fixedDelay or both",
			`experiments[2].action.method: must be delete or evict, got "shoot"`,
			"experiments[3].action.timeout: must not be negative",
		}},

		// Duration rules.
		{"holding action without duration", experimentDoc("", "target: {kind: node}", "action: {type: node-cordon}"), []string{
			"experiments[0].duration: action node-cordon holds a fault and needs a positive duration before it is reverted",
		}},
		{"instant action with duration", experimentDoc("", "duration: 1m"), []string{
			"experiments[0].duration: action pod-kill holds nothing to revert; remove duration",
		}},
		{"node-delete without restore holds nothing", experimentDoc("", "target: {kind: node}", "action: {type: node-delete}", "duration: 1m"), []string{
			"experiments[0].duration: action node-delete holds nothing to revert; remove duration",
		}},
		{"node-delete with restore needs a duration", experimentDoc("", "target: {kind: node}", "action: {type: node-delete, restore: true}"), []string{
			"experiments[0].duration: action node-delete holds a fault and needs a positive duration before it is reverted",
		}},
		{"negative duration", experimentDoc("", "target: {kind: node}", "action: {type: node-cordon}", "duration: -1m"), []string{
			"experiments[0].duration: must not be negative",
		}},

		// Guard.
		{"guard", experimentDoc(`guard:
  alertmanager: {url: "ftp://x"}
  prometheus:
    checks:
      - {expr: "", min: 2, max: 1}
      - {name: x, expr: up, empty: true, min: 1}
      - {name: x, expr: up}
  pollInterval: 10ms
  timeout: -1s
  unknownAfter: 1ms
  onUnknown: panic
  cooldown: forever`), []string{
			`guard.alertmanager.url: must be an http or https URL, got "ftp://x"`,
			"guard.prometheus.url: is required",
			"guard.prometheus.checks[0]: min 2 is greater than max 1",
			"guard.prometheus.checks[0].expr: is required",
			"guard.prometheus.checks[0].name: is required",
			"guard.prometheus.checks[1]: empty cannot be combined with min or max",
			"guard.prometheus.checks[2]: needs min, max or empty: true",
			`guard.prometheus.checks[2].name: duplicate check name "x"`,
			"guard.pollInterval: must be at least 100ms, got 10ms",
			"guard.timeout: must be positive, got -1s",
			"guard.unknownAfter: must be at least pollInterval (10ms), got 1ms",
			`guard.onUnknown: must be revert, pause or ignore, got "panic"`,
			`guard.cooldown: must be a duration or "manual", got "forever"`,
		}},
		{"negative cooldown", experimentDoc("guard: {cooldown: -5m}"), []string{
			"guard.cooldown: must not be negative, got -5m0s",
		}},
		{"negative score window", experimentDoc("guard: {scoreWindow: -3}"), []string{
			"guard.scoreWindow: must be at least 1, got -3",
		}},

		// Notifications: secrets come from a file or the environment.
		{"slack needs a secret source", experimentDoc("notifications: {slack: {on: [weakness, sometimes]}}"), []string{
			"notifications.slack: needs exactly one of webhookURLFile or webhookURLEnv (the URL is a secret)",
			`notifications.slack.on[1]: unknown event "sometimes" (started, finished, weakness, alert-gap, error, paused, resumed)`,
		}},
		{"slack with two secret sources", experimentDoc("notifications: {slack: {webhookURLFile: /s, webhookURLEnv: S}}"), []string{
			"notifications.slack: needs exactly one of webhookURLFile or webhookURLEnv (the URL is a secret)",
		}},
		{"webhook with two sources", experimentDoc("notifications: {webhook: {url: http://x, urlEnv: X}}"), []string{
			"notifications.webhook: needs exactly one of url, urlFile or urlEnv",
		}},
		{"webhook with none", experimentDoc("notifications: {webhook: {on: [started]}}"), []string{
			"notifications.webhook: needs exactly one of url, urlFile or urlEnv",
		}},
		{"webhook bad url", experimentDoc("notifications: {webhook: {url: ftp://x}}"), []string{
			`notifications.webhook.url: must be an http or https URL, got "ftp://x"`,
		}},
		{"alertmanager notification without url", experimentDoc("notifications: {alertmanager: {raiseOnWeakness: true, externalURL: '::'}}"), []string{
			"notifications.alertmanager.externalURL: must be an http or https URL, got \"::\"",
			"notifications.alertmanager.url: is required to raise alerts (or set guard.alertmanager.url)",
		}},

		// Top level, time zone and windows.
		{"top level values", experimentDoc("paused: maybe\nmaxConcurrentRuns: -1\njournal: {maxRuns: -1, maxBytes: -1}"), []string{
			`paused: must be true, false or revert, got "maybe"`,
			"maxConcurrentRuns: must be at least 1, got -1",
			"journal.maxBytes: must not be negative",
			"journal.maxRuns: must not be negative",
		}},
		{"unknown timezone", experimentDoc("timezone: Mars/Olympus"), []string{
			`timezone: unknown time zone "Mars/Olympus"`,
		}},
		{"bad weekday, hours and dates", experimentDoc(`windows:
  weekdays: [Mon, Funday]
  hours: "9-17"
  blackoutDates: ["2026-13-01", "24.12.2026", "2026-02-30"]`), []string{
			`windows.weekdays[1]: must be a weekday like Mon, got "Funday"`,
			`windows.hours: must look like 09:00-17:00, got "9-17"`,
			`windows.blackoutDates[0]: must be a date like 2026-12-24, got "2026-13-01"`,
			`windows.blackoutDates[1]: must be a date like 2026-12-24, got "24.12.2026"`,
			`windows.blackoutDates[2]: must be a date like 2026-12-24, got "2026-02-30"`,
		}},
		{"hours out of range", experimentDoc(`windows: {hours: "25:00-26:00"}`), []string{
			`windows.hours: must look like 09:00-17:00, got "25:00-26:00"`,
		}},
		{"empty hours window", experimentDoc(`windows: {hours: "09:00-09:00"}`), []string{
			`windows.hours: hours "09:00-09:00" is an empty window`,
		}},
	}
	checkProblems(t, tests)
}

// problemCase is a config and every problem its parse must report, in order.
type problemCase struct {
	name string
	doc  string
	want []string
}

func checkProblems(t *testing.T, tests []problemCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseErrors(t, tc.doc).Messages()
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems differ\ngot:\n  %s\nwant:\n  %s\n--- config ---\n%s",
					strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "), tc.doc)
			}
		})
	}
}

// TestParseAccepts lists configs that look suspicious but are valid.
func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"base experiment", experimentDoc("")},
		{"allowNamespaces lifts the kube-system exclusion", experimentDoc(
			"policies: {default: {allowNamespaces: [kube-system]}}",
			"target: {kind: pod, namespaces: [kube-system]}")},
		{"named policy lifting kube-system", experimentDoc(
			"policies: {system: {allowNamespaces: [kube-system]}}",
			"policy: system", "target: {kind: pod, namespaces: [kube-system]}")},
		{"CRON_TZ in the spec", experimentDoc("timezone: Europe/Berlin", `schedule: "CRON_TZ=America/New_York 0 9 * * 1-5"`)},
		{"TZ in the spec", experimentDoc("", `schedule: "TZ=Asia/Tokyo 30 8 * * *"`)},
		{"descriptors", experimentDoc("", `schedule: "@hourly"`, "jitter: 59m")},
		{"@every with jitter below the period", experimentDoc("", `schedule: "@every 1h30m"`, "jitter: 89m")},
		{"jitter just below the cron gap", experimentDoc("", "jitter: 9m59s")},
		{"hours wrapping past midnight", experimentDoc(`windows: {hours: "22:00-02:00"}`)},
		{"hours ending at 24:00", experimentDoc(`windows: {hours: "18:00-24:00", weekdays: [monday, SUN, fri]}`)},
		{"empty config", ""},
		{"disabled experiments are still valid", experimentDoc("", "disabled: true")},
		{"yaml anchors and merge keys", `experiments:
  - &kill
    name: a
    schedule: "@hourly"
    target: {kind: pod}
    action: {type: pod-kill}
  - <<: *kill
    name: b
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustParse(t, tc.doc)
		})
	}
}
