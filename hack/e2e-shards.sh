#!/usr/bin/env bash
# Runs test/e2e's top-level tests in E2E_SHARDS concurrent processes of one
# compiled test binary (make e2e). Most of an e2e test's wall time is waiting
# (hold windows, scrapes, alert `for:` clauses, cooldowns), not CPU: two full
# suites side by side on 2 cores took 2 153 s against about 1 770 s for one
# (docs/benchmarks.md, "CI time"), so two shards roughly halve the e2e stage.
# Every test starts its own control plane on free loopback ports and its own
# temp dirs, which is what lets two processes run side by side.
#
# Tests are assigned longest first to the least-loaded shard, by the
# durations in test/e2e/durations.txt (seconds; regenerate from a CI log with
# the command in that file). A test missing there counts as 30 s.
#
# The other e2e packages (E2E_PACKAGES, import paths; make e2e lists them)
# run beside the shards, one package at a time, logged to
# test/e2e-packages.log: about a minute and a half of tests that would
# otherwise run before the shards start.
#
# Usage: hack/e2e-shards.sh            (E2E_SHARDS=3, E2E_TIMEOUT=60m, E2E_LOG=test/e2e.log)
#        E2E_SHARDS=1 hack/e2e-shards.sh   runs them in one process, as before
#        E2E_RUN=regexp hack/e2e-shards.sh runs only the top-level tests it matches
set -euo pipefail
cd "$(dirname "$0")/.."

shards=${E2E_SHARDS:-3}
timeout=${E2E_TIMEOUT:-60m}
log=${E2E_LOG:-test/e2e.log}
bin=bin/e2e.test

go test -tags e2e -c -o "$bin" ./test/e2e
tests=$("$bin" -test.list "${E2E_RUN:-.*}" | grep '^Test' || true)
[ -n "$tests" ] || { echo "e2e-shards: $bin lists no tests" >&2; exit 1; }

# "shard<TAB>test" lines: longest first onto the least-loaded shard.
assignment=$(awk -v shards="$shards" '
  FNR == NR { if ($1 !~ /^#/ && NF == 2) dur[$2] = $1; next }
  { w = ($1 in dur) ? dur[$1] : 30; printf "%s %s\n", w, $1 }
' test/e2e/durations.txt <(printf '%s\n' "$tests") | sort -k1,1nr -k2,2 | awk -v shards="$shards" '
  { best = 0; for (i = 1; i < shards; i++) if (load[i] < load[best]) best = i
    load[best] += $1; printf "%d\t%s\n", best, $2 }
  END { for (i = 0; i < shards; i++) printf "e2e-shards: shard %d: about %d s\n", i, load[i] > "/dev/stderr" }
')

rm -f test/e2e-shard*.log test/e2e-packages.log
pids=()
logs=()
if [ -n "${E2E_PACKAGES:-}" ]; then
  echo "e2e-shards: beside the shards: go test $E2E_PACKAGES" >&2
  # shellcheck disable=SC2086 # a list of import paths
  go test -tags e2e -count=1 -p 1 -timeout "$timeout" -v $E2E_PACKAGES > test/e2e-packages.log 2>&1 &
  pids+=("packages:$!")
  logs+=(test/e2e-packages.log)
fi
for ((i = 0; i < shards; i++)); do
  names=$(printf '%s\n' "$assignment" | awk -F'\t' -v s="$i" '$1 == s { print $2 }' | paste -sd'|' -)
  [ -n "$names" ] || continue
  echo "e2e-shards: shard $i runs ^($names)\$" >&2
  # The package directory is the working directory go test would give it.
  (cd test/e2e && exec "../../$bin" -test.run "^($names)\$" -test.count=1 -test.v -test.timeout "$timeout") \
    > "test/e2e-shard$i.log" 2>&1 &
  pids+=("$i:$!")
  logs+=("test/e2e-shard$i.log")
done

# Follow the shards' results as they come; the full output is in the logs.
tail -n +1 -q -F "${logs[@]}" 2>/dev/null \
  | grep --line-buffered -E '^(--- |FAIL|ok |PASS$|panic:)' &
follower=$!

failed=0
for p in "${pids[@]}"; do
  if ! wait "${p#*:}"; then
    case ${p%%:*} in
    packages) echo "e2e-shards: the other e2e packages FAILED (test/e2e-packages.log)" >&2 ;;
    *) echo "e2e-shards: shard ${p%%:*} FAILED (test/e2e-shard${p%%:*}.log)" >&2 ;;
    esac
    failed=1
  fi
done
kill "$follower" 2>/dev/null || true
wait "$follower" 2>/dev/null || true

cat test/e2e-shard*.log > "$log"
for r in PASS FAIL SKIP; do
  echo "e2e-shards: $(grep -cE "^--- $r" "$log" || true) top-level tests $r" >&2
done
if [ "$failed" -ne 0 ]; then
  grep -E '^--- FAIL' "$log" >&2 || true
  exit 1
fi
echo "ok  	github.com/chaosd/chaosd/test/e2e	($shards shards)"
