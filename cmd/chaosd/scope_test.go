package main

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

func TestScopeFlags(t *testing.T) {
	const needsList = "namespaced mode needs --watch-namespaces: the namespaces chaosd may read and target (Helm rbac.namespaces)"
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "cluster-wide by default"},
		{name: "watch-namespaces implies namespaced", args: []string{"--watch-namespaces=shop,go-demo-8"}, want: []string{"go-demo-8", "shop"}},
		{name: "repeated, spaced and duplicated", args: []string{"--namespaced", "--watch-namespaces", "shop, cart", "--watch-namespaces=shop"}, want: []string{"cart", "shop"}},
		{name: "namespaced without namespaces", args: []string{"--namespaced"}, wantErr: needsList},
		{name: "empty watch-namespaces", args: []string{"--watch-namespaces="}, wantErr: needsList},
		{name: "invalid namespace", args: []string{"--watch-namespaces=shop,Go_Demo"},
			wantErr: `--watch-namespaces: invalid namespace "Go_Demo": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s scopeFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			s.register(fs, true)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := s.namespaces()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("namespaces() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
