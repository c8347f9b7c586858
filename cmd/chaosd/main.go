// Command chaosd is a chaos-engineering daemon for Kubernetes. main only
// parses, wires and turns the outcome into an exit code; everything else
// lives in internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	// The image has no /usr/share/zoneinfo: embed the time zone database so
	// the config's timezone (e.g. Europe/Berlin) loads in any image (+450 KB).
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitError carries a specific exit code (chaosd once: 1 weakness, 2 error).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "chaosd:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "chaosd:", err)
	return 1
}
