package importer

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// maxNameLen leaves room for a "-NN" suffix inside a DNS-1123 label.
const maxNameLen = 59

// dnsLabel turns a file name or title into a valid experiment name:
// lowercase letters, digits and dashes, starting and ending alphanumeric.
func dnsLabel(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > maxNameLen {
		out = strings.TrimRight(out[:maxNameLen], "-")
	}
	return out
}

// nameFromFile is the base name of a file without its extension.
func nameFromFile(name string) string {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	return dnsLabel(strings.TrimSuffix(base, path.Ext(base)))
}

// uniqueName appends -2, -3, ... until the name is not taken.
func uniqueName(name string, taken map[string]bool) string {
	if name == "" {
		name = "experiment"
	}
	if !taken[name] {
		return name
	}
	for i := 2; ; i++ {
		if n := name + "-" + strconv.Itoa(i); !taken[n] {
			return n
		}
	}
}

// formatDuration writes a duration the way people do: 1h, 10m, 1m30s,
// 500ms; never Go's 1h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
