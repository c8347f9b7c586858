package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// KubeMonkeyTOML reads kube-monkey's config.toml into the environment
// variables it is equivalent to (kubemonkey.dry_run → KUBEMONKEY_DRY_RUN),
// for KubeMonkey. It reads the subset kube-monkey's files use: [sections],
// key = value with strings, numbers, booleans and one-line arrays, and
// comments.
func KubeMonkeyTOML(data []byte) (map[string]string, error) {
	env := map[string]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(stripComment(sc.Text()))
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") && !strings.Contains(line, "=") {
			section = strings.ReplaceAll(strings.Trim(line, "[] "), "-", "")
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("read kube-monkey config line %d: %q is not key = value", n, line)
		}
		val, err := tomlValue(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("read kube-monkey config line %d: %w", n, err)
		}
		name := strings.TrimSpace(key)
		if section != "" {
			name = section + "." + name
		}
		env[strings.ToUpper(strings.ReplaceAll(name, ".", "_"))] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read kube-monkey config: %w", err)
	}
	return env, nil
}

// tomlValue turns a value into the text its environment variable holds;
// arrays become comma-separated lists.
func tomlValue(raw string) (string, error) {
	if inner, ok := strings.CutPrefix(raw, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		if !ok {
			return "", fmt.Errorf("array %s must be on one line", raw)
		}
		var items []string
		for _, it := range strings.Split(inner, ",") {
			if it = strings.TrimSpace(it); it == "" {
				continue
			}
			v, err := tomlValue(it)
			if err != nil {
				return "", err
			}
			items = append(items, v)
		}
		return strings.Join(items, ","), nil
	}
	if strings.HasPrefix(raw, `"`) || strings.HasPrefix(raw, "'") {
		if len(raw) < 2 || raw[len(raw)-1] != raw[0] {
			return "", fmt.Errorf("unterminated string %s", raw)
		}
		if raw[0] == '\'' {
			return raw[1 : len(raw)-1], nil
		}
		return strconv.Unquote(raw)
	}
	return raw, nil
}

// stripComment drops a # comment that is not inside a string.
func stripComment(line string) string {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote == 0 && r == '#':
			return line[:i]
		}
	}
	return line
}
