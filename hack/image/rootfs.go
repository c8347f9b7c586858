package main

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"fmt"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// nonroot is the user the image runs as: 65532, distroless's "nonroot", which
// the chart's securityContext also names.
const nonroot = 65532

// entry is one file or directory of the image's only layer.
type entry struct {
	name string // without a leading slash
	mode int64
	uid  int
	body []byte // nil for a directory
}

// rootfs lists everything in the image besides the binary: the users the
// image runs as (so a name and a home exist for uid 65532), the CA bundle,
// and /tmp. No shell, no package manager, no libc.
func rootfs() ([]entry, error) {
	certs, err := caBundle()
	if err != nil {
		return nil, err
	}
	return []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, body: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "etc/passwd", mode: 0o644, body: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\n" +
				"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: certs},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: nonroot},
		{name: "tmp/", mode: 0o1777},
	}, nil
}

// caBundle is the Mozilla NSS root store as Go's x509roots/fallback module
// ships it, pinned by go.sum: the image's certificates then depend on the
// commit, not on the build machine's ca-certificates package. Roots that NSS
// trusts only with extra constraints (such as a distrust-after date) are left
// out: a PEM file cannot carry the constraint, so it would trust them fully.
func caBundle() ([]byte, error) {
	var b bytes.Buffer
	n := 0
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, fmt.Errorf("encode CA certificate: %w", err)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("the x509roots bundle holds no unconstrained root")
	}
	return b.Bytes(), nil
}

// writeTar writes the entries in order with one fixed timestamp and no
// user or group names, so the same inputs give the same bytes.
func writeTar(entries []entry, mtime time.Time) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.uid,
			ModTime: mtime,
		}
		if e.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("tar body %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	return b.Bytes(), nil
}
