package cluster

import (
	"context"
	"os"
	"sort"
	"testing"
)

// Start brings up a cluster for the test and registers its teardown.
//
// If CHAOSD_E2E_KUBECONFIG is set the test runs against that cluster
// instead (with CHAOSD_E2E_PROMETHEUS_URL and CHAOSD_E2E_ALERTMANAGER_URL),
// and nothing is started. Otherwise, when the test has failed, teardown
// copies the component logs to $CHAOSD_E2E_ARTIFACTS/<test> (default
// test/artifacts/<test>) and prints their tails.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if ext := ExistingFromEnv(os.Getenv); ext != nil {
		opts.Existing = ext
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	if opts.ArtifactsDir == "" {
		cwd, _ := os.Getwd()
		opts.ArtifactsDir = artifactsDirFor(t.Name(), os.Getenv, cwd)
	}
	timeout := opts.withDefaults().StartTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	c, err := Up(ctx, opts)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	c.retainDir = true
	t.Cleanup(func() { c.cleanupAfterTest(t) })
	return c
}

// logTailLines is how much of each component log a failed test prints.
const logTailLines = 40

// cleanupAfterTest stops the cluster, keeps and prints the logs if the test
// failed, and removes the working directory.
func (c *Cluster) cleanupAfterTest(t testing.TB) {
	if err := c.Down(); err != nil {
		t.Errorf("stop cluster: %v", err)
	}
	if c.external {
		return
	}
	if t.Failed() {
		if err := copyLogs(c.layout.logDir(), c.opts.ArtifactsDir); err != nil {
			t.Logf("keep cluster logs: %v", err)
		} else {
			t.Logf("cluster logs kept in %s", c.opts.ArtifactsDir)
		}
		pids := c.PIDs()
		names := make([]string, 0, len(pids))
		for name := range pids {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			t.Logf("--- last %d lines of %s.log ---\n%s", logTailLines, name, tailFile(c.layout.path("logs", name+".log"), logTailLines))
		}
	}
	if c.opts.KeepDir {
		t.Logf("cluster working dir kept: %s", c.Dir)
		return
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		t.Errorf("remove cluster dir: %v", err)
	}
}
