package importer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// args reads a provider's arguments, whichever of YAML's or JSON's types a
// value arrived as, and remembers which keys were read so that the rest
// can be reported rather than dropped.
type args struct {
	m    map[string]any
	read map[string]bool
	errs []string
}

func newArgs(m map[string]any) *args { return &args{m: m, read: map[string]bool{}} }

func (a *args) has(key string) bool {
	v, ok := a.m[key]
	return ok && v != nil
}

func (a *args) raw(key string) any {
	a.read[key] = true
	return a.m[key]
}

// ignore marks keys that need no translation (an Istio API version).
func (a *args) ignore(keys ...string) {
	for _, k := range keys {
		a.read[k] = true
	}
}

func (a *args) str(key string) string {
	switch v := a.raw(key).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (a *args) boolean(key string) bool {
	switch v := a.raw(key).(type) {
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			a.errs = append(a.errs, fmt.Sprintf("%s: %q is not true or false", key, v))
		}
		return b
	case nil:
		return false
	}
	a.errs = append(a.errs, fmt.Sprintf("%s: %v is not true or false", key, a.m[key]))
	return false
}

// number returns the value and whether it was given.
func (a *args) number(key string) (float64, bool) {
	f, ok := toFloat(a.raw(key))
	if !ok && a.has(key) {
		a.errs = append(a.errs, fmt.Sprintf("%s: %v is not a number", key, a.m[key]))
	}
	return f, ok
}

func (a *args) integer(key string) (int, bool) {
	f, ok := a.number(key)
	if ok && f != math.Trunc(f) {
		a.errs = append(a.errs, fmt.Sprintf("%s: %v is not a whole number", key, f))
		return 0, false
	}
	return int(f), ok
}

// seconds reads a number of seconds, as Chaos Toolkit's timeouts and pauses are.
func (a *args) seconds(key string) (time.Duration, bool) {
	f, ok := a.number(key)
	return secondsToDuration(f), ok
}

// unread lists the keys given but never read, sorted.
func (a *args) unread() []string {
	var out []string
	for k, v := range a.m {
		if !a.read[k] && v != nil {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil
	}
	return 0, false
}

func secondsToDuration(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}
