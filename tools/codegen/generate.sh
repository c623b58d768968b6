#!/usr/bin/env bash
# Regenerates every generated file of the repository from the contract in
# server/public/pluginapi/grpc/proto:
#   - the Go stubs (*.pb.go) beside the protos in mattermost/plugin, with buf and the
#     protoc-gen-go and protoc-gen-go-grpc tools pinned in go.mod;
#   - the Python stubs, the generated client methods and the models module
#     of python-sdk, with python-sdk/scripts/generate_protos.py;
#   - the hooks table of docs/writing-a-plugin.md (between its markers), with
#     python-sdk/scripts/generate_hooks.py;
#   - the Go hooks surface (the Hooks interface, Known, and the Client and None
#     methods of the generated shapes) in server/public/pluginapi/grpc/hooks,
#     with python-sdk/scripts/generate_go_hooks.py; both read the hooks'
#     shapes from python-sdk/scripts/hook_shapes.tsv;
#   - the fidelity table docs/fidelity.md from docs/fidelity/*.tsv, with
#     tools/codegen/fidelity.py.
#
# With --check it writes nothing in the tree: it generates into a temporary
# directory and fails if any committed generated file differs, is missing
# or is left over.
#
# PYTHON selects the interpreter (default: .venv/bin/python, see `make venv`).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
python=${PYTHON:-$root/.venv/bin/python}
proto=server/public/pluginapi/grpc/proto
pkg=python-sdk/src/mattermost_plugin

generate_go() { (cd "$proto" && go tool buf generate -o "$1"); }
# mypy-protobuf reports each file it writes on stderr; keep the rest.
generate_py() {
  "$python" python-sdk/scripts/generate_protos.py --out "$1" 2> >(grep -v '^Writing mypy to ' >&2)
}
guide=docs/writing-a-plugin.md
generate_guide() { "$python" python-sdk/scripts/generate_hooks.py --doc "$1"; }
hooks_pkg=server/public/pluginapi/grpc/hooks
generate_go_hooks() { "$python" python-sdk/scripts/generate_go_hooks.py --out "$1"; }
fidelity=docs/fidelity.md
generate_fidelity() { "$python" tools/codegen/fidelity.py --out "$1"; }

if [[ ${1:-} != --check ]]; then
  generate_go .
  generate_py "$pkg"
  generate_guide "$guide"
  generate_go_hooks "$hooks_pkg"
  generate_fidelity "$fidelity"
  echo "generated: Go stubs in $proto, Python code in $pkg, the hooks table of $guide, the Go hooks in $hooks_pkg, $fidelity"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/go" "$tmp/py" "$tmp/hooks"
generate_go "$tmp/go"
generate_py "$tmp/py"
cp "$guide" "$tmp/guide.md"
generate_guide "$tmp/guide.md"
generate_go_hooks "$tmp/hooks"
generate_fidelity "$tmp/fidelity.md"

stale=0
compare() { # compare GENERATED_DIR COMMITTED_DIR NAME_PATTERN...
  local got=$1 want=$2 pattern name
  shift 2
  for pattern in "$@"; do
    for name in $( (find "$got" "$root/$want" -maxdepth 1 -type f -name "$pattern" -printf '%f\n') | sort -u); do
      if ! cmp -s "$got/$name" "$root/$want/$name"; then
        echo "stale generated file: $want/$name" >&2
        stale=1
      fi
    done
  done
}
compare "$tmp/go/mattermost/plugin" "$proto/mattermost/plugin" '*.pb.go'
compare "$tmp/py/grpc" "$pkg/grpc" '*.py' '*.pyi'
compare "$tmp/py/_api" "$pkg/_api" '*.py'
compare "$tmp/py" "$pkg" models.py
compare "$tmp/py/_plugin" "$pkg/_plugin" hookspec.py
compare "$tmp/hooks" "$hooks_pkg" '*_generated.go'
if ! cmp -s "$tmp/guide.md" "$guide"; then
  echo "stale generated table: the hooks table of $guide" >&2
  stale=1
fi
if ! cmp -s "$tmp/fidelity.md" "$fidelity"; then
  echo "stale generated file: $fidelity (from docs/fidelity/*.tsv)" >&2
  stale=1
fi
if [[ $stale != 0 ]]; then
  echo "generated code is stale: run \`make generate\` and commit the result" >&2
  exit 1
fi
echo "generated code is up to date"
