package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTailFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := tailFile(path, 2); got != "line 98\nline 99" {
		t.Errorf("tailFile() = %q", got)
	}
	if got := tailFile(filepath.Join(t.TempDir(), "missing"), 2); !strings.Contains(got, "cannot read") {
		t.Errorf("tailFile(missing) = %q", got)
	}
}

func TestArtifactsDirFor(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(root, "test", "e2e")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "env wins", env: map[string]string{"CHAOSD_E2E_ARTIFACTS": "/art"}, want: "/art/TestX_sub_case"},
		{name: "module root", want: filepath.Join(root, "test", "artifacts", "TestX_sub_case")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := artifactsDirFor("TestX/sub case", envMap(tt.env), pkg); got != tt.want {
				t.Errorf("artifactsDirFor() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCopyLogs(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(filepath.Join(src, "etcd.log"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := copyLogs(src, dst); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "etcd.log")); err != nil || string(got) != "hello" {
		t.Errorf("copied log = %q, %v", got, err)
	}
}
