#!/usr/bin/env bash
# make test's last stage: the e2e tests beside lint and the unit tests.
#
# By the time this runs, make has built the control-plane binaries, bin/chaosd,
# the static binary and the image, so the dependencies are compiled once. What
# is left is mostly waiting (the e2e tests hold faults, wait for scrapes, alert
# `for:` clauses and cooldowns) and CPU (lint's vet, the unit tests' second
# compile of every dependency with -race). Run one after the other, a cold run
# left a core idle through most of the e2e stage; side by side, lint and the
# unit tests fill it. They run at nice 10 so the e2e tests keep the CPU they
# ask for (CFS then gives the niced work about a tenth of a contended core,
# and all of an idle one). docs/benchmarks.md, "CI time", has the figures.
#
# Every stage runs to its end even when another fails; the exit status is
# non-zero when any failed, and each stage's log is printed or named.
set -uo pipefail
cd "$(dirname "$0")/.."
make=${MAKE:-make}
stamp() { echo "test-stages: $(date -u +%T) $*" >&2; }

mkdir -p test
stamp "lint and unit tests started at nice 10 (output: test/lint-unit.log)"
(
  nice -n 10 "$make" --no-print-directory lint && echo "test-stages: $(date -u +%T) lint passed" &&
    nice -n 10 "$make" --no-print-directory unit && echo "test-stages: $(date -u +%T) unit tests passed"
) > test/lint-unit.log 2>&1 &
checks=$!

stamp "e2e tests started"
e2e=0
"$make" --no-print-directory e2e-tests || e2e=$?
stamp "e2e tests ended (status $e2e); waiting for lint and unit tests"

checks_status=0
wait "$checks" || checks_status=$?
stamp "lint and unit tests ended (status $checks_status)"
if [ "$checks_status" -ne 0 ]; then
  echo "test-stages: lint or unit tests FAILED; test/lint-unit.log:" >&2
  cat test/lint-unit.log >&2
else
  grep -E '^(ok |---|FAIL|test-stages:)' test/lint-unit.log >&2 || true
fi
[ "$e2e" -eq 0 ] || echo "test-stages: e2e tests FAILED (test/e2e.log, test/e2e-packages.log)" >&2
[ "$e2e" -eq 0 ] && [ "$checks_status" -eq 0 ]
