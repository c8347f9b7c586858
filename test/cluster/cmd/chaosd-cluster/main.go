// Command chaosd-cluster runs the e2e harness's local cluster by hand:
//
//	chaosd-cluster up     start everything plus the demo workload, print how
//	                      to reach it, block until Ctrl-C, tear down
//	chaosd-cluster demo   the same, and run chaosd against it
//
// `make cluster-up` and `make demo` call it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run dispatches the subcommand and returns the exit code.
func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: chaosd-cluster up|demo [flags]   (-h for flags)")
		return 2
	}
	var err error
	switch args[0] {
	case "up":
		err = up(ctx, args[1:])
	case "demo":
		err = demo(ctx, args[1:])
	default:
		fmt.Fprintf(os.Stderr, "chaosd-cluster: unknown command %q (want up or demo)\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaosd-cluster: %v\n", err)
		return 1
	}
	return 0
}
