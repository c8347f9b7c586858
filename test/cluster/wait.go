package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"time"
)

// poll calls check every interval until it reports done, returns an error,
// or ctx ends. The last "not yet" reason is part of the timeout error, so a
// failed wait says what it was waiting for.
func poll(ctx context.Context, interval time.Duration, check func(context.Context) (done bool, reason string, err error)) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		done, reason, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last state: %s)", ctx.Err(), reason)
		case <-ticker.C:
		}
	}
}

// waitHTTPReady polls url until it answers 200, failing fast if proc exits.
func waitHTTPReady(ctx context.Context, client *http.Client, url, token string, proc *process) error {
	err := poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		if proc != nil {
			if err := proc.exitedErr(); err != nil {
				return false, "", err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err.Error(), nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Sprintf("%s: %s", resp.Status, body), nil
		}
		return true, "", nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s: %w", url, err)
	}
	return nil
}

// httpClientFor trusts caPEM; with nil it skips verification, which the
// self-signed health endpoints of the controller manager and scheduler need.
func httpClientFor(caPEM []byte) *http.Client {
	tlsConfig := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback health checks only
	if caPEM != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		tlsConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
}
