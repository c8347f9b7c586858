package main

import (
	"runtime/debug"

	"go.uber.org/zap"

	"github.com/chaosd/chaosd/internal/memlimit"
)

// applyMemoryLimit sets the Go soft memory limit the chart asks for through
// the downward API (internal/memlimit) and logs where the limit came from.
func applyMemoryLimit(log *zap.Logger, getenv func(string) string) error {
	d, err := memlimit.Compute(getenv)
	if err != nil {
		return err
	}
	switch d.Source {
	case memlimit.EnvLimit:
		debug.SetMemoryLimit(d.Limit)
		log.Info("go memory limit set from the container limit", zap.Int64("limit_bytes", d.Limit),
			zap.Int64("container_limit_bytes", d.ContainerLimit), zap.Float64("ratio", d.Ratio))
	case memlimit.EnvGo:
		// A negative input only reads the current limit.
		log.Info("go memory limit from GOMEMLIMIT", zap.Int64("limit_bytes", debug.SetMemoryLimit(-1)))
	}
	return nil
}
