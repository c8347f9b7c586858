package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosd/chaosd/internal/control"
)

// TestPrintStatusAudit: chaosd status lists the audit entries the leader
// published, newest first, with who, from where and what.
func TestPrintStatusAudit(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	st := control.Status{UpdatedAt: now, State: "paused", Audit: []control.AuditSummary{
		{At: now.Add(-time.Minute), Action: "config", Who: "bob-editor (field manager)", From: "configmap chaosd/chaosd-config", Detail: "loaded, hash 0123456789ab"},
		{At: now.Add(-2 * time.Minute), Action: "pause", Who: "alice (system:masters)", From: "alice@laptop, context prod", Detail: "reason: incident"},
	}}
	var out bytes.Buffer
	printStatus(&out, st, nil, now)
	want := "audit (newest first):\n" +
		"  2026-12-06T11:59:00Z  config          bob-editor (field manager) from configmap chaosd/chaosd-config: loaded, hash 0123456789ab\n" +
		"  2026-12-06T11:58:00Z  pause           alice (system:masters) from alice@laptop, context prod: reason: incident\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("status ends\n%s\nwant it to end\n%s", out.String(), want)
	}
}

// TestContextName: "from" names the kubeconfig context the command uses
// (--context wins), else in-cluster inside a pod.
func TestContextName(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	doc := `apiVersion: v1
kind: Config
current-context: dev
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: dev, context: {cluster: c, user: u}}, {name: prod, context: {cluster: c, user: u}}]
`
	if err := os.WriteFile(kubeconfig, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		flags     kubeFlags
		inCluster bool
		want      string
	}{
		{name: "current context", flags: kubeFlags{kubeconfig: kubeconfig}, want: "context dev"},
		{name: "--context", flags: kubeFlags{kubeconfig: kubeconfig, context: "prod"}, want: "context prod"},
		{name: "in a pod without kubeconfig", flags: kubeFlags{kubeconfig: filepath.Join(t.TempDir(), "none")}, inCluster: true, want: "in-cluster"},
		{name: "neither", flags: kubeFlags{kubeconfig: filepath.Join(t.TempDir(), "none")}, want: "no kubeconfig context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.flags.contextName(tt.inCluster); got != tt.want {
				t.Errorf("contextName = %q, want %q", got, tt.want)
			}
		})
	}
}
