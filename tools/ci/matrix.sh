#!/usr/bin/env bash
# Runs the SDK's test matrix (python-sdk/noxfile.py) over every supported
# Python this machine has, in parallel, and prints one line per interpreter
# and dependency set with its test count and time.
#
# Interpreters are looked up as pythonX.Y on PATH, then in pyenv's versions
# directory. A supported version that the machine lacks is reported as
# SKIPPED by name; a session that runs and fails fails the whole run.
#
# Needs: .venv (make venv) for nox and the wheel build, bin/pluginapi-server
# (make build). MATRIX_JOBS sets how many sessions run at once (default 2).
# MATRIX_SESSION_TIMEOUT (seconds, default 900) ends a session that runs
# longer, so that a hang fails the run with the session's log instead of
# stalling it; sessions take 500 to 560 s here, two at a time.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
venv=$root/.venv
jobs=${MATRIX_JOBS:-2}
session_timeout=${MATRIX_SESSION_TIMEOUT:-900}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
start=$(now)

# session  interpreter  dependency set
sessions=(
  "tests-3.9     3.9   locked"
  "tests-3.10    3.10  locked"
  "tests-3.11    3.11  locked"
  "tests-3.12    3.12  locked"
  "tests-floors  3.13  floors"
  "tests-newest  3.13  newest"
)

# interpreter_dir X.Y: the directory of a working pythonX.Y, or nothing.
interpreter_dir() {
  local version=$1 candidate dir
  candidate=$(command -v "python$version" 2>/dev/null || true)
  if [[ -n $candidate ]] && "$candidate" -c 'import sys' 2>/dev/null; then
    dirname "$candidate"
    return
  fi
  local pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
  for dir in "$pyenv_root"/versions/"$version".*/bin; do
    if [[ -x $dir/python$version ]] && "$dir/python$version" -c 'import sys' 2>/dev/null; then
      echo "$dir"
      return
    fi
  done
}

export SDK_WHEEL
SDK_WHEEL=$("$venv/bin/python" python-sdk/scripts/build_wheel.py "$work/dist")
export SDK_RUNTIME_REQUIREMENTS=$work/runtime.txt
"$venv/bin/python" tools/demo/runtime_requirements.py python-sdk/requirements.lock python-sdk/pyproject.toml >"$SDK_RUNTIME_REQUIREMENTS"
export MATTERMOST_PLUGINAPI_SERVER=$root/bin/pluginapi-server

run_session() { # run_session NAME VERSION DIR: one nox session into its log
  local name=$1 version=$2 dir=$3 t0 rc attempt result=FAILED
  t0=$(now)
  # A session that times out is run once more: pytest-timeout ends a hung
  # test well before, so a timeout here is an install that stalled on the
  # network. A failure is never retried.
  for attempt in 1 2; do
    rc=0
    (cd python-sdk && PATH="$dir:$PATH" timeout -k 15 "$session_timeout" "$venv/bin/nox" --no-color \
      --envdir "$work/nox" --force-python "$version" -s "$name" </dev/null >>"$work/$name.log" 2>&1) || rc=$?
    if ((rc == 0)); then
      result=ok
      break
    elif ((rc != 124 && rc != 137)); then
      break
    fi
    result=TIMEOUT
    echo "session $name: attempt $attempt timed out after ${session_timeout}s" | tee -a "$work/$name.log" >&2
  done
  echo "$result $(elapsed "$t0")" >"$work/$name.status"
  echo "session $name ended: $result" >&2
  if [[ $result != ok ]]; then
    # At once, in case the whole run is stopped before its summary.
    tail -n 60 "$work/$name.log" | sed "s/^/  [$name] /" >&2
  fi
}

present=()
for row in "${sessions[@]}"; do
  read -r name version deps <<<"$row"
  dir=$(interpreter_dir "$version")
  if [[ -z $dir ]]; then
    echo "skipped $name" >"$work/$name.status"
    continue
  fi
  present+=("$name $version $dir")
done

running=0
for row in "${present[@]}"; do
  read -r name version dir <<<"$row"
  run_session "$name" "$version" "$dir" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
done
wait

failed=0
for row in "${sessions[@]}"; do
  read -r name version deps <<<"$row"
  read -r result seconds <"$work/$name.status"
  if [[ $result == skipped ]]; then
    printf 'matrix  python %-5s %-7s SKIPPED: no python%s on this machine\n' "$version" "$deps" "$version"
    continue
  fi
  versions=$(grep -m1 '^python ' "$work/$name.log" | sed 's/ sdk .*//' || true)
  summary=$(grep -E '^=*\s*[0-9]+ (passed|failed)|^[0-9]+ (passed|failed)' "$work/$name.log" | tail -1 | sed 's/=//g; s/^ *//; s/ *$//' || true)
  if [[ $result != ok ]]; then
    sed "s/^/  [$name] /" "$work/$name.log"
    failed=1
  fi
  printf 'matrix  python %-5s %-7s %-6s %6ss  %s  (%s)\n' "$version" "$deps" "$result" "$seconds" "${summary:-no test summary}" "$versions"
done
printf 'matrix  total wall time %ss\n' "$(elapsed "$start")"
exit "$failed"
