// Package logging builds the one zap logger chaosd passes down: JSON when
// running in a cluster (or when asked), human-readable console output on a TTY.
package logging

import (
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
)

// Format selects the log encoding.
type Format string

const (
	FormatAuto    Format = "auto" // console on a terminal, JSON otherwise
	FormatJSON    Format = "json"
	FormatConsole Format = "console"
)

// New returns a logger writing to stderr at the given level ("debug",
// "info", "warn", "error").
func New(format Format, level string) (*zap.Logger, error) {
	return build(format, level, term.IsTerminal(int(os.Stderr.Fd())), "stderr")
}

// build makes the logger for an output that is a terminal or not: console
// output is coloured only on a terminal, so a log redirected to a file (the
// playground's, a CI artifact) carries no ANSI escape codes.
func build(format Format, level string, terminal bool, output string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	if format == FormatAuto {
		format = FormatJSON
		if terminal {
			format = FormatConsole
		}
	}
	var cfg zap.Config
	switch format {
	case FormatJSON:
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "ts"
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	case FormatConsole:
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		if terminal {
			cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
	default:
		return nil, fmt.Errorf("log format %q: must be auto, json or console", format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = lvl > zapcore.DebugLevel
	cfg.Sampling = nil // a chaos tool's log is its audit trail: never drop lines
	cfg.OutputPaths, cfg.ErrorOutputPaths = []string{output}, []string{output}
	return cfg.Build()
}
