// Command gen writes docs/configuration.md; run it with
// `go generate ./internal/configdoc`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/chaosd/chaosd/internal/configdoc"
)

func main() {
	root := flag.String("root", "../..", "repository root")
	out := flag.String("out", "../../docs/configuration.md", "file to write")
	flag.Parse()
	var buf bytes.Buffer
	if err := configdoc.Generate(&buf, *root); err != nil {
		fmt.Fprintln(os.Stderr, "generate configuration reference:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "generate configuration reference:", err)
		os.Exit(1)
	}
}
