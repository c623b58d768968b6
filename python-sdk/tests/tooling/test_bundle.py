"""``mattermost-plugin bundle``, and ``check`` of targets, executables and bundles.

Most tests bundle offline: pip takes the wheels from a local wheelhouse
(``--find-links DIR --no-index``). :func:`local_wheelhouse` makes one per
test session: the SDK's wheel (``$SDK_WHEEL``, else built from this
checkout) and the lock's pins of the SDK's runtime dependencies, downloaded
once for this machine's target; ``$MATTERMOST_BUNDLE_WHEELHOUSE`` names a
ready one instead, for a machine without PyPI. Other tests use small fake
wheels written here, which show how pip's choice follows each target's
platform tags and markers.

``test_two_targets_through_pypi_network`` asks PyPI for the wheels: it is
the one test that needs the network, and is skipped when
``$MATTERMOST_TESTS_OFFLINE`` is set (or deselect it with ``-k "not network"``).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mattermost_plugin._cli import _bundle, main
from mattermost_plugin._cli._bundle_archive import DEFAULT_EPOCH
from mattermost_plugin._cli._bundle_targets import (
    Target,
    local_platform,
    wheel_fits,
)

SDK = Path(os.path.abspath(__file__)).parents[2]
PLUGIN_ID = "com.example.hello"
BUNDLE_NAME = f"{PLUGIN_ID}-0.1.0.tar.gz"
PYTHON = f"3.{sys.version_info[1]}"
#: The variables of pip's configuration that would change what a test's pip sees.
PIP_VARIABLES = ("PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_EXTRA_INDEX_URL", "PIP_REQUIRE_VIRTUALENV")


def local_target() -> Target:
    """This machine's target: its platform and this Python."""
    here = local_platform()
    if here is None:
        pytest.skip(f"bundles do not target this machine ({sys.platform})")
    return Target(here, sys.version_info[1])


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_pins() -> list[str]:
    """The lock's pins of the SDK's dependencies and of what they pull in ("# via")."""
    pyproject = (SDK / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)\]", pyproject, flags=re.M | re.S)
    assert block, "pyproject.toml has no dependencies"
    wanted = {normalize(n) for n in re.findall(r'^\s*"([A-Za-z0-9_.\-]+)', block[1], re.M)}
    pins: dict[str, tuple[str, set[str]]] = {}
    for chunk in re.split(r"\n(?=[A-Za-z0-9])", (SDK / "requirements.lock").read_text()):
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\;]+)", chunk)
        if match:
            sources = re.findall(r"#\s+(?:via\s+)?([A-Za-z0-9_.\-]+)\s*$", chunk, flags=re.M)
            pins[normalize(match[1])] = (f"{match[1]}=={match[2]}", {normalize(v) for v in sources})
    grew = True
    while grew:
        grew = False
        for name, (_, via) in pins.items():
            if name not in wanted and via & wanted:
                wanted.add(name)
                grew = True
    assert wanted <= set(pins), wanted - set(pins)
    return sorted(pins[name][0] for name in wanted)


def pip_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PIP_VARIABLES}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


_CACHE: dict[str, Path] = {}


def sdk_wheel(factory: pytest.TempPathFactory) -> Path:
    """The SDK's wheel: ``$SDK_WHEEL`` (the matrix's), else built from this checkout, once."""
    given = os.environ.get("SDK_WHEEL")
    if given:
        return Path(given)
    if "sdk" not in _CACHE:
        sys.path.insert(0, str(SDK / "scripts"))
        try:
            from build_wheel import build_wheel
        finally:
            sys.path.remove(str(SDK / "scripts"))
        _CACHE["sdk"] = build_wheel(factory.mktemp("sdk"))
    return _CACHE["sdk"]


def local_wheelhouse(factory: pytest.TempPathFactory) -> Path:
    """The session's wheelhouse for this machine's target; see the module's docstring.

    test_cli_install uses it too, through this function, so that it is made
    once per session.
    """
    given = os.environ.get("MATTERMOST_BUNDLE_WHEELHOUSE")
    if given:
        return Path(given)
    if "local" in _CACHE:
        return _CACHE["local"]
    target = local_target()
    directory = factory.mktemp("wheelhouse")
    shutil.copy(sdk_wheel(factory), directory)
    argv = [sys.executable, "-m", "pip", "download", *target.pip_arguments()]
    argv += ["--dest", str(directory), *runtime_pins()]
    result = subprocess.run(
        argv, capture_output=True, text=True, env=pip_environment(), timeout=600, check=False
    )
    assert result.returncode == 0, f"pip download failed:\n{result.stdout}\n{result.stderr}"
    _CACHE["local"] = directory
    return directory


@pytest.fixture
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_wheelhouse(tmp_path_factory)


@pytest.fixture(autouse=True)
def _no_pip_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip sees the tests' sources only, not the machine's find-links or index settings."""
    for name in PIP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


# -- fake wheels ---------------------------------------------------------------


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def fake_wheel(
    directory: Path,
    name: str,
    version: str = "1.0",
    tag: str = "py3-none-any",
    requires: tuple[str, ...] = (),
) -> Path:
    """Write a small, valid wheel of ``name`` with these tags and requirements."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    purelib = "true" if tag.endswith("-any") else "false"
    files = {
        f"{module}/__init__.py": b"",
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: test_bundle\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
        ).encode(),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = directory / f"{module}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_in_zip, data in files.items():
            archive.writestr(zipfile.ZipInfo(name_in_zip, (2020, 1, 1, 0, 0, 0)), data)
    return path


CP = f"cp3{sys.version_info[1]}"


