// Package version holds build information stamped in with -ldflags, so the
// binary, chaosd_build_info and the Helm chart's appVersion agree.
package version

import "runtime"

// Set with -ldflags "-X github.com/chaosd/chaosd/internal/version.Version=v0.1.0 ...".
var (
	Version = "v0.1.0-dev"
	Commit  = "unknown"
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
}

// Get returns the build information of this binary.
func Get() Info {
	return Info{Version: Version, Commit: Commit, GoVersion: runtime.Version()}
}
