// Command image builds chaosd's container image without a container engine,
// with go-containerregistry: an empty base, one layer holding the static
// binary, /etc/passwd and /etc/group for the nonroot user 65532, the CA
// bundle and /tmp, and an OCI config that runs /chaosd as 65532:65532. It
// writes an OCI image layout (and optionally a docker-archive tarball for
// `podman load`) and prints the image's digest. Given binaries for several
// architectures it writes an image index instead, and the release pushes it
// (--push) so that what is published is what `make image` builds.
//
// The output depends only on its inputs: every timestamp is
// SOURCE_DATE_EPOCH, the tar has no user names, and the CA bundle comes from
// a Go module pinned by go.sum. Two builds of one commit have one digest.
//
//	go run ./hack/image --binary bin/chaosd-static --layout bin/image \
//	  --version v0.1.0 --revision $(git rev-parse HEAD)
//	go run ./hack/image --binary amd64=bin/a/chaosd,arm64=bin/b/chaosd \
//	  --layout bin/image-release --push ghcr.io/chaosd/chaosd:v0.1.0 ...
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// options are the inputs of one build; nothing else reaches the image.
type options struct {
	binaries   []platformBinary
	layoutDir  string // OCI image layout written here (replaced)
	tarball    string // optional docker-archive, for `podman load` (one platform only)
	push       string // optional reference to push the image or index to
	repository string // image name, e.g. ghcr.io/chaosd/chaosd
	version    string // tag and org.opencontainers.image.version
	revision   string // org.opencontainers.image.revision
	source     string // org.opencontainers.image.source
	licenses   string // org.opencontainers.image.licenses (SPDX)
	epoch      time.Time
}

