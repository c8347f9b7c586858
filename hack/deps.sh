#!/usr/bin/env bash
# Installs what chaosd's tests and playground need on a fresh Debian machine:
# Prometheus and Alertmanager (Debian packages), Chromium for the status-page
# test, podman with runc to run the image (TestImageRunsReadOnlyAsNonroot;
# about 30 s to install), and the control-plane binaries built from the Go module proxy
# (hack/e2e-bins.sh, cached). Safe to run repeatedly: it only installs what is missing.
#
# Usage: hack/deps.sh               everything make test needs
#        hack/deps.sh --playground  only what make demo runs: no podman, Chromium or helm
set -euo pipefail
playground=false
[ "${1:-}" = --playground ] && playground=true
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
if ! $playground; then
  # runc, not crun: crun fails on hybrid cgroup hierarchies like CI's.
  command -v podman >/dev/null || need+=(podman)
  command -v runc >/dev/null || need+=(runc)
  if [ "${CHAOSD_SKIP_CHROMIUM:-}" = "" ]; then
    command -v chromium >/dev/null || need+=(chromium)
  fi
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Debian's prometheus packages try to start services; there is no init here.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# There is no init system here, so the packages start no daemons; the harness
# runs its own Prometheus and Alertmanager on free loopback ports.
if $playground; then
  export CHAOSD_DEPS_FOR=playground
fi
exec "$(dirname "$0")/e2e-bins.sh"
