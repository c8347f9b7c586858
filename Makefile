# chaosd — see README.md. `make demo` runs the playground, `make test` runs every test.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.1.0-dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit time: the image's only timestamp, so two builds of a commit match.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# What the release publishes and the chart's values.yaml names.
IMAGE_REPO ?= ghcr.io/chaosd/chaosd
RELEASE_ARCHS ?= amd64 arm64
# The workflow linter, built from the Go module proxy on first use (cached).
ACTIONLINT ?= $(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
LDFLAGS   := -s -w -X github.com/chaosd/chaosd/internal/version.Version=$(VERSION) -X github.com/chaosd/chaosd/internal/version.Commit=$(COMMIT)
E2E_TIMEOUT ?= 60m
# One build configuration for everything but the race detector (which needs
# cgo): vet, both binaries, the crash-point binary and the e2e test binaries
# share one compile of every dependency, which a cold run compiled three
# times before (docs/benchmarks.md, "Cold CI").
# No DWARF from the compiler either: the binaries are stripped (-s -w), and
# it saves about an eighth of every cold compile (docs/benchmarks.md).
export CGO_ENABLED := 0
export GOFLAGS := $(strip $(filter-out -trimpath -gcflags=all=-dwarf=false,$(GOFLAGS)) -trimpath -gcflags=all=-dwarf=false)
SHELL     := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all build build-static image image-release unit lint validate-configs deps e2e e2e-tests test demo cluster-up fuzz bench clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/chaosd ./cmd/chaosd

# The image's binary: static, no cgo, no build paths.
build-static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/chaosd-static ./cmd/chaosd

# The container image, built without a container engine (hack/image, with
# go-containerregistry): an OCI layout in bin/image and a docker-archive in
# bin/image.tar (`podman load -i bin/image.tar`). Prints the image digest;
# two builds of one clean commit print the same one. This is the canonical
# image build; the release workflow pushes the same build (make image-release).
image: build-static
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./hack/image --binary bin/chaosd-static \
	  --layout bin/image --tarball bin/image.tar --repository $(IMAGE_REPO) --version $(VERSION) \
	  --revision $(REVISION) --arch $$($(GO) env GOARCH)

# The release image (.github/workflows/release.yml): `make image` for each of
# RELEASE_ARCHS, as one OCI index in bin/image-release; with PUSH=1 pushed to
# $(IMAGE_REPO):$(VERSION). The last line printed is the index digest.
image-release:
	for a in $(RELEASE_ARCHS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/release/linux-$$a/chaosd ./cmd/chaosd || exit 1; \
	done
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./hack/image \
	  --binary $$(for a in $(RELEASE_ARCHS); do printf '%s=bin/release/linux-%s/chaosd,' $$a $$a; done | sed 's/,$$//') \
	  --layout bin/image-release --repository $(IMAGE_REPO) --version $(VERSION) --revision $(REVISION) \
	  $(if $(PUSH),--push $(IMAGE_REPO):$(VERSION))

lint:
	@test -z "$$(gofmt -l cmd internal test hack)" || (echo "gofmt needed:"; gofmt -l cmd internal test hack; exit 1)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/...
	$(ACTIONLINT)

validate-configs: build
	./bin/chaosd validate config/*.yaml

unit:
	CGO_ENABLED=1 $(GO) test -race ./...

# Prometheus, Alertmanager, Chromium and the control-plane binaries (cached).
deps:
	hack/deps.sh

# bin/chaosd-crash is chaosd with the test-only crash points compiled in
# (-tags chaosdcrash), for TestExperimentsCrashPoints; never ship it.
# test/e2e runs in E2E_SHARDS concurrent processes (hack/e2e-shards.sh: its
# tests mostly wait; docs/benchmarks.md, "CI time", has what 1, 2 and 3 cost); the other
# e2e packages (E2E_PACKAGES) run one at a time beside the shards.
E2E_SHARDS ?= 3
E2E_ENV = CHAOSD_BIN=$(CURDIR)/bin/chaosd CHAOSD_CRASH_BIN=$(CURDIR)/bin/chaosd-crash CHAOSD_IMAGE_TAR=$(CURDIR)/bin/image.tar
e2e: deps build image
	$(MAKE) --no-print-directory e2e-tests

# e2e without its prerequisites, for make test, which has built them.
e2e-tests:
	$(GO) build -tags chaosdcrash -o bin/chaosd-crash ./cmd/chaosd
	$(E2E_ENV) E2E_SHARDS=$(E2E_SHARDS) E2E_TIMEOUT=$(E2E_TIMEOUT) \
	  E2E_PACKAGES="$$($(GO) list -tags e2e ./test/... | grep -v '/test/e2e$$' | tr '\n' ' ')" hack/e2e-shards.sh

# The README's test command: everything CI runs. The binaries, the build and
# the image first; then the e2e tests beside lint and the unit tests
# (hack/test-stages.sh: the e2e stage mostly waits, the other two fill the
# idle CPU at nice 10).
test: deps validate-configs image
	hack/test-stages.sh

# The README's playground command: a local control plane with kwok nodes, the
# demo workload, Prometheus and Alertmanager, and chaosd running config/demo.yaml.
# Built, not `go run`, so Ctrl-C and SIGTERM reach it and chaosd reverts before the cluster stops.
demo: build
	hack/deps.sh --playground
	$(GO) build -o bin/chaosd-cluster ./test/cluster/cmd/chaosd-cluster
	bin/chaosd-cluster demo --traffic --chaosd $(CURDIR)/bin/chaosd --config config/demo.yaml

cluster-up: deps
	$(GO) build -o bin/chaosd-cluster ./test/cluster/cmd/chaosd-cluster
	bin/chaosd-cluster up

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./internal/config

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

clean:
	rm -rf bin test/e2e.log test/e2e-shard*.log test/e2e-packages.log