def write_fakes(directory: Path) -> Path:
    """Fake wheels: an SDK without dependencies, and packages with markers and tags."""
    directory.mkdir(exist_ok=True)
    fake_wheel(directory, "mattermost-plugin-sdk", "99.0.0")
    fake_wheel(
        directory,
        "markerdep",
        requires=(
            'darwinonly; sys_platform == "darwin"',
            'oldpyonly; python_version < "3.10"',
            'armonly; platform_machine == "aarch64"',
        ),
    )
    for name in ("darwinonly", "oldpyonly", "armonly"):
        fake_wheel(directory, name)
    fake_wheel(directory, "nativeonly", tag=f"{CP}-{CP}-manylinux_2_17_x86_64")
    fake_wheel(directory, "newglibc", tag=f"{CP}-{CP}-manylinux_2_34_x86_64")
    return directory


@pytest.fixture
def fakes(tmp_path: Path) -> Path:
    """The fake wheels; see :func:`write_fakes`."""
    return write_fakes(tmp_path / "fakes")


# -- helpers -------------------------------------------------------------------


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command in this process: its exit status, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A new plugin, as ``mattermost-plugin new hello`` writes it."""
    assert main(["new", "hello", "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    return tmp_path / "hello"


def bundle(
    capsys: pytest.CaptureFixture[str], plugin: Path, links: Path, *args: str
) -> tuple[int, str, str]:
    """``bundle PLUGIN --find-links LINKS --no-index ARGS``."""
    return call(capsys, "bundle", str(plugin), "--find-links", str(links), "--no-index", *args)


def members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as archive:
        return archive.getmembers()


def read(path: Path, name: str) -> bytes:
    with tarfile.open(path, "r:gz") as archive:
        file = archive.extractfile(f"{PLUGIN_ID}/{name}")
        assert file is not None
        return file.read()


def wheels_of(path: Path) -> dict[str, set[str]]:
    """The distributions in each wheelhouse of a bundle, by target."""
    houses: dict[str, set[str]] = {}
    for member in members(path):
        parts = member.name.split("/")
        if len(parts) == 4 and parts[1] == "wheels":
            houses.setdefault(parts[2], set()).add(normalize(parts[3].split("-")[0]))
    return houses


def shown(path: Path) -> str:
    """A path as the command shows it: relative, unless it is outside the current directory."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- the layout ----------------------------------------------------------------


