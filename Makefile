# chaosd — see README.md. `make demo` runs the playground, `make test` runs every test.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.1.0-dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X github.com/chaosd/chaosd/internal/version.Version=$(VERSION) -X github.com/chaosd/chaosd/internal/version.Commit=$(COMMIT)
E2E_TIMEOUT ?= 60m
SHELL     := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all build build-static unit lint validate-configs deps e2e test demo cluster-up fuzz bench clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/chaosd ./cmd/chaosd

# The image's binary: static, no cgo (the Dockerfile builds the same way).
build-static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/chaosd-static ./cmd/chaosd

lint:
	@test -z "$$(gofmt -l cmd internal test hack)" || (echo "gofmt needed:"; gofmt -l cmd internal test hack; exit 1)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/...

validate-configs: build
	./bin/chaosd validate config/*.yaml

unit:
	$(GO) test -race ./...

# Prometheus, Alertmanager, Chromium and the control-plane binaries (cached).
deps:
	hack/deps.sh

# bin/chaosd-crash is chaosd with the test-only crash points compiled in
# (-tags chaosdcrash), for TestExperimentsCrashPoints; never ship it.
e2e: deps build
	$(GO) build -tags chaosdcrash -o bin/chaosd-crash ./cmd/chaosd
	CHAOSD_BIN=$(CURDIR)/bin/chaosd CHAOSD_CRASH_BIN=$(CURDIR)/bin/chaosd-crash $(GO) test -tags e2e -count=1 -p 1 -timeout $(E2E_TIMEOUT) -v ./test/... 2>&1 | tee test/e2e.log

# The README's test command: everything CI runs.
test: deps lint unit validate-configs build-static e2e

# The README's playground command: a local control plane with kwok nodes, the
# demo workload, Prometheus and Alertmanager, and chaosd running config/demo.yaml.
# Built, not `go run`, so Ctrl-C and SIGTERM reach it and chaosd reverts before the cluster stops.
demo: deps build
	$(GO) build -o bin/chaosd-cluster ./test/cluster/cmd/chaosd-cluster
	bin/chaosd-cluster demo --chaosd $(CURDIR)/bin/chaosd --config config/demo.yaml

cluster-up: deps
	$(GO) build -o bin/chaosd-cluster ./test/cluster/cmd/chaosd-cluster
	bin/chaosd-cluster up

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./internal/config

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

clean:
	rm -rf bin test/e2e.log
