#!/usr/bin/env bash
# The static Bazel gate: what `make test` checks about the Bazel files,
# since Bazel itself cannot run on the project's machines.
#   1. buildifier: format check and lint of every Starlark file;
#   2. gazelle in diff mode: the BUILD files of Go and proto packages are
#      exactly what gazelle writes;
#   3. tools/bazelcheck: labels, loads, ownership of .py and .proto files,
#      shared versions, and //python-sdk:wheel against the native wheel.
# Every tool is pinned in go.mod; PYTHON is the virtualenv's interpreter.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
python=${PYTHON:-$root/.venv/bin/python}

mapfile -t starlark < <(find . \( -path ./.git -o -path ./.venv -o -path ./bin -o -path ./python-sdk/build \) -prune \
  -o -type f \( -name BUILD.bazel -o -name '*.bzl' -o -name MODULE.bazel -o -name WORKSPACE \) -print | sort)

echo "buildifier: ${#starlark[@]} Starlark files"
go tool buildifier -mode=check -lint=warn "${starlark[@]}"

echo "gazelle: diff mode"
go tool gazelle update -repo_root . -mode diff

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wheel=$("$python" python-sdk/scripts/build_wheel.py "$tmp")
echo "bazelcheck: against $(basename "$wheel")"
go run ./tools/bazelcheck/cmd/bazelcheck -root . -native-wheel "$wheel"