def junk(plugin: Path) -> None:
    """What a plugin directory holds besides the plugin, and a few files of it."""
    (plugin / ".venv" / "bin").mkdir(parents=True)
    (plugin / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (plugin / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (plugin / "env" / "lib").mkdir(parents=True)  # a virtualenv without a dot
    (plugin / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (plugin / "env" / "lib" / "site.py").write_text("")
    (plugin / "__pycache__").mkdir()
    (plugin / "__pycache__" / "plugin.cpython-311.pyc").write_bytes(b"\0")
    (plugin / ".git").mkdir()
    (plugin / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (plugin / ".env").write_text("SECRET=1\n")
    (plugin / ".pytest_cache").mkdir()
    (plugin / ".mypy_cache").mkdir()
    (plugin / "dist").mkdir()
    (plugin / "dist" / "old.whl").write_bytes(b"")
    (plugin / "wheels" / "linux-x86_64-cp311").mkdir(parents=True)
    (plugin / "wheels" / "linux-x86_64-cp311" / "stale.whl").write_bytes(b"")
    (plugin / "com.example.hello-0.0.1.tar.gz").write_bytes(b"an older bundle")
    (plugin / "node_modules").mkdir()
    (plugin / "node_modules" / "x.js").write_text("")
    (plugin / "data").mkdir()
    (plugin / "data" / "words.txt").write_text("hello\n")
    (plugin / "data" / "empty").mkdir()
    (plugin / "helpers").mkdir()
    (plugin / "helpers" / "__init__.py").write_text("")
    (plugin / "helpers" / "__pycache__").mkdir()
    (plugin / "helpers" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (plugin / "helpers" / "old.pyc").write_bytes(b"\0")
    (plugin / "helpers" / "tests").mkdir()  # not the top-level tests/: it ships
    (plugin / "helpers" / "tests" / "data.txt").write_text("")
    tool = plugin / "bin" / "tool.sh"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o750)


def test_a_new_plugin_bundles_as_the_layout_says(
    capsys: pytest.CaptureFixture[str], plugin: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    junk(plugin)
    output = tmp_path / "out.tar.gz"
    code, out, err = bundle(capsys, plugin, wheelhouse, "-o", str(output))
    assert (code, err) == (0, ""), err
    target = local_target().name
    assert f"Bundling {PLUGIN_ID} 0.1.0 for {target}\n" in out
    assert f"Wrote {shown(output)}: " in out
    assert f"  {target}: " in out

    entries = members(output)
    names = [member.name for member in entries]
    assert names == sorted(names)
    inside = [name[len(PLUGIN_ID) + 1 :] for name in names[1:]]
    assert names[0] == PLUGIN_ID and all(n.startswith(f"{PLUGIN_ID}/") for n in names[1:])
    plugin_part = [name for name in inside if not name.startswith("wheels")]
    assert plugin_part == [
        "README.md",
        "SHA256SUMS",
        "bin",
        "bin/tool.sh",
        "data",
        "data/empty",
        "data/words.txt",
        "helpers",
        "helpers/__init__.py",
        "helpers/tests",
        "helpers/tests/data.txt",
        "plugin.json",
        "plugin.py",
        "requirements-dev.txt",
        "requirements.txt",
    ]
    wheels = [name for name in inside if name.startswith("wheels")]
    assert wheels[:2] == ["wheels", f"wheels/{target}"]
    shipped = {name.rpartition("/")[2] for name in wheels[2:]}
    assert shipped <= set(os.listdir(wheelhouse))
    assert {"mattermost-plugin-sdk", "grpcio", "protobuf", "cryptography"} <= {
        normalize(name.split("-")[0]) for name in shipped
    }

    for member in entries:
        assert member.type in (tarfile.DIRTYPE, tarfile.REGTYPE), member.name
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
        assert member.mtime == DEFAULT_EPOCH
        executable = member.isdir() or member.name.endswith("/bin/tool.sh")
        assert member.mode == (0o755 if executable else 0o644), member.name

    sums = read(output, "SHA256SUMS").decode()
    lines = sums.splitlines()
    assert lines == sorted(lines, key=lambda line: line.split("  ", 1)[1])
    listed: dict[str, str] = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = [name for member, name in zip(entries[1:], inside) if member.isfile()]
    assert sorted(listed) == sorted(name for name in files if name != "SHA256SUMS")
    for name, digest in listed.items():
        assert hashlib.sha256(read(output, name)).hexdigest() == digest, name

    source = json.loads((plugin / "plugin.json").read_text())
    text = read(output, "plugin.json").decode()
    bundled = json.loads(text)
    assert bundled["server"]["python"].pop("targets") == [target]
    assert bundled == source
    assert list(bundled) == list(source)
    assert text.endswith("}\n") and text.startswith('{\n  "id": ')

    header = output.read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"
    assert header[3] & 0x08 == 0, "no file name in the gzip header"
    assert header[4:8] == b"\0\0\0\0", "no time in the gzip header"

    code, out, err = call(capsys, "check", str(output))
    assert (code, err) == (0, ""), out
    assert out.startswith(f"ok: {PLUGIN_ID} 0.1.0 bundle, ")
    assert f"for {target} (" in out


def test_bundling_twice_gives_the_same_bytes(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    wheelhouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(plugin)  # the default output lands in the plugin, and is left out
    code, _, err = bundle(capsys, plugin, wheelhouse)
    assert code == 0, err
    first = (plugin / BUNDLE_NAME).read_bytes()
    os.utime(plugin / "plugin.py", (1_000_000_000, 1_000_000_000))
    (plugin / "README.md").chmod(0o600)
    code, _, err = bundle(capsys, plugin, wheelhouse, "-o", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / BUNDLE_NAME).read_bytes() == first

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    code, _, err = bundle(capsys, plugin, wheelhouse, "-o", str(tmp_path / "later.tar.gz"))
    assert code == 0, err
    assert {member.mtime for member in members(tmp_path / "later.tar.gz")} == {1700000000}

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    code, _, err = bundle(capsys, plugin, wheelhouse, "-o", str(tmp_path / "x.tar.gz"))
    assert code == 1
    assert "SOURCE_DATE_EPOCH='yesterday' is not a number of seconds" in err


@pytest.mark.parametrize(
    ("link", "to"),
    [("link.py", "plugin.py"), ("data/words.txt", "../plugin.py"), ("assets", ".")],
    ids=["file", "nested", "directory"],
)
def test_a_symbolic_link_is_refused(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    fakes: Path,
    tmp_path: Path,
    link: str,
    to: str,
) -> None:
    (plugin / link).parent.mkdir(exist_ok=True)
    (plugin / link).symlink_to(to)
    code, _, err = bundle(capsys, plugin, fakes, "-o", str(tmp_path / "b.tar.gz"))
    assert code == 1
    assert one_line(err) == (
        f"mattermost-plugin bundle: {plugin}/{link} is a symbolic link, which Mattermost "
        "drops when it extracts a bundle; put the file itself there, or move the link out "
        "of the plugin directory"
    )
    assert not (tmp_path / "b.tar.gz").exists()


def test_a_fifo_is_refused(
    capsys: pytest.CaptureFixture[str], plugin: Path, fakes: Path, tmp_path: Path
) -> None:
    os.mkfifo(plugin / "pipe")
    code, _, err = bundle(capsys, plugin, fakes, "-o", str(tmp_path / "b.tar.gz"))
    assert code == 1
    assert one_line(err).endswith("pipe is a FIFO; a bundle holds regular files only: remove it")


def test_a_file_that_plugin_json_names_ships_even_where_the_rules_leave_it_out(
    capsys: pytest.CaptureFixture[str], plugin: Path, fakes: Path, tmp_path: Path
) -> None:
    manifest = json.loads((plugin / "plugin.json").read_text())
    manifest["icon_path"] = ".assets/icon.svg"
    manifest["server"]["executables"] = {"linux-amd64": "dist/bridge-linux-amd64"}
    (plugin / "plugin.json").write_text(json.dumps(manifest, indent=2))
    (plugin / ".assets").mkdir()
    (plugin / ".assets" / "icon.svg").write_text("<svg/>")
    (plugin / ".assets" / "other.svg").write_text("<svg/>")
    (plugin / "dist").mkdir()
    (plugin / "dist" / "bridge-linux-amd64").write_text("#!/bin/sh\n")
    (plugin / "dist" / "bridge-linux-amd64").chmod(0o755)
    output = tmp_path / "b.tar.gz"
    code, _, err = bundle(capsys, plugin, fakes, "-o", str(output))
    assert code == 0, err
    modes = {m.name[len(PLUGIN_ID) + 1 :]: m.mode for m in members(output)}
    assert modes[".assets/icon.svg"] == 0o644
    assert modes["dist/bridge-linux-amd64"] == 0o755
    assert ".assets/other.svg" not in modes
    assert json.loads(read(output, "plugin.json"))["server"]["executables"] == {
        "linux-amd64": "dist/bridge-linux-amd64"
    }


# -- the wheels ----------------------------------------------------------------


def test_each_target_gets_the_dependencies_of_its_own_markers(
    capsys: pytest.CaptureFixture[str], plugin: Path, fakes: Path, tmp_path: Path
) -> None:
    """pip is given the target's marker environment, not the one of the Python running it."""
    (plugin / "requirements.txt").write_text("mattermost-plugin-sdk\nmarkerdep\n")
    output = tmp_path / "b.tar.gz"
    code, out, err = bundle(
        capsys,
        plugin,
        fakes,
        *("--platform", "macos-arm64", "--platform", "linux-aarch64"),
        *("--python", "3.9", "--python", "3.12", "-o", str(output)),
    )
    assert (code, err) == (0, ""), err
    base = {"mattermost-plugin-sdk", "markerdep"}
    assert wheels_of(output) == {
        "linux-aarch64-cp312": base | {"armonly"},
        "linux-aarch64-cp39": base | {"armonly", "oldpyonly"},
        "macos-arm64-cp312": base | {"darwinonly"},
        "macos-arm64-cp39": base | {"darwinonly", "oldpyonly"},
    }
    assert json.loads(read(output, "plugin.json"))["server"]["python"]["targets"] == [
        "linux-aarch64-cp312",
        "linux-aarch64-cp39",
        "macos-arm64-cp312",
        "macos-arm64-cp39",
    ]
    for target in ("linux-aarch64-cp312", "macos-arm64-cp39"):
        assert f"  {target}: " in out
    code, out, err = call(capsys, "check", str(output))
    assert code == 0, out


@pytest.mark.parametrize(
    ("requirement", "platform", "package"),
    [
        ("nativeonly", "macos-arm64", "nativeonly"),
        ("nativeonly", "linux-aarch64", "nativeonly"),
        ("newglibc", "linux-x86_64", "newglibc"),  # needs glibc 2.34; targets promise 2.28
        ("no-such-package==1.0", "linux-x86_64", "no-such-package (no-such-package==1.0)"),
    ],
)
def test_a_requirement_without_a_wheel_for_a_target_fails_naming_both(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    fakes: Path,
    tmp_path: Path,
    requirement: str,
    platform: str,
    package: str,
) -> None:
    (plugin / "requirements.txt").write_text(f"{requirement}\n")
    output = tmp_path / "b.tar.gz"
    code, _, err = bundle(capsys, plugin, fakes, "--platform", platform, "-o", str(output))
    assert code == 1
    target = f"{platform}-{CP}"
    assert one_line(err).startswith(
        f"mattermost-plugin bundle: no wheel of {package} for {target}: pip found none for "
        f"{platform} and CPython {PYTHON} in --find-links; "
    )
    assert not output.exists()


def test_a_wheel_for_the_target_is_taken(
    capsys: pytest.CaptureFixture[str], plugin: Path, fakes: Path, tmp_path: Path
) -> None:
    (plugin / "requirements.txt").write_text("nativeonly\n")
    output = tmp_path / "b.tar.gz"
    code, _, err = bundle(capsys, plugin, fakes, "--platform", "linux-x86_64", "-o", str(output))
    assert code == 0, err
    assert wheels_of(output) == {f"linux-x86_64-{CP}": {"mattermost-plugin-sdk", "nativeonly"}}


def test_the_real_wheelhouse_lacks_the_wheels_of_another_platform(
    capsys: pytest.CaptureFixture[str], plugin: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    other = "macos-arm64" if local_target().system == "linux" else "linux-aarch64"
    code, _, err = bundle(
        capsys, plugin, wheelhouse, "--platform", other, "-o", str(tmp_path / "b.tar.gz")
    )
    assert code == 1
    match = re.match(r"mattermost-plugin bundle: no wheel of (\S+) .*for (\S+): ", one_line(err))
    assert match, err
    assert normalize(match[1]) in {"grpcio", "protobuf", "cryptography", "cffi"}
    assert match[2] == f"{other}-{CP}"


def test_without_the_sdk_wheel_the_error_says_to_give_it(
    capsys: pytest.CaptureFixture[str], plugin: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    code, _, err = bundle(capsys, plugin, empty, "-o", str(tmp_path / "b.tar.gz"))
    assert code == 1
    line = one_line(err)
    assert line.startswith(
        "mattermost-plugin bundle: pip found no mattermost-plugin-sdk wheel for "
        f"{local_target()} (mattermost-plugin-sdk>="
    )
    assert "the SDK is not on PyPI yet; give --find-links DIR, a directory with its wheel" in line


def test_requirements_names_another_file(
    capsys: pytest.CaptureFixture[str], plugin: Path, fakes: Path, tmp_path: Path
) -> None:
    other = tmp_path / "prod.txt"
    other.write_text("oldpyonly\n")
    output = tmp_path / "b.tar.gz"
    code, _, err = bundle(capsys, plugin, fakes, "--requirements", str(other), "-o", str(output))
    assert code == 0, err
    (house,) = wheels_of(output).values()
    assert house == {"mattermost-plugin-sdk", "oldpyonly"}
    code, _, err = bundle(capsys, plugin, fakes, "--requirements", str(tmp_path / "none.txt"))
    assert code == 1
    assert one_line(err).endswith("none.txt: no such file")


# -- the size --------------------------------------------------------------------


def test_a_bundle_over_the_limit_is_written_with_a_warning(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    fakes: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_bundle, "BUNDLE_SIZE_LIMIT", 1024)
    (plugin / "data.bin").write_bytes(os.urandom(4096))
    output = tmp_path / "big.tar.gz"
    code, out, err = bundle(capsys, plugin, fakes, "-o", str(output))
    assert code == 0
    assert output.exists()
    size = _bundle.format_size(output.stat().st_size)
    assert f"Wrote {shown(output)}: {size}\n" in out
    assert "  plugin files: 5 files, " in out
    assert one_line(err) == (
        f"mattermost-plugin bundle: warning: {shown(output)} is {size}, over the "
        "1.0 KiB that Mattermost takes by default; ship fewer targets per bundle: one "
        "--platform and one --python each"
    )
    code, out, _ = call(capsys, "check", str(output))
    assert code == 0
    assert f"{output}: warning: is {size}, over the 1.0 KiB that Mattermost takes" in out
    assert out.splitlines()[-1].endswith("(1 warning)")


def test_the_size_limit_is_mattermosts() -> None:
    assert _bundle.BUNDLE_SIZE_LIMIT == 50 * 1024 * 1024


# -- the command line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "windows-x86_64"], "argument --platform: invalid choice: 'windows-x86_64'"),
        (["--python", "3.8"], "'3.8' is not a Python version that bundles target"),
        (["--python", "three"], "'three' is not a Python version that bundles target"),
        (["--no-index"], "--no-index needs --find-links DIR"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], plugin: Path, args: list[str], message: str
) -> None:
    code, _, err = call(capsys, "bundle", str(plugin), *args)
    assert code == 2
    assert err.startswith("usage: mattermost-plugin bundle ")
    assert message in err


def test_failures_exit_1_in_one_line(
    capsys: pytest.CaptureFixture[str], plugin: Path, tmp_path: Path
) -> None:
    code, _, err = call(capsys, "bundle", str(tmp_path / "nowhere"))
    assert (code, err) == (1, f"mattermost-plugin bundle: {tmp_path / 'nowhere'} does not exist\n")
    code, _, err = call(capsys, "bundle", str(tmp_path))
    assert (code, one_line(err)) == (
        1,
        f"mattermost-plugin bundle: {tmp_path} has no plugin.json; is it a plugin directory?",
    )
    code, _, err = call(capsys, "bundle", str(plugin), "--find-links", str(tmp_path / "none"))
    assert (code, one_line(err)) == (
        1,
        f"mattermost-plugin bundle: --find-links {tmp_path / 'none'}: no such directory",
    )


def test_a_manifest_with_errors_is_not_bundled(
    capsys: pytest.CaptureFixture[str], plugin: Path, fakes: Path
) -> None:
    manifest = json.loads((plugin / "plugin.json").read_text())
    manifest["version"] = "1.0"
    (plugin / "plugin.json").write_text(json.dumps(manifest))
    code, _, err = bundle(capsys, plugin, fakes)
    assert code == 1
    assert err.splitlines() == [
        f'{plugin}/plugin.json: version "1.0" is not a semantic version; write all three '
        'numbers: "1.0.0"',
        f"mattermost-plugin bundle: {plugin}/plugin.json has 1 error (above); fix it first: "
        f"mattermost-plugin check {plugin}",
    ]


@pytest.mark.parametrize(
    ("server", "version", "message"),
    [
        (
            {"executable": "plugin.py"},
            "0.1.0",
            "plugin.json has no server.python: bundle makes bundles of Python plugins",
        ),
        (
            {"python": {"entry": "plugin.py"}},
            None,
            "plugin.json has no version, which a bundle needs",
        ),
    ],
    ids=["go-plugin", "no-version"],
)
def test_only_a_python_plugin_with_a_version_is_bundled(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    fakes: Path,
    server: dict[str, Any],
    version: str | None,
    message: str,
) -> None:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["server"] = server
        if version is None:
            del manifest["version"]

    edit_manifest(plugin, edit)
    code, _, err = bundle(capsys, plugin, fakes)
    assert code == 1
    assert err.splitlines()[-1].startswith(f"mattermost-plugin bundle: {plugin}/{message}")


def test_help_names_every_flag() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin", "bundle", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    assert result.returncode == 0
    usage = " ".join(result.stdout.split())
    for flag in ("--platform P", "--python X.Y", "-o FILE", "--find-links DIR", "--no-index"):
        assert f"[{flag}]" in usage
    assert "[--requirements FILE] DIR" in usage


# -- through PyPI ------------------------------------------------------------------


def test_two_targets_through_pypi_network(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """NETWORK: this machine's target and another platform's, with the wheels from PyPI.

    The SDK's wheel comes from --find-links, as it must while the SDK is not
    on PyPI; everything else from the index.
    """
    if os.environ.get("MATTERMOST_TESTS_OFFLINE"):
        pytest.skip("MATTERMOST_TESTS_OFFLINE is set: this test needs PyPI")
    here = local_target()
    other = "linux-aarch64" if here.platform != "linux-aarch64" else "linux-x86_64"
    links = tmp_path / "sdk"
    links.mkdir()
    shutil.copy(sdk_wheel(tmp_path_factory), links)
    output = tmp_path / "two.tar.gz"
    code, out, err = call(
        capsys,
        "bundle",
        str(plugin),
        *("--find-links", str(links), "--platform", here.platform, "--platform", other),
        *("-o", str(output)),
    )
    assert (code, err) == (0, ""), err
    names = sorted([here.name, f"{other}-{CP}"])
    assert json.loads(read(output, "plugin.json"))["server"]["python"]["targets"] == names
    houses = wheels_of(output)
    assert sorted(houses) == names
    for house in houses.values():
        assert {"mattermost-plugin-sdk", "grpcio", "protobuf", "cryptography"} <= house
    machine = other.partition("-")[2]
    grpcio = [
        m.name
        for m in members(output)
        if f"/wheels/{other}-{CP}/grpcio-" in m.name and m.name.endswith(".whl")
    ]
    assert len(grpcio) == 1 and grpcio[0].endswith(f"_{machine}.whl"), grpcio
    code, out, _ = call(capsys, "check", str(output))
    assert code == 0, out


# -- check: targets and executables ------------------------------------------------


def edit_manifest(plugin: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    manifest = json.loads((plugin / "plugin.json").read_text())
    edit(manifest)
    (plugin / "plugin.json").write_text(json.dumps(manifest, indent=2))


def set_python(**values: Any) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["server"]["python"].update(values)

    return edit


def set_server(**values: Any) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["server"].update(values)

    return edit


def test_check_accepts_targets_and_executables_beside_python(
    capsys: pytest.CaptureFixture[str], plugin: Path
) -> None:
    edit_manifest(plugin, set_python(targets=["linux-x86_64-cp311", "macos-arm64-cp39"]))
    executables = {name: f"server/dist/plugin-{name}" for name in ("linux-amd64", "darwin-arm64")}
    edit_manifest(plugin, set_server(executables=executables, executable="server/bridge"))
    for path in [*executables.values(), "server/bridge"]:
        (plugin / path).parent.mkdir(parents=True, exist_ok=True)
        (plugin / path).write_text("")
    code, out, err = call(capsys, "check", str(plugin))
    assert (code, err) == (0, "")
    assert out.startswith(f"ok: {PLUGIN_ID} 0.1.0: HelloPlugin handles ")
    assert "warning" not in out


BAD_TARGETS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "go-platform",
        set_python(targets=["linux-amd64-cp311"]),
        'server.python.targets[0] "linux-amd64-cp311" is not a target; write "linux-x86_64-cp311"',
    ),
    (
        "version-not-cp",
        set_python(targets=["macos-arm64-3.12"]),
        'server.python.targets[0] "macos-arm64-3.12" is not a target; write "macos-arm64-cp312"',
    ),
    (
        "old-python",
        set_python(targets=["linux-x86_64-cp38"]),
        'server.python.targets[0] "linux-x86_64-cp38" targets Python 3.8, older than the SDK '
        'supports; target CPython 3.9 or newer, such as "linux-x86_64-cp311"',
    ),
    (
        "unknown-platform",
        set_python(targets=["windows-x86_64-cp311"]),
        'server.python.targets[0] "windows-x86_64-cp311" has the platform "windows-x86_64", '
        "which bundles do not target; write <platform>-cp3<minor>",
    ),
    (
        "gibberish",
        set_python(targets=["linux-x86_64-cp311", "fast"]),
        'server.python.targets[1] "fast" is not a target; write <platform>-cp3<minor>, such as '
        '"linux-x86_64-cp311", with a platform of linux-x86_64, linux-aarch64, macos-x86_64, '
        "macos-arm64 and CPython 3.9 or newer",
    ),
    (
        "twice",
        set_python(targets=["linux-x86_64-cp311", "linux-x86_64-cp311"]),
        'server.python.targets[1] "linux-x86_64-cp311" is listed twice; keep one',
    ),
    (
        "a-number",
        set_python(targets=[311]),
        "server.python.targets[0] is a number, not a string",
    ),
    (
        "null",
        set_python(targets=[None]),
        "server.python.targets[0] is null; remove it",
    ),
    (
        "not-a-list",
        set_python(targets="linux-x86_64-cp311"),
        "server.python.targets is a string, not a list",
    ),
    (
        "executables-key",
        set_server(executables={"linux-x86_64": "plugin.py"}),
        'server.executables has the key "linux-x86_64", which Mattermost never looks up '
        '(it uses Go\'s GOOS-GOARCH); write "linux-amd64"',
    ),
    (
        "executables-key-gibberish",
        set_server(executables={"server": "plugin.py"}),
        'server.executables has the key "server", which is not a GOOS-GOARCH pair; use one of '
        "linux-amd64, linux-arm64, darwin-amd64, darwin-arm64, windows-amd64",
    ),
    (
        "executables-absolute",
        set_server(executables={"linux-amd64": "/usr/bin/true"}),
        'server.executables.linux-amd64 "/usr/bin/true" is not inside the plugin directory',
    ),
    (
        "executables-outside",
        set_server(executables={"darwin-arm64": "../plugin"}),
        'server.executables.darwin-arm64 "../plugin" is not inside the plugin directory',
    ),
    (
        "executables-empty",
        set_server(executables={"darwin-arm64": ""}),
        "server.executables.darwin-arm64 is empty; give the path of the executable",
    ),
    (
        "executables-not-a-map",
        set_server(executables=["plugin"]),
        "server.executables is a list; make it an object of strings",
    ),
    (
        "executable-outside",
        set_server(executable="../bridge"),
        'server.executable "../bridge" is not inside the plugin directory',
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [pytest.param(edit, line, id=name) for name, edit, line in BAD_TARGETS]
)
def test_check_refuses_bad_targets_and_executables(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    monkeypatch: pytest.MonkeyPatch,
    edit: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    edit_manifest(plugin, edit)
    monkeypatch.chdir(plugin)
    code, out, err = call(capsys, "check", ".")
    assert (code, err) == (1, ""), out
    errors = [line for line in out.splitlines()[:-1] if ": warning: " not in line]
    assert len(errors) == 1, out
    assert errors[0].startswith(f"plugin.json: {expected}"), out


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            set_python(targets=[]),
            "server.python.targets is empty; remove it: mattermost-plugin bundle fills it in",
        ),
        (
            set_server(executables={"freebsd-amd64": "plugin.py"}),
            'server.executables has the key "freebsd-amd64", a platform that Mattermost is not '
            "released for; Mattermost runs the executable of its own platform: linux-amd64, ",
        ),
        (
            set_server(executables={"linux-arm64": "server/dist/plugin"}),
            'server.executables.linux-arm64 "server/dist/plugin" does not exist; build it for '
            "that platform, or fix the path",
        ),
        (
            set_server(executable="bridge"),
            'server.executable "bridge" does not exist; build it, or fix the path',
        ),
    ],
    ids=["empty-targets", "unknown-go-platform", "missing-executable", "missing-bridge"],
)
def test_check_warns_of_targets_and_executables(
    capsys: pytest.CaptureFixture[str],
    plugin: Path,
    monkeypatch: pytest.MonkeyPatch,
    edit: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    edit_manifest(plugin, edit)
    monkeypatch.chdir(plugin)
    code, out, _ = call(capsys, "check", ".")
    assert code == 0, out
    assert out.splitlines()[0].startswith(f"plugin.json: warning: {expected}"), out


def test_a_go_plugin_still_needs_its_executable(
    capsys: pytest.CaptureFixture[str], plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def go_only(manifest: dict[str, Any]) -> None:
        manifest["server"] = {"executable": "plugin-linux-amd64"}

    edit_manifest(plugin, go_only)
    monkeypatch.chdir(plugin)
    code, out, _ = call(capsys, "check", ".")
    assert code == 1
    assert out.splitlines()[0] == (
        'plugin.json: server.executable "plugin-linux-amd64" does not exist; build it, or fix '
        "the path"
    )


# -- check: bundles --------------------------------------------------------------


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new plugin's bundle with the fake SDK's wheel: small, and quick to take apart."""
    root = tmp_path_factory.mktemp("small")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in PIP_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", out)
        assert main(["new", "hello", "--dir", str(root)]) == 0
        links = str(write_fakes(root / "fakes"))
        output = root / "small.tar.gz"
        args = ["bundle", str(root / "hello"), "--find-links", links, "--no-index"]
        code = main([*args, "-o", str(output)])
    assert code == 0, out.getvalue()
    return output


Entries = list[tuple[tarfile.TarInfo, bytes]]


def repack(source: Path, destination: Path, edit: Callable[[Entries], Entries]) -> Path:
    """Write ``destination``: the entries of ``source`` as ``edit`` changes them."""
    entries: Entries = []
    with tarfile.open(source, "r:gz") as archive:
        for member in archive.getmembers():
            file = archive.extractfile(member) if member.isfile() else None
            entries.append((member, file.read() if file else b""))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member, data in edit(entries):
            member.size = len(data) if member.isfile() else 0
            archive.addfile(member, io.BytesIO(data) if member.isfile() else None)
    destination.write_bytes(gzip.compress(buffer.getvalue()))
    return destination


def resum(entries: Entries) -> Entries:
    """The entries with SHA256SUMS written for their files."""
    top = entries[0][0].name
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {member.name[len(top) + 1 :]}\n"
        for member, data in sorted(entries, key=lambda e: e[0].name)
        if member.isfile() and member.name != f"{top}/SHA256SUMS"
    ).encode()
    return [(m, sums if m.name == f"{top}/SHA256SUMS" else d) for m, d in entries]


def replace(name: str, data: bytes) -> Callable[[Entries], Entries]:
    def edit(entries: Entries) -> Entries:
        return [(m, data if m.name == f"{PLUGIN_ID}/{name}" else d) for m, d in entries]

    return edit


def drop(prefix: str) -> Callable[[Entries], Entries]:
    def edit(entries: Entries) -> Entries:
        return [(m, d) for m, d in entries if not m.name.startswith(f"{PLUGIN_ID}/{prefix}")]

    return edit


def add(
    name: str,
    kind: bytes = tarfile.REGTYPE,
    data: bytes = b"",
    link: str = "",
    top: str = PLUGIN_ID,
) -> Callable[[Entries], Entries]:
    def edit(entries: Entries) -> Entries:
        member = tarfile.TarInfo(f"{top}/{name}")
        member.type = kind
        member.linkname = link
        return [*entries, (member, data)]

    return edit


def rename_top(entries: Entries) -> Entries:
    for member, _ in entries:
        member.name = "com.example.other" + member.name[len(PLUGIN_ID) :]
    return entries


def then(*edits: Callable[[Entries], Entries]) -> Callable[[Entries], Entries]:
    def edit(entries: Entries) -> Entries:
        for one in edits:
            entries = one(entries)
        return entries

    return edit


def with_targets(targets: list[str]) -> Callable[[Entries], Entries]:
    def edit(entries: Entries) -> Entries:
        out = []
        for member, data in entries:
            if member.name == f"{PLUGIN_ID}/plugin.json":
                manifest = json.loads(data)
                manifest["server"]["python"]["targets"] = targets
                data = json.dumps(manifest).encode()
            out.append((member, data))
        return out

    return edit


HOUSE = f"wheels/{Target(local_platform() or 'linux-x86_64', sys.version_info[1])}"

BAD_BUNDLES: list[tuple[str, Callable[[Entries], Entries], str]] = [
    (
        "changed-file",
        replace("plugin.py", b"print('changed')\n"),
        f"{PLUGIN_ID}/plugin.py: does not have the SHA-256 that SHA256SUMS gives",
    ),
    (
        "no-sums",
        drop("SHA256SUMS"),
        f"{PLUGIN_ID}/SHA256SUMS: is missing",
    ),
    (
        "unlisted-file",
        then(add("extra.txt", data=b"x")),
        f"{PLUGIN_ID}/extra.txt: is not in SHA256SUMS",
    ),
    (
        "symlink",
        then(add("link.py", tarfile.SYMTYPE, link="plugin.py")),
        f"{PLUGIN_ID}/link.py: is a symbolic link, which Mattermost drops",
    ),
    (
        "hard-link",
        then(add("hard.py", tarfile.LNKTYPE, link=f"{PLUGIN_ID}/plugin.py")),
        f"{PLUGIN_ID}/hard.py: is a hard link, which Mattermost drops",
    ),
    (
        "leaves",
        then(add("../evil.txt", data=b"x")),
        f"{PLUGIN_ID}/../evil.txt: the path is absolute or leaves the bundle",
    ),
    (
        "no-wheelhouse",
        then(drop("wheels/"), resum),
        f"{PLUGIN_ID}/{HOUSE}: is missing or empty, but {HOUSE[7:]} is in server.python.targets",
    ),
    (
        "stray-wheelhouse",
        then(add("wheels/macos-arm64-cp312/x-1.0-py3-none-any.whl", data=b"x"), resum),
        f"{PLUGIN_ID}/wheels/macos-arm64-cp312: is a wheelhouse of no target",
    ),
    (
        "wrong-wheel",
        then(add(f"{HOUSE}/x-1.0-cp312-cp312-macosx_11_0_arm64.whl", data=b"x"), resum),
        f"{PLUGIN_ID}/{HOUSE}/x-1.0-cp312-cp312-macosx_11_0_arm64.whl: does not install on "
        f"{HOUSE[7:]}",
    ),
    (
        "no-sdk",
        then(drop(f"{HOUSE}/mattermost_plugin_sdk"), add(f"{HOUSE}/x-1.0-py3-none-any.whl"), resum),
        f"{PLUGIN_ID}/{HOUSE}: has no mattermost-plugin-sdk wheel",
    ),
    (
        "no-targets",
        then(with_targets([]), resum),
        f"{PLUGIN_ID}/plugin.json: server.python.targets is missing or empty",
    ),
    (
        "bad-target",
        then(with_targets(["linux-amd64-cp311"]), resum),
        f'{PLUGIN_ID}/plugin.json: server.python.targets[0] "linux-amd64-cp311" is not a target',
    ),
    (
        "top-not-the-id",
        then(rename_top),
        f'com.example.other/plugin.json: the id is "{PLUGIN_ID}", but the top-level directory '
        'is "com.example.other"',
    ),
    (
        "two-tops",
        then(add("x.txt", data=b"x", top="other")),
        f": the archive holds {PLUGIN_ID}, other at its top, not one directory",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [pytest.param(e, line, id=name) for name, e, line in BAD_BUNDLES]
)
def test_check_refuses_a_bad_bundle(
    capsys: pytest.CaptureFixture[str],
    small_bundle: Path,
    tmp_path: Path,
    edit: Callable[[Entries], Entries],
    expected: str,
) -> None:
    bad = repack(small_bundle, tmp_path / "bad.tar.gz", edit)
    code, out, err = call(capsys, "check", str(bad))
    assert (code, err) == (1, ""), out
    assert (f"{bad}{expected}" if expected.startswith(":") else f"{bad}/{expected}") in out
    assert out.splitlines()[-1].endswith(": the bundle cannot be installed as it is")


def test_check_of_a_repacked_good_bundle_passes(
    capsys: pytest.CaptureFixture[str], small_bundle: Path, tmp_path: Path
) -> None:
    same = repack(small_bundle, tmp_path / "same.tar.gz", lambda entries: entries)
    code, out, _ = call(capsys, "check", str(same))
    assert code == 0, out
    assert out.startswith(f"ok: {PLUGIN_ID} 0.1.0 bundle, ")


def test_check_of_a_file_that_is_no_archive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake = tmp_path / "fake.tar.gz"
    fake.write_bytes(b"not gzip at all")
    code, out, _ = call(capsys, "check", str(fake))
    assert code == 1
    assert out.startswith(f"{fake}: is not a readable .tar.gz (")
    other = tmp_path / "notes.txt"
    other.write_text("")
    code, _, err = call(capsys, "check", str(other))
    assert (code, err) == (
        1,
        f"mattermost-plugin check: {other} is a file; give the plugin directory, or a bundle "
        "(.tar.gz)\n",
    )


def test_wheel_tags_fit_their_targets() -> None:
    linux = Target("linux-x86_64", 11)
    mac = Target("macos-arm64", 9)
    assert wheel_fits("a-1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", linux)
    assert wheel_fits("a-1-cp39-abi3-manylinux_2_28_x86_64.whl", linux)
    assert not wheel_fits("a-1-cp39-abi3-manylinux_2_34_x86_64.whl", linux)
    assert not wheel_fits("a-1-cp312-cp312-manylinux_2_17_x86_64.whl", linux)
    assert not wheel_fits("a-1-cp311-cp311-manylinux_2_17_aarch64.whl", linux)
    assert wheel_fits("a-1-py3-none-any.whl", linux) and wheel_fits("a-1-py2.py3-none-any.whl", mac)
    assert wheel_fits("a-1-cp39-cp39-macosx_11_0_universal2.whl", mac)
    assert wheel_fits("a-1-cp39-abi3-macosx_10_9_universal2.whl", mac)
    assert not wheel_fits("a-1-cp39-cp39-macosx_14_0_arm64.whl", mac)
    assert not wheel_fits("a-1-cp39-cp39-macosx_10_9_x86_64.whl", mac)
    assert not wheel_fits("a-1-cp39-cp39-win_amd64.whl", mac)


def _iter_sizes() -> Iterator[tuple[int, str]]:
    yield 0, "0 B"
    yield 1023, "1023 B"
    yield 1024, "1.0 KiB"
    yield 50 * 1024 * 1024, "50.0 MiB"


@pytest.mark.parametrize(("size", "text"), list(_iter_sizes()))
def test_sizes_read_as_people_write_them(size: int, text: str) -> None:
    assert _bundle.format_size(size) == text
