#!/usr/bin/env bash
# Builds the binaries the e2e harness needs from the Go module proxy and caches them.
# Nothing is downloaded except Go modules and Debian packages; each binary is rebuilt
# only when missing, so a warm CI run spends no time here.
#
# Usage: hack/e2e-bins.sh            builds everything missing, prints the bin dir
#        CHAOSD_E2E_BIN=dir hack/e2e-bins.sh   builds into dir instead
# istiod (pilot-discovery) is cached in a directory of its own, keyed by its version
# alone, so adding or bumping it never invalidates the Kubernetes binaries' cache:
#        CHAOSD_E2E_ISTIOD=path hack/e2e-bins.sh   builds istiod to path instead
# Jaeger v2 (the OTLP receiver of the tracing tests) is cached the same way:
#        CHAOSD_E2E_JAEGER=path hack/e2e-bins.sh   builds jaeger to path instead
#        CHAOSD_DEPS_FOR=playground hack/e2e-bins.sh   only what `make demo` runs (no helm, no jaeger)
# Each step it has to build is numbered, with its cold estimate, and timed:
# wall time and CPU time (user+sys), so a cold run measures itself.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
STAGING_VERSION=${STAGING_VERSION:-0.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}
HELM_VERSION=${HELM_VERSION:-3.22.0}
# The istio.io/istio pseudo-version the module proxy serves; it brings istio.io/api
# v1.31, whose servers read the v1.32 CRDs the harness installs (see test/README.md).
ISTIO_VERSION=${ISTIO_VERSION:-v0.0.0-20260827124520-eed52ebb66ad}
# Jaeger v2, an OpenTelemetry Collector distribution: OTLP in, a query API out.
JAEGER_VERSION=${JAEGER_VERSION:-v1.75.0}

cache=${XDG_CACHE_HOME:-$HOME/.cache}/chaosd-e2e
bin=${CHAOSD_E2E_BIN:-$cache/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION/bin}
mkdir -p "$bin"
log() { echo "e2e-bins: $*" >&2; }
# Every build says how long it took, so a cold run measures itself
# (docs/benchmarks.md, "The local control plane", records one).
began=$SECONDS
FIGURE_NOTE="cold, the playground's set took 24 minutes on an idle 2-core machine; helm adds about 3"
# cpu_now: user+sys seconds of every finished child so far, from bash's
# times (run in this shell: in a $(...) subshell it would see no children).
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
cpu_now=0
read_cpu() {
  times > "$times_file"
  cpu_now=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$times_file")
}
timed() {
  local start=$SECONDS cpu
  read_cpu; cpu=$cpu_now
  "$@"
  read_cpu
  local took=$((SECONDS - start)) used=$((cpu_now - cpu))
  [ "$took" -eq 0 ] || log "$1 took $((took / 60))m$((took % 60))s wall, $((used / 60))m$((used % 60))s CPU"
}
# step NAME ESTIMATE: numbered progress for the steps that have work to do;
# ESTIMATE is the step's cold time on an idle 2-core machine.
# The steps run in two lanes at once (below), so a step's number is its
# place in the list of steps with work to do, not the order they start in.
todo=()
step() { # KEY DESCRIPTION ESTIMATE
  local i n=0
  for i in "${!todo[@]}"; do [ "${todo[$i]}" = "$1" ] && n=$((i + 1)); done
  log "[$n/${#todo[@]}] $2 (cold: about $3 on an idle 2-core machine)"
}
playground=false
[ "${CHAOSD_DEPS_FOR:-}" = playground ] && playground=true

# No DWARF: the binaries are stripped (-s -w) anyway, and a compiler that
# writes none does 13% less work (a cold kwok build: 255 CPU-s against 292;
# docs/benchmarks.md, "CI time").
nodwarf="-gcflags=all=-dwarf=false"

ldflags_k8s="-s -w \
 -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=${K8S_VERSION%%.*} \
 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z \
 -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=${K8S_VERSION%%.*} \
 -X k8s.io/client-go/pkg/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"

