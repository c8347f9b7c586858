// Package image tests the container image that `make image` builds
// (hack/image): it builds the image from a stand-in binary, twice, and reads
// the OCI layout it wrote to check the digest's stability, the config (user,
// entrypoint, labels, timestamps) and the files in the layer. Running the
// image in a container runtime is the e2e suite's job (test/e2e/image_test.go).
package image
