#!/usr/bin/env bash
# Runs `make` targets as timed stages: stages run one after another, and
# the targets of one stage, separated by commas, run in parallel.
#
#   tools/ci/stages.sh setup=go-tools,venv checks=lint,bazel-gate tests=test-go
#
# Each target's output goes to a log file; it is shown for test-* targets
# (their runners' summaries; only the summary lines for the targets in
# SUMMARY_PATTERN), when a target fails, or always with VERBOSE=1. Every target prints one line with its
# duration, every stage one line with its wall time, and the run a total.
# The first failing stage stops the run with a non-zero exit.
#
# TARGET_TIMEOUT (seconds, default 1200) ends a target that runs longer and
# fails it with its log, so that a hang shows where it is well inside CI's
# time limit instead of stalling the run with nothing printed.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# Targets whose successful log is long: only lines matching the pattern.
declare -A SUMMARY_PATTERN=([test-matrix]='^matrix ')
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
target_timeout=${TARGET_TIMEOUT:-1200}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The matrix runs six sessions of the SDK's whole suite, three rounds of two
# on a 2-core machine at about 9 minutes each: it has a limit of its own
# (MATRIX_TARGET_TIMEOUT, default 2100 s).
limit_of() { # limit_of TARGET: its timeout in seconds
  if [[ $1 == test-matrix ]]; then echo "${MATRIX_TARGET_TIMEOUT:-2100}"; else echo "$target_timeout"; fi
}

run_target() { # run_target TARGET: make TARGET into its log; its duration on success
  local target=$1 start rc=0
  start=$(now)
  timeout -k 15 "$(limit_of "$target")" make --no-print-directory "$target" </dev/null >"$logs/$target.log" 2>&1 || rc=$?
  if ((rc == 0)); then
    echo "ok $(elapsed "$start")" >"$logs/$target.status"
  elif ((rc == 124 || rc == 137)); then
    echo "TIMEOUT $(elapsed "$start")" >"$logs/$target.status"
  else
    echo "FAILED $(elapsed "$start")" >"$logs/$target.status"
  fi
}

total_start=$(now)
for stage in "$@"; do
  name=${stage%%=*}
  IFS=, read -r -a targets <<<"${stage#*=}"
  stage_start=$(now)
  pids=()
  for target in "${targets[@]}"; do
    run_target "$target" &
    pids+=($!)
  done
  wait "${pids[@]}"
  failed=0
  for target in "${targets[@]}"; do
    read -r result seconds <"$logs/$target.status"
    if [[ $result != ok || $target == test-* || ${VERBOSE:-0} == 1 ]]; then
      if [[ $result == ok && -n ${SUMMARY_PATTERN[$target]:-} ]]; then
        grep -E "${SUMMARY_PATTERN[$target]}" "$logs/$target.log" | sed "s/^/  [$target] /" || true
      else
        sed "s/^/  [$target] /" "$logs/$target.log"
      fi
    fi
    printf '%-8s %-18s %-6s %6ss\n' "$name" "$target" "$result" "$seconds"
    [[ $result == ok ]] || failed=1
  done
  printf '%-8s %-18s %-6s %6ss\n' "$name" "(stage wall time)" "" "$(elapsed "$stage_start")"
  if [[ $failed != 0 ]]; then
    echo "stage $name failed" >&2
    exit 1
  fi
done
printf '%-8s %-18s %-6s %6ss\n' "total" "" "" "$(elapsed "$total_start")"
# The plain closing line CI reads: every pytest summary of the run, summed
# (a failed run has stopped above).
passed=$(cat "$logs"/*.log | { grep -oE '[0-9]+ passed' || true; } | awk '{ n += $1 } END { print n + 0 }')
echo "pytest: $passed passed, 0 failed"
