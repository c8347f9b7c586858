package config

import (
	"errors"
	"slices"
	"testing"
)

// TestValidateScope holds every problem namespaced mode refuses, with the
// exact message; the whole list is compared, so a case also proves nothing
// else is reported.
func TestValidateScope(t *testing.T) {
	watched := []string{"demo", "shop"}
	tests := []struct {
		name    string
		doc     string
		watched []string
		want    []string
	}{
		{"cluster-wide mode refuses nothing", experimentDoc("", "target: {kind: node, mode: one}", "action: {type: node-cordon}", "duration: 1m"), nil, nil},
		{"pods in watched namespaces", experimentDoc("", "target: {kind: pod, namespaces: [shop, demo], optIn: true}"), watched, nil},
		{"virtualservice in a watched namespace", experimentDoc("", "target: {kind: virtualservice, namespaces: [demo]}",
			"action: {type: http-abort, status: 500}", "duration: 1m"), watched, nil},
		{"url targets need no cluster access", experimentDoc("", "target: {kind: url, url: http://api.demo:8080}",
			"action: {type: http-load, concurrency: 1, duration: 1s}"), watched, nil},
		{"node", experimentDoc("", "target: {kind: node, mode: one}", "action: {type: node-cordon}", "duration: 1m"), watched, []string{
			"experiments[0].target.kind: target kind node needs cluster-wide access to nodes; it cannot run with --namespaced",
		}},
		{"zone", experimentDoc("", "target: {kind: zone}", "action: {type: node-drain}", "duration: 1m"), watched, []string{
			"experiments[0].target.kind: target kind zone needs cluster-wide access to nodes; it cannot run with --namespaced",
		}},
		{"pods without namespaces", experimentDoc("", "target: {kind: pod}"), watched, []string{
			"experiments[0].target.namespaces: is required with --namespaced: list the target namespaces, out of the watched demo,shop",
		}},
		{"namespaces not watched", experimentDoc("", "target: {kind: virtualservice, namespaces: [demo, other, kube-public]}",
			"action: {type: http-delay, delay: 1s}", "duration: 1m"), watched, []string{
			`experiments[0].target.namespaces[1]: namespace "other" is not watched (--watch-namespaces=demo,shop), so chaosd has no access to it`,
			`experiments[0].target.namespaces[2]: namespace "kube-public" is not watched (--watch-namespaces=demo,shop), so chaosd has no access to it`,
		}},
		{"namespaceSelector", experimentDoc("", "target: {kind: pod, namespaces: [demo], namespaceSelector: team=a}"), watched, []string{
			"experiments[0].target.namespaceSelector: cannot be used with --namespaced: a Role cannot read Namespace objects; list the namespaces instead",
		}},
		{"every problem of every experiment, disabled ones too", experimentDoc("",
			"target: {kind: pod, namespaceSelector: team=a}") + `  - name: drain
    schedule: "@hourly"
    disabled: true
    target: {kind: node, mode: one}
    action: {type: node-drain}
    duration: 1m
  - name: other
    schedule: "@hourly"
    target: {kind: pod, namespaces: [other]}
    action: {type: pod-kill}
`, watched, []string{
			"experiments[0].target.namespaceSelector: cannot be used with --namespaced: a Role cannot read Namespace objects; list the namespaces instead",
			"experiments[0].target.namespaces: is required with --namespaced: list the target namespaces, out of the watched demo,shop",
			"experiments[1].target.kind: target kind node needs cluster-wide access to nodes; it cannot run with --namespaced",
			`experiments[2].target.namespaces[0]: namespace "other" is not watched (--watch-namespaces=demo,shop), so chaosd has no access to it`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mustParse(t, tt.doc).ValidateScope(tt.watched)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ValidateScope: %v, want nil", err)
				}
				return
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("ValidateScope error is %T, want *Errors: %v", err, err)
			}
			if got := errs.Messages(); !slices.Equal(got, tt.want) {
				t.Errorf("got:\n  %q\nwant:\n  %q", got, tt.want)
			}
		})
	}
}

// Scope problems are located like Parse's: file, line and key path.
func TestValidateScopeErrorFormat(t *testing.T) {
	cfg, err := Parse("chaosd.yaml", []byte(`experiments:
  - name: drain
    schedule: "@hourly"
    target: {kind: node, mode: one}
    action: {type: node-drain}
    duration: 1m
  - name: kill
    schedule: "@hourly"
    target:
      kind: pod
      namespaces:
        - demo
        - other
    action: {type: pod-kill}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := `chaosd.yaml: 2 problem(s) in config
  chaosd.yaml:4: experiments[0].target.kind: target kind node needs cluster-wide access to nodes; it cannot run with --namespaced
  chaosd.yaml:13: experiments[1].target.namespaces[1]: namespace "other" is not watched (--watch-namespaces=demo), so chaosd has no access to it`
	if err := cfg.ValidateScope([]string{"demo"}); err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}