build_k8s() {
  local missing=()
  for c in $k8s_components; do
    [ -x "$bin/$c" ] || missing+=("$c")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local work; work=$(mktemp -d)
  local estimate=$K8S_ESTIMATE
  [ "${missing[*]}" = kubectl ] && estimate="2 min" # the rest is cached
  step k8s "building ${missing[*]} v$K8S_VERSION in $work, the slowest step" "$estimate"
  (
    cd "$work"
    go mod init chaosd.local/k8sbins >/dev/null 2>&1
    go mod edit -require=k8s.io/kubernetes@v$K8S_VERSION
    # k8s.io/kubernetes replaces its staging modules with ./staging/...; mirror each
    # replace with the published version so the module graph resolves.
    local gomod; gomod=$(go mod download -json k8s.io/kubernetes@v$K8S_VERSION | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    for m in $(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod"); do
      go mod edit -replace="$m=$m@v$STAGING_VERSION"
    done
    printf 'package tools\n\nimport (\n' > tools.go
    for c in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c" >> tools.go; done
    printf ')\n' >> tools.go
    go mod tidy >/dev/null
    # One go build for all of them: the go command links one binary while it
    # compiles the next one's packages, instead of leaving a core idle
    # through each single-threaded link.
    local pkgs=()
    for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    log "go build ${missing[*]}"
    mkdir -p out
    CGO_ENABLED=0 go build -trimpath "$nodwarf" -ldflags "$ldflags_k8s" -o out/ "${pkgs[@]}"
    # Via .tmp in the cache's directory: the last rename is atomic, so an
    # interrupted copy never looks like a built binary.
    for c in "${missing[@]}"; do mv "out/$c" "$bin/$c.tmp" && mv "$bin/$c.tmp" "$bin/$c"; done
  )
  rm -rf "$work"
}

build_etcd() {
  [ -x "$bin/etcd" ] && return 0
  local work; work=$(mktemp -d)
  step etcd "building etcd v$ETCD_VERSION" "$ETCD_ESTIMATE"
  (
    cd "$work"
    go mod init chaosd.local/etcdbin >/dev/null 2>&1
    for m in server/v3 api/v3 client/pkg/v3 client/v3 pkg/v3; do
      go mod edit -require="go.etcd.io/etcd/$m@v$ETCD_VERSION"
    done
    printf 'package tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    go mod tidy >/dev/null
    CGO_ENABLED=0 go build -trimpath "$nodwarf" -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$bin/etcd.tmp" "$bin/etcd"
  )
  rm -rf "$work"
}

# istiod's module carries no replace directives that block `go install`; -mod=mod
# lets the go command resolve its go.mod as is. About 9 minutes cold on 2 cores.
build_istiod() {
  local out=${CHAOSD_E2E_ISTIOD:-$cache/istio-$ISTIO_VERSION/bin/pilot-discovery}
  [ -x "$out" ] && return 0
  local work; work=$(mktemp -d)
  step istiod "go install istio.io/istio/pilot/cmd/pilot-discovery@$ISTIO_VERSION (istiod)" "$ISTIOD_ESTIMATE"
  GOBIN="$work" GOFLAGS=-mod=mod CGO_ENABLED=0 go install -trimpath "$nodwarf" -ldflags "-s -w" \
    "istio.io/istio/pilot/cmd/pilot-discovery@$ISTIO_VERSION"
  mkdir -p "$(dirname "$out")"
  mv "$work/pilot-discovery" "$out"
  rm -rf "$work"
}

# Jaeger's go.mod has replace directives, so `go install module@version` is
# refused; a scratch module that requires it as a tool builds it (about 8
# minutes cold on 2 cores, docs/benchmarks.md).
build_jaeger() {
  local out=${CHAOSD_E2E_JAEGER:-$cache/jaeger-$JAEGER_VERSION/bin/jaeger}
  [ -x "$out" ] && return 0
  local work; work=$(mktemp -d)
  step jaeger "building github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION (OTLP receiver for tracing tests)" "$JAEGER_ESTIMATE"
  (
    cd "$work"
    go mod init chaosd.local/jaegerbin >/dev/null 2>&1
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" >/dev/null
    CGO_ENABLED=0 go build -trimpath "$nodwarf" -ldflags "-s -w" -o jaeger github.com/jaegertracing/jaeger/cmd/jaeger
  )
  mkdir -p "$(dirname "$out")"
  mv "$work/jaeger" "$out"
  rm -rf "$work"
}

build_goinstall() { # name module@version
  [ -x "$bin/$1" ] && return 0
  step "$1" "go install $2" "$KWOK_ESTIMATE"
  GOBIN="$bin" CGO_ENABLED=0 go install -trimpath "$nodwarf" -ldflags "-s -w" "$2"
}

kwok_stages() {
  # kwok's binary has no default stages; copy the ones its module ships.
  [ -f "$bin/../kwok-stages/pod-fast.yaml" ] && return 0
  local dir; dir=$(go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$bin/../kwok-stages"
  install -m 644 "$dir/kustomize/stage/node/fast/node-initialize.yaml" "$bin/../kwok-stages/node-initialize.yaml"
  install -m 644 "$dir/kustomize/stage/node/heartbeat/node-heartbeat.yaml" "$bin/../kwok-stages/node-heartbeat.yaml"
  # Join the pod stages as one multi-document file; skip kustomization.yaml, which
  # kwok would otherwise read as an unsupported config kind.
  local f
  for f in "$dir"/kustomize/stage/pod/fast/pod-*.yaml; do
    printf -- '---\n'
    cat "$f"
  done > "$bin/../kwok-stages/pod-fast.yaml.tmp"
  mv "$bin/../kwok-stages/pod-fast.yaml.tmp" "$bin/../kwok-stages/pod-fast.yaml"
}

# The Kubernetes components, kubectl included: the playground's printed
# commands use it, built from the same module as the control plane.
k8s_components="kube-apiserver kube-controller-manager kube-scheduler kubectl"
# Cold estimates per step (docs/benchmarks.md, "The local control plane").
# Measured one at a time (22:00 UTC 2026-12-06, make demo from empty caches):
# etcd 2m10s, kwok 3m7s, the four Kubernetes binaries 11m24s, istiod 7m21s.
ETCD_ESTIMATE="2 min" KWOK_ESTIMATE="3 min" HELM_ESTIMATE="3 min" K8S_ESTIMATE="12 min" ISTIOD_ESTIMATE="8 min"
JAEGER_ESTIMATE="8 min"
# helm needs its release ldflags, or it reports version "" and a default
# Kubernetes of v1.20 to `helm template`, which charts' kubeVersion refuses.
HELM_K8S_MINOR=${HELM_K8S_MINOR:-37}
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR"
build_helm() {
  # A helm built without the ldflags (an older cache) is rebuilt.
  [ "$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" = "v$HELM_VERSION" ] && return 0
  step helm "go install helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" "$HELM_ESTIMATE"
  GOBIN="$bin" CGO_ENABLED=0 go install -trimpath "$nodwarf" -ldflags "$helm_ldflags" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
}

# Count the steps with work to do, so progress reads [k/n].
for c in $k8s_components; do
  if [ ! -x "$bin/$c" ]; then todo+=(k8s); break; fi
done
[ -x "$bin/etcd" ] || todo+=(etcd)
[ -x "$bin/kwok" ] || todo+=(kwok)
if ! $playground && [ "$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" != "v$HELM_VERSION" ]; then
  todo+=(helm)
fi
[ -x "${CHAOSD_E2E_ISTIOD:-$cache/istio-$ISTIO_VERSION/bin/pilot-discovery}" ] || todo+=(istiod)
$playground || [ -x "${CHAOSD_E2E_JAEGER:-$cache/jaeger-$JAEGER_VERSION/bin/jaeger}" ] || todo+=(jaeger)
[ ${#todo[@]} -eq 0 ] || log "${#todo[@]} build step(s) to do (${todo[*]}), in two lanes at once, cached afterwards in $cache"

# Two lanes of about equal CPU time (cold: the Kubernetes binaries 21
# CPU-minutes and Jaeger 14.5 in one; etcd 3, kwok 5, helm 4.5 and istiod
# 13.5 in the other). One build alone leaves a core idle while it downloads
# modules and while the linker runs (single-threaded): one at a time, the
# steps kept 1.78 cores busy, two lanes 1.93.
lane_k8s() {
  timed build_k8s
  $playground || timed build_jaeger
}
lane_rest() {
  timed build_etcd
  timed build_goinstall kwok "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  kwok_stages
  $playground || timed build_helm
  timed build_istiod
}
lane_k8s & k8s_pid=$!
lane_rest & rest_pid=$!
failed=""
wait "$k8s_pid" || failed="the Kubernetes or Jaeger build"
wait "$rest_pid" || failed="${failed:+$failed and }etcd, kwok, helm or istiod"
if [ -n "$failed" ]; then
  log "failed: $failed (its output is above)"
  exit 1
fi
total=$((SECONDS - began))
[ "$total" -lt 5 ] || log "done in $((total / 60))m$((total % 60))s ($FIGURE_NOTE)"
echo "$bin"
