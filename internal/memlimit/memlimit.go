// Package memlimit sets the Go runtime's soft memory limit (GOMEMLIMIT)
// from the container's memory limit. The Helm chart passes the limit through
// the downward API (CHAOSD_MEMORY_LIMIT, in bytes, from resourceFieldRef
// limits.memory) with a ratio (CHAOSD_MEMORY_LIMIT_RATIO), because a
// resourceFieldRef cannot scale a value. It owns this one decision and never
// reads cgroups: the downward API says what the chart set, on any cgroup
// version, and tests can give it any value.
package memlimit

import (
	"fmt"
	"math"
	"strconv"
)

// Env names.
const (
	EnvLimit = "CHAOSD_MEMORY_LIMIT"
	EnvRatio = "CHAOSD_MEMORY_LIMIT_RATIO"
	// EnvGo is the runtime's own setting; when present it wins.
	EnvGo = "GOMEMLIMIT"
)

// DefaultRatio leaves 40% of the container's limit outside the Go heap:
// chaosd's executable maps 40-50 MiB of file-backed pages (docs/benchmarks.md)
// that count against the container's limit but not against GOMEMLIMIT. The
// 0.9 common elsewhere assumes a small binary.
const DefaultRatio = 0.6

// Decision is what Compute chose and why, for the start-up log.
type Decision struct {
	// Limit in bytes to give debug.SetMemoryLimit; 0 leaves the runtime's.
	Limit int64
	// Source: "GOMEMLIMIT", "CHAOSD_MEMORY_LIMIT" or "" (no limit).
	Source string
	// ContainerLimit and Ratio are the inputs when Source is CHAOSD_MEMORY_LIMIT.
	ContainerLimit int64
	Ratio          float64
}

// Compute decides the soft memory limit from the environment. An explicit
// GOMEMLIMIT is left to the runtime, which has already applied it.
func Compute(getenv func(string) string) (Decision, error) {
	if getenv(EnvGo) != "" {
		return Decision{Source: EnvGo}, nil
	}
	raw := getenv(EnvLimit)
	if raw == "" {
		return Decision{}, nil
	}
	limit, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || limit <= 0 {
		return Decision{}, fmt.Errorf("%s=%q: want the container's memory limit in bytes (resourceFieldRef limits.memory, divisor 1)", EnvLimit, raw)
	}
	ratio := DefaultRatio
	if r := getenv(EnvRatio); r != "" {
		ratio, err = strconv.ParseFloat(r, 64)
		if err != nil || math.IsNaN(ratio) || ratio <= 0 || ratio > 1 {
			return Decision{}, fmt.Errorf("%s=%q: want a number in (0, 1]", EnvRatio, r)
		}
	}
	return Decision{
		Limit:          int64(float64(limit) * ratio),
		Source:         EnvLimit,
		ContainerLimit: limit,
		Ratio:          ratio,
	}, nil
}
