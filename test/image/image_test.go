package image

import (
	"archive/tar"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const (
	version  = "v9.9.9-test"
	revision = "0123456789abcdef0123456789abcdef01234567"
	// epoch is an arbitrary commit time; every timestamp in the image is it.
	epoch = int64(1700000000)
)

// fakeBinary stands in for chaosd: the test reads the image, it never runs
// it, so any bytes do (and building the real binary would cost minutes).
var fakeBinary = []byte("\x7fELF not really chaosd\n")

// buildTool compiles hack/image once per test binary run.
func buildTool(t *testing.T) string {
	t.Helper()
	tool := filepath.Join(t.TempDir(), "image")
	cmd := exec.Command("go", "build", "-o", tool, "./hack/image")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./hack/image: %v\n%s", err, out)
	}
	return tool
}

// toolAndBinary builds hack/image and writes the stand-in binary.
func toolAndBinary(t *testing.T) (string, string) {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "chaosd")
	if err := os.WriteFile(binary, fakeBinary, 0o755); err != nil {
		t.Fatal(err)
	}
	return buildTool(t), binary
}

// build runs the tool as `make image` does and returns the printed digest
// and the directory holding layout/ and image.tar.
func build(t *testing.T, tool, binary string, epoch int64) (string, string) {
	t.Helper()
	dir := t.TempDir()
	return runTool(t, tool, epoch, "--binary", binary, "--layout", filepath.Join(dir, "layout"),
		"--tarball", filepath.Join(dir, "image.tar"), "--arch", "amd64"), dir
}

// runTool runs hack/image with the test's version, revision and epoch.
func runTool(t *testing.T, tool string, epoch int64, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool, append(args, "--version", version, "--revision", revision)...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch, 10))
	stdout, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("hack/image: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("hack/image: %v", err)
	}
	return strings.TrimSpace(string(stdout))
}

// layoutEntry returns the one entry of an OCI layout's index.json (an
// image, or the multi-arch index), checking its ref.name annotation.
func layoutEntry(t *testing.T, dir string) (v1.ImageIndex, v1.Descriptor) {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("read layout: %v", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("layout holds %d manifests, want 1", len(m.Manifests))
	}
	if got := m.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != version {
		t.Errorf("ref.name annotation = %q, want %q", got, version)
	}
	return idx, m.Manifests[0]
}

