package cluster

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// tailFile returns the last n lines of path, or a note why it cannot.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	// Component logs can be large; the last 64 KiB hold the lines we want.
	const window = 64 << 10
	if info, err := f.Stat(); err == nil && info.Size() > window {
		_, _ = f.Seek(-window, io.SeekEnd)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// copyLogs copies every file of src (not recursive) into dst, replacing dst.
func copyLogs(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read log dir: %w", err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("clear %s: %w", dst, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

var unsafeNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// artifactsDirFor is where a failed test's logs go:
// $CHAOSD_E2E_ARTIFACTS/<test>, else <module root>/test/artifacts/<test>
// (gitignored), else <tmp>/chaosd-e2e-artifacts/<test>.
func artifactsDirFor(testName string, getenv func(string) string, cwd string) string {
	name := strings.Trim(unsafeNameChars.ReplaceAllString(testName, "_"), "_")
	if base := getenv("CHAOSD_E2E_ARTIFACTS"); base != "" {
		return filepath.Join(base, name)
	}
	if root, ok := moduleRoot(cwd); ok {
		return filepath.Join(root, "test", "artifacts", name)
	}
	return filepath.Join(os.TempDir(), "chaosd-e2e-artifacts", name)
}

// moduleRoot walks up from dir to the directory holding go.mod. go test runs
// in the package directory, so this finds the repository from any package.
func moduleRoot(dir string) (string, bool) {
	for dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", false
}
