package notify

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// redacted replaces a secret wherever it would be printed.
const redacted = "REDACTED"

// URLSource says where a receiver's URL comes from. Exactly one of Value,
// File and Env is set (config validation enforces it). File and Env are
// re-read on every send, so a rotated Kubernetes Secret takes effect
// without a restart. Every URL is treated as a secret, Value included.
type URLSource struct {
	Value string
	File  string
	Env   string
	// Getenv and ReadFile default to the os package; tests replace them.
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

// String says where the URL comes from, never what it is.
func (s URLSource) String() string {
	switch {
	case s.File != "":
		return "file " + s.File
	case s.Env != "":
		return "environment variable " + s.Env
	case s.Value != "":
		return "config"
	}
	return "nowhere"
}

// URL reads the current URL. Errors name the source, never the value.
func (s URLSource) URL() (string, error) {
	var raw string
	switch {
	case s.File != "":
		read := s.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		b, err := read(s.File)
		if err != nil {
			// A PathError names the file, which is not secret.
			return "", fmt.Errorf("read URL from %s: %w", s, err)
		}
		raw = string(b)
	case s.Env != "":
		getenv := s.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		raw = getenv(s.Env)
	default:
		raw = s.Value
	}
	raw = strings.TrimSpace(raw) // Secrets made with echo end in a newline
	if raw == "" {
		return "", fmt.Errorf("URL from %s is empty", s)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// url.Parse's error quotes the URL: don't wrap it.
		return "", fmt.Errorf("URL from %s is not an absolute http(s) URL", s)
	}
	return raw, nil
}

// redactor scrubs one secret URL out of error text: the whole URL, its
// escaped and unescaped forms, and its path, query and user info (which
// carry the token in Slack and most webhook URLs).
type redactor struct{ secrets []string }

func newRedactor(rawURL string) redactor {
	r := redactor{}
	add := func(s string) {
		if len(s) > 1 && s != "/" {
			r.secrets = append(r.secrets, s)
		}
	}
	add(rawURL)
	if u, err := url.Parse(rawURL); err == nil {
		add(u.String())
		add(u.RawQuery)
		add(u.EscapedPath())
		add(u.Path)
		if u.User != nil {
			add(u.User.String())
		}
	}
	return r
}

func (r redactor) text(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// error returns err's text, scrubbed, as a new error that does not wrap
// err: unwrapping must not lead back to the secret (a *url.Error holds it).
func (r redactor) error(err error, permanent bool) error {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Op + " " + redacted + ": " + ue.Err.Error()
	}
	return &sendError{msg: r.text(msg), permanent: permanent}
}