// readLayout returns the only image of an OCI layout.
func readLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, d := layoutEntry(t, dir)
	img, err := idx.Image(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImageDigestIsReproducible(t *testing.T) {
	tool, binary := toolAndBinary(t)
	first, dir1 := build(t, tool, binary, epoch)
	second, dir2 := build(t, tool, binary, epoch)
	if first != second {
		t.Errorf("two builds of the same inputs printed %s and %s", first, second)
	}
	for _, dir := range []string{dir1, dir2} {
		d, err := readLayout(t, filepath.Join(dir, "layout")).Digest()
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != first {
			t.Errorf("layout in %s holds %s, the tool printed %s", dir, d, first)
		}
	}
	// The docker-archive for `podman load` holds the same image: its
	// manifest is rebuilt on load, so the config digest (the image ID
	// podman shows) is what must match.
	fromTar, err := tarball.ImageFromPath(filepath.Join(dir1, "image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantID, err := readLayout(t, filepath.Join(dir1, "layout")).ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if id, err := fromTar.ConfigName(); err != nil || id != wantID {
		t.Errorf("tarball image ID = %v (%v), want the layout's %s", id, err, wantID)
	}
	// The timestamp really is an input: another commit time, another digest.
	if other, _ := build(t, tool, binary, epoch+1); other == first {
		t.Errorf("SOURCE_DATE_EPOCH %d and %d gave the same digest %s", epoch, epoch+1, first)
	}
}

func TestImageConfig(t *testing.T) {
	tool, binary := toolAndBinary(t)
	_, dir := build(t, tool, binary, epoch)
	cf, err := readLayout(t, filepath.Join(dir, "layout")).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	created := time.Unix(epoch, 0).UTC()
	if cf.Config.User != "65532:65532" {
		t.Errorf("user = %q, want 65532:65532", cf.Config.User)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/chaosd"}) {
		t.Errorf("entrypoint = %q, want [/chaosd]", cf.Config.Entrypoint)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("created = %s, want %s", cf.Created.Time, created)
	}
	if len(cf.History) == 0 {
		t.Error("no history")
	}
	for i, h := range cf.History {
		if !h.Created.Time.Equal(created) {
			t.Errorf("history[%d] created %s, want %s", i, h.Created.Time, created)
		}
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/chaosd/chaosd",
		"org.opencontainers.image.revision": revision,
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.created":  "2023-11-14T22:13:20Z",
		"org.opencontainers.image.licenses": "NOASSERTION",
		"org.opencontainers.image.title":    "chaosd",
	}
	for k, want := range wantLabels {
		if got := cf.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
}

func TestImageFiles(t *testing.T) {
	tool, binary := toolAndBinary(t)
	_, dir := build(t, tool, binary, epoch)
	img := readLayout(t, filepath.Join(dir, "layout"))
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Errorf("%d layers, want 1 (an empty base plus chaosd's files)", len(layers))
	}
	files := extract(t, layers[0])
	for _, name := range []string{"chaosd", "etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt", "home/nonroot/", "tmp/"} {
		if _, ok := files[name]; !ok {
			t.Fatalf("the image has no %s", name)
		}
	}

	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{
		"chaosd", "etc/", "etc/group", "etc/passwd", "etc/ssl/", "etc/ssl/certs/",
		"etc/ssl/certs/ca-certificates.crt", "home/", "home/nonroot/", "tmp/",
	}
	// The exact list is the check that there is no shell, no bin/ and
	// nothing else a build could drag in.
	if !slices.Equal(names, want) {
		t.Errorf("image files = %q\nwant %q", names, want)
	}
	if _, ok := files["bin/sh"]; ok {
		t.Error("the image has /bin/sh")
	}
	if f := files["chaosd"]; string(f.body) != string(fakeBinary) || f.hdr.Mode != 0o755 || f.hdr.Uid != 0 {
		t.Errorf("/chaosd: mode %o uid %d, %d bytes; want the binary, 0755, owned by root", f.hdr.Mode, f.hdr.Uid, len(f.body))
	}
	if !strings.Contains(string(files["etc/passwd"].body), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot 65532:\n%s", files["etc/passwd"].body)
	}
	if !strings.Contains(string(files["etc/group"].body), "nonroot:x:65532:") {
		t.Errorf("/etc/group has no nonroot 65532:\n%s", files["etc/group"].body)
	}
	if f := files["home/nonroot/"]; f.hdr.Uid != 65532 || f.hdr.Gid != 65532 {
		t.Errorf("/home/nonroot owned by %d:%d, want 65532:65532", f.hdr.Uid, f.hdr.Gid)
	}
	if f := files["tmp/"]; f.hdr.Mode != 0o1777 {
		t.Errorf("/tmp mode %o, want 1777", f.hdr.Mode)
	}
	if n := countCerts(t, files["etc/ssl/certs/ca-certificates.crt"].body); n < 100 {
		t.Errorf("CA bundle holds %d certificates, want the Mozilla roots (over 100)", n)
	}
	for name, f := range files {
		if !f.hdr.ModTime.Equal(time.Unix(epoch, 0)) {
			t.Errorf("%s: mtime %s, want SOURCE_DATE_EPOCH", name, f.hdr.ModTime)
		}
		if f.hdr.Uname != "" || f.hdr.Gname != "" {
			t.Errorf("%s: owner names %q/%q leak the build machine", name, f.hdr.Uname, f.hdr.Gname)
		}
	}
}

type file struct {
	hdr  *tar.Header
	body []byte
}

// extract reads a layer's tar as written, names and headers unchanged.
func extract(t *testing.T, layer v1.Layer) map[string]file {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("read layer: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = file{hdr: h, body: body}
	}
}

func countCerts(t *testing.T, pemBytes []byte) int {
	t.Helper()
	n := 0
	for rest := pemBytes; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return n
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Errorf("certificate %d: %v", n, err)
		}
		n++
	}
}

// TestImageMultiArchIndex builds what the release pushes: one image per
// architecture in an OCI index, each with its own binary and platform.
func TestImageMultiArchIndex(t *testing.T) {
	tool := buildTool(t)
	dir := t.TempDir()
	bins := map[string][]byte{"amd64": []byte("amd64 chaosd"), "arm64": []byte("arm64 chaosd")}
	var pairs []string
	for _, arch := range []string{"amd64", "arm64"} {
		p := filepath.Join(dir, arch)
		if err := os.WriteFile(p, bins[arch], 0o755); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, arch+"="+p)
	}
	buildIndex := func() (string, string) {
		out := filepath.Join(t.TempDir(), "layout")
		return runTool(t, tool, epoch, "--binary", strings.Join(pairs, ","), "--layout", out), out
	}
	first, dir1 := buildIndex()
	if second, _ := buildIndex(); second != first {
		t.Errorf("two builds printed %s and %s", first, second)
	}
	outer, d := layoutEntry(t, dir1)
	if d.Digest.String() != first {
		t.Fatalf("layout lists %s, want the index %s the tool printed", d.Digest, first)
	}
	idx, err := outer.ImageIndex(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != len(bins) {
		t.Fatalf("index has %d manifests, want %d", len(m.Manifests), len(bins))
	}
	for _, d := range m.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" || bins[d.Platform.Architecture] == nil {
			t.Fatalf("manifest %s: platform %+v", d.Digest, d.Platform)
		}
		arch := d.Platform.Architecture
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != arch || cf.Config.User != "65532:65532" {
			t.Errorf("%s image: architecture %q user %q", arch, cf.Architecture, cf.Config.User)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("%s image: %d layers (%v)", arch, len(layers), err)
		}
		if got := extract(t, layers[0])["chaosd"].body; string(got) != string(bins[arch]) {
			t.Errorf("%s image holds binary %q, want %q", arch, got, bins[arch])
		}
	}
}
