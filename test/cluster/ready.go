package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WaitNodesReady waits until at least n nodes are Ready and untainted by
// the node lifecycle controller.
func (c *Cluster) WaitNodesReady(ctx context.Context, n int) error {
	return c.waitNodesReady(ctx, n, nil)
}

// waitNodesReady fails fast if kwok (when given) dies.
func (c *Cluster) waitNodesReady(ctx context.Context, n int, kwok *process) error {
	err := poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		if kwok != nil {
			if err := kwok.exitedErr(); err != nil {
				return false, "", err
			}
		}
		nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		ready := 0
		for i := range nodes.Items {
			if nodeReady(&nodes.Items[i]) {
				ready++
			}
		}
		return ready >= n, fmt.Sprintf("%d/%d nodes ready", ready, n), nil
	})
	if err != nil {
		return fmt.Errorf("wait for %d ready nodes: %w", n, err)
	}
	return nil
}

// SetPrometheusRules replaces the rule file and makes Prometheus reload it.
// A rule file Prometheus rejects makes the reload, and so this call, fail.
func (c *Cluster) SetPrometheusRules(ctx context.Context, rules string) error {
	if c.external || c.PrometheusURL == "" {
		return fmt.Errorf("set prometheus rules: no local prometheus")
	}
	if err := os.WriteFile(c.layout.path("prometheus", "rules.yml"), []byte(rulesOrEmpty(rules)), 0o644); err != nil {
		return fmt.Errorf("write prometheus rules: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.PrometheusURL+"/-/reload", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reload prometheus: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("reload prometheus: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
