#!/usr/bin/env bash
# Runs every Go fuzz target of the repository (each `func FuzzXxx(f
# *testing.F)` in a _test.go file under server/ and tools/), one at a time,
# for FUZZTIME each (default 60s; any -fuzztime value, such as 10s or
# 5000x), and prints one line per target with its executions and whether it
# crashed. Fails if any target crashed or did not run.
#
# A crasher is written by go test to the package's testdata/fuzz/FuzzXxx/,
# where plain `go test` replays it from then on; the line names the file.
# FUZZ_PARALLEL sets the fuzzing workers of a target (default: go test's,
# one per CPU).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
fuzztime=${FUZZTIME:-60s}
parallel=()
if [[ -n ${FUZZ_PARALLEL:-} ]]; then
  parallel=(-parallel "$FUZZ_PARALLEL")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# "package-dir FuzzName" for every target, in a stable order.
targets=()
while IFS= read -r file; do
  while IFS= read -r name; do
    targets+=("$(dirname "$file") $name")
  done < <(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(f \*testing\.F\).*/\1/p' "$file")
done < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' server tools | sort)
if ((${#targets[@]} == 0)); then
  echo "fuzz: no fuzz targets found under server/ and tools/" >&2
  exit 1
fi

echo "fuzz: ${#targets[@]} targets, $fuzztime each, one at a time"
failed=0
total_start=$(now)
for target in "${targets[@]}"; do
  read -r dir name <<<"$target"
  log=$work/$name.log
  start=$(now)
  status=ok
  if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "${parallel[@]}" "./$dir" >"$log" 2>&1; then
    status=CRASHED
    failed=1
  fi
  # The last progress line carries the executions so far.
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' "$log" | tail -n 1)
  printf 'fuzz  %-42s %-18s %-8s %10s execs %8ss\n' "$dir" "$name" "$status" "${execs:-0}" "$(elapsed "$start")"
  if [[ $status != ok ]]; then
    grep -E 'Failing input written to|failure while testing seed corpus entry' "$log" | sed 's/^/    /' || true
    echo "    last lines of its log:"
    tail -n 40 "$log" | sed 's/^/    /'
  fi
done
echo "fuzz: total $(elapsed "$total_start")s"
exit "$failed"
