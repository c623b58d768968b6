"""The grpcio-tools plugin writes what grpc_tools.protoc writes, byte for byte."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from grpc_tools import protoc as grpc_tools_protoc

SDK = Path(os.path.abspath(__file__)).parents[2]
PLUGIN = SDK / "scripts" / "protoc_gen_grpc_python.py"
PROTO_ROOT = SDK.parent / "server" / "public" / "pluginapi" / "grpc" / "proto"


def contract() -> list[str]:
    return sorted(
        p.relative_to(PROTO_ROOT).as_posix()
        for p in (PROTO_ROOT / "mattermost" / "plugin").glob("*.proto")
    )


def run_protoc(*args: str) -> None:
    well_known = Path(grpc_tools_protoc.__file__).parent / "_proto"
    code = grpc_tools_protoc.main(
        ["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}", *args, *contract()]
    )
    assert code == 0


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("options", ["", "grpc_2_0"], ids=["default", "with-options"])
def test_plugin_output_is_byte_identical(tmp_path: Path, options: str) -> None:
    wrapper = tmp_path / "protoc-gen-grpcpy"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{PLUGIN}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    builtin, plugin = tmp_path / "builtin", tmp_path / "plugin"
    builtin.mkdir()
    plugin.mkdir()
    prefix = f"{options}:" if options else ""
    run_protoc(f"--grpc_python_out={prefix}{builtin}")
    run_protoc(f"--plugin=protoc-gen-grpcpy={wrapper}", f"--grpcpy_out={prefix}{plugin}")
    want = tree(builtin)
    assert want, "grpc_tools.protoc wrote nothing"
    assert "mattermost/plugin/api_pb2_grpc.py" in want
    assert tree(plugin) == want


def test_plugin_reports_a_failing_generator(tmp_path: Path) -> None:
    """A bad option reaches protoc as the plugin's error, not as a crash."""
    sys.path.insert(0, str(PLUGIN.parent))
    import protoc_gen_grpc_python
    from google.protobuf.compiler import plugin_pb2

    request = plugin_pb2.CodeGeneratorRequest(file_to_generate=["missing.proto"])
    response = protoc_gen_grpc_python.generate(request)
    assert response.error.startswith("grpc_tools.protoc failed on missing.proto")
