package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ownerFile records which process owns a working directory.
const ownerFile = "owner.pid"

// writeOwner marks dir as owned by this process.
func writeOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// sweepStaleDirs removes working directories under tmp whose owner process
// is gone. Cleanup cannot run when a test binary is killed (SIGKILL, or the
// -timeout panic); its children die through Pdeathsig, and the next cluster
// removes the files they left. Directories of live or unknown owners stay.
func sweepStaleDirs(tmp string) {
	matches, _ := filepath.Glob(filepath.Join(tmp, dirPattern+"*"))
	for _, dir := range matches {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

// dirPattern prefixes every working directory (os.MkdirTemp pattern).
const dirPattern = "chaosd-e2e-"