// platformBinary is a static chaosd for one linux architecture.
type platformBinary struct {
	arch string // GOARCH
	path string
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Getenv)
	if err == nil {
		var digest v1.Hash
		digest, err = build(o)
		if err == nil {
			fmt.Println(digest)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	var binary, arch string
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.StringVar(&binary, "binary", "bin/chaosd-static", "static chaosd binary (CGO_ENABLED=0), or ARCH=PATH,... for a multi-arch index")
	fs.StringVar(&arch, "arch", "amd64", "GOARCH of a single --binary")
	fs.StringVar(&o.layoutDir, "layout", "bin/image", "OCI image layout directory to write (replaced)")
	fs.StringVar(&o.tarball, "tarball", "", "also write a docker-archive tarball here (for podman load; one platform only)")
	fs.StringVar(&o.push, "push", "", "push the image (or index) to this reference, with the docker config's credentials")
	fs.StringVar(&o.repository, "repository", "ghcr.io/chaosd/chaosd", "image repository")
	fs.StringVar(&o.version, "version", "", "image tag and version label (required)")
	fs.StringVar(&o.revision, "revision", "", "full commit hash for the revision label (required)")
	fs.StringVar(&o.source, "source", "https://github.com/chaosd/chaosd", "source repository URL")
	fs.StringVar(&o.licenses, "licenses", "NOASSERTION", "SPDX license expression")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.version == "" || o.revision == "" {
		return o, errors.New("--version and --revision are required")
	}
	if !strings.Contains(binary, "=") {
		o.binaries = []platformBinary{{arch: arch, path: binary}}
	} else {
		for pair := range strings.SplitSeq(binary, ",") {
			a, p, ok := strings.Cut(pair, "=")
			if !ok || a == "" || p == "" {
				return o, fmt.Errorf("--binary %q: want PATH or ARCH=PATH,ARCH=PATH", binary)
			}
			o.binaries = append(o.binaries, platformBinary{arch: a, path: p})
		}
	}
	if o.tarball != "" && len(o.binaries) != 1 {
		return o, errors.New("--tarball holds one platform; give one --binary")
	}
	// The timestamp is an input like any other: no default from the clock,
	// or two builds of one commit would differ.
	sde := getenv("SOURCE_DATE_EPOCH")
	secs, err := strconv.ParseInt(sde, 10, 64)
	if err != nil {
		return o, fmt.Errorf("SOURCE_DATE_EPOCH=%q must be the commit time in Unix seconds (git log -1 --format=%%ct): %w", sde, err)
	}
	o.epoch = time.Unix(secs, 0).UTC()
	return o, nil
}

// build writes the layout (and the tarball, and pushes) and returns the
// digest of the image, or of the index when there are several platforms.
func build(o options) (v1.Hash, error) {
	var images []v1.Image
	for _, b := range o.binaries {
		img, err := image(o, b)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("%s: %w", b.arch, err)
		}
		images = append(images, img)
	}
	if err := os.RemoveAll(o.layoutDir); err != nil {
		return v1.Hash{}, fmt.Errorf("remove old layout: %w", err)
	}
	p, err := layout.Write(o.layoutDir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write layout %s: %w", o.layoutDir, err)
	}
	// The ref.name annotation lets `podman pull oci:DIR:TAG` find the image.
	refName := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": o.version})
	var (
		digest v1.Hash
		push   func(name.Reference) error
	)
	if len(images) == 1 {
		img := images[0]
		if err := p.AppendImage(img, refName); err != nil {
			return v1.Hash{}, fmt.Errorf("write image to %s: %w", o.layoutDir, err)
		}
		if digest, err = img.Digest(); err != nil {
			return v1.Hash{}, fmt.Errorf("image digest: %w", err)
		}
		push = func(ref name.Reference) error {
			return remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain))
		}
	} else {
		idx := index(images, o.binaries)
		if err := p.AppendIndex(idx, refName); err != nil {
			return v1.Hash{}, fmt.Errorf("write index to %s: %w", o.layoutDir, err)
		}
		if digest, err = idx.Digest(); err != nil {
			return v1.Hash{}, fmt.Errorf("index digest: %w", err)
		}
		push = func(ref name.Reference) error {
			return remote.WriteIndex(ref, idx, remote.WithAuthFromKeychain(authn.DefaultKeychain))
		}
	}
	if o.tarball != "" {
		ref, err := name.NewTag(o.repository + ":" + o.version)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("image reference: %w", err)
		}
		if err := tarball.WriteToFile(o.tarball, ref, images[0]); err != nil {
			return v1.Hash{}, fmt.Errorf("write tarball %s: %w", o.tarball, err)
		}
	}
	if o.push != "" {
		ref, err := name.ParseReference(o.push)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("--push %q: %w", o.push, err)
		}
		if err := push(ref); err != nil {
			return v1.Hash{}, fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return digest, nil
}

// index is the multi-arch image index of the per-architecture images.
func index(images []v1.Image, binaries []platformBinary) v1.ImageIndex {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, img := range images {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: binaries[i].arch}},
		})
	}
	return idx
}

// image assembles the OCI image of one architecture in memory.
func image(o options, b platformBinary) (v1.Image, error) {
	bin, err := os.ReadFile(b.path)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	entries, err := rootfs()
	if err != nil {
		return nil, err
	}
	entries = append(entries, entry{name: "chaosd", mode: 0o755, body: bin})
	tarBytes, err := writeTar(entries, o.epoch)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	created := v1.Time{Time: o.epoch}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   created,
			CreatedBy: "hack/image: chaosd, /etc/passwd, /etc/group, CA bundle, /tmp",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS = "linux"
	cf.Architecture = b.arch
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Entrypoint: []string{"/chaosd"},
		Cmd:        []string{"run", "--config", "/etc/chaosd/config.yaml"},
		WorkingDir: "/",
		Env: []string{
			"PATH=/",
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels: map[string]string{
			"org.opencontainers.image.source":   o.source,
			"org.opencontainers.image.revision": o.revision,
			"org.opencontainers.image.version":  o.version,
			"org.opencontainers.image.created":  o.epoch.Format(time.RFC3339),
			"org.opencontainers.image.licenses": o.licenses,
			"org.opencontainers.image.title":    "chaosd",
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}
