// Command image builds chaosd's container image without a container engine,
// with go-containerregistry: an empty base, one layer holding the static
// binary, /etc/passwd and /etc/group for the nonroot user 65532, the CA
// bundle and /tmp, and an OCI config that runs /chaosd as 65532:65532. It
// writes an OCI image layout (and optionally a docker-archive tarball for
// `podman load`) and prints the image's digest.
//
// The output depends only on its inputs: every timestamp is
// SOURCE_DATE_EPOCH, the tar has no user names, and the CA bundle comes from
// a Go module pinned by go.sum. Two builds of one commit have one digest.
//
//	go run ./hack/image --binary bin/chaosd-static --layout bin/image \
//	  --version v0.1.0 --revision $(git rev-parse HEAD)
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// options are the inputs of one build; nothing else reaches the image.
type options struct {
	binary     string // the static chaosd, copied to /chaosd
	layoutDir  string // OCI image layout written here (replaced)
	tarball    string // optional docker-archive, for `podman load`
	repository string // image name, e.g. ghcr.io/chaosd/chaosd
	version    string // tag and org.opencontainers.image.version
	revision   string // org.opencontainers.image.revision
	source     string // org.opencontainers.image.source
	licenses   string // org.opencontainers.image.licenses (SPDX)
	arch       string // GOARCH of the binary
	epoch      time.Time
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
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.StringVar(&o.binary, "binary", "bin/chaosd-static", "static chaosd binary (CGO_ENABLED=0)")
	fs.StringVar(&o.layoutDir, "layout", "bin/image", "OCI image layout directory to write (replaced)")
	fs.StringVar(&o.tarball, "tarball", "", "also write a docker-archive tarball here (for podman load)")
	fs.StringVar(&o.repository, "repository", "ghcr.io/chaosd/chaosd", "image repository")
	fs.StringVar(&o.version, "version", "", "image tag and version label (required)")
	fs.StringVar(&o.revision, "revision", "", "full commit hash for the revision label (required)")
	fs.StringVar(&o.source, "source", "https://github.com/chaosd/chaosd", "source repository URL")
	fs.StringVar(&o.licenses, "licenses", "NOASSERTION", "SPDX license expression")
	fs.StringVar(&o.arch, "arch", "amd64", "GOARCH the binary was built for")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.version == "" || o.revision == "" {
		return o, errors.New("--version and --revision are required")
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

// build writes the layout (and the tarball) and returns the image digest.
func build(o options) (v1.Hash, error) {
	img, err := image(o)
	if err != nil {
		return v1.Hash{}, err
	}
	ref, err := name.NewTag(o.repository + ":" + o.version)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image reference: %w", err)
	}
	if err := os.RemoveAll(o.layoutDir); err != nil {
		return v1.Hash{}, fmt.Errorf("remove old layout: %w", err)
	}
	p, err := layout.Write(o.layoutDir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write layout %s: %w", o.layoutDir, err)
	}
	// The ref.name annotation lets `podman pull oci:DIR:TAG` find the image.
	err = p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": o.version,
	}))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write image to %s: %w", o.layoutDir, err)
	}
	if o.tarball != "" {
		if err := tarball.WriteToFile(o.tarball, ref, img); err != nil {
			return v1.Hash{}, fmt.Errorf("write tarball %s: %w", o.tarball, err)
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image digest: %w", err)
	}
	return digest, nil
}

// image assembles the OCI image in memory.
func image(o options) (v1.Image, error) {
	bin, err := os.ReadFile(o.binary)
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
	cf.Architecture = o.arch
	cf.Author = ""
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
