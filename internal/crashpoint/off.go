//go:build !chaosdcrash

package crashpoint

// Enabled reports whether this build can crash at a point (-tags chaosdcrash).
const Enabled = false

// Hit does nothing in a release build.
func Hit(string) {}
