//go:build chaosdcrash

package crashpoint

import "os"

// Enabled reports whether this build can crash at a point (-tags chaosdcrash).
const Enabled = true

// Hit kills the process with SIGKILL when name is the point CHAOSD_CRASH_AT
// names, after writing the marker line to stderr. SIGKILL rather than
// os.Exit: nothing of the process runs after it, not even another
// goroutine's revert.
func Hit(name string) {
	if name == "" || os.Getenv(EnvVar) != name {
		return
	}
	_, _ = os.Stderr.WriteString(Marker + name + "\n")
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	select {} // the kill is asynchronous: go no further meanwhile
}
