package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/chaosd/chaosd/internal/version"
)

// NewHTTPClient is the client webhook receivers use by default. It does
// not follow redirects: a redirect would send the payload somewhere the
// operator did not configure, and its Location could echo the secret.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxErrorBody bounds how much of a failed response ends up in an error.
const maxErrorBody = 256

// postJSON posts body to the secret URL target. A returned error is a
// *sendError: redacted, and marked permanent for answers that no retry
// will change (4xx other than 408 and 429, redirects).
func postJSON(ctx context.Context, client *http.Client, target string, body any) error {
	red := newRedactor(target)
	b, err := json.Marshal(body)
	if err != nil {
		return &sendError{msg: fmt.Sprintf("encode payload: %v", err), permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return red.error(fmt.Errorf("build request: %w", err), true)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "chaosd/"+version.Version)
	resp, err := client.Do(req)
	if err != nil {
		return red.error(err, false)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	code := resp.StatusCode
	retry := code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
	return &sendError{
		msg:        red.text(fmt.Sprintf("POST %s://%s/%s: %s: %q", req.URL.Scheme, req.URL.Host, redacted, resp.Status, bytes.TrimSpace(snippet))),
		permanent:  !retry,
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After")),
	}
}

// parseRetryAfter reads the delta-seconds form (what Slack sends); the
// HTTP-date form is ignored and the normal backoff applies.
func parseRetryAfter(v string) time.Duration {
	s, err := strconv.Atoi(v)
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}
