"""The distribution: true dependency floors and a complete wheel."""

from __future__ import annotations

import ast
import os
import re
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import tomllib

SDK = Path(os.path.abspath(__file__)).parents[2]
sys.path.insert(0, str(SDK / "scripts"))
from build_wheel import build_wheel  # noqa: E402

PACKAGE = SDK / "src" / "mattermost_plugin"


def declared_floors() -> dict[str, str]:
    project = tomllib.loads((SDK / "pyproject.toml").read_text())["project"]
    floors = {}
    for requirement in project["dependencies"]:
        match = re.match(r"^([a-z0-9\-]+)>=([0-9.]+)", requirement)
        assert match, requirement
        floors[match.group(1)] = match.group(2)
    return floors


def test_grpcio_floor_is_what_the_stubs_require() -> None:
    text = (PACKAGE / "grpc" / "api_pb2_grpc.py").read_text()
    generated = re.search(r"GRPC_GENERATED_VERSION = '([0-9.]+)'", text)
    assert generated
    assert declared_floors()["grpcio"] == generated.group(1)


def test_protobuf_floor_is_what_the_messages_require() -> None:
    versions = set()
    for module in (PACKAGE / "grpc").glob("*_pb2.py"):
        match = re.search(
            r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,\s*"
            r"(\d+),\s*(\d+),\s*(\d+),",
            module.read_text(),
        )
        assert match, module.name
        versions.add(".".join(match.groups()))
    assert versions == {declared_floors()["protobuf"]}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package_files = {n for n in names if not n.startswith("mattermost_plugin_sdk-")}
    expected = {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.suffix in {".py", ".pyi", ".typed", ".tmpl"}
    }
    assert package_files == expected
    assert "mattermost_plugin/py.typed" in names
    assert "mattermost_plugin/grpc/api_pb2.pyi" in names
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)


def test_wheel_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(archive.read(meta_name).decode())
    assert meta["Name"] == "mattermost-plugin-sdk"
    assert meta["Requires-Python"] == ">=3.9"
    requires = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert sorted(requires) == ["cryptography>=44.0.0", "grpcio>=1.80.1", "protobuf<8,>=6.31.1"]
    assert meta["License-Expression"] == "Apache-2.0"
    urls = meta.get_all("Project-URL") or []
    assert "Homepage, https://github.com/mattermost/mattermost-plugin-grpc" in urls
    assert "Programming Language :: Python :: 3.9" in (meta.get_all("Classifier") or [])


def test_wheel_carries_the_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert "Apache License" in archive.read(name).decode()


def test_sources_parse_as_python_3_9() -> None:
    """requires-python says 3.9: no module may use newer syntax."""
    for module in sorted(PACKAGE.rglob("*.py")):
        ast.parse(module.read_text(), filename=str(module), feature_version=(3, 9))
