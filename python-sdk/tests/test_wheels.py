"""The SDK from its wheels alone: a fresh virtualenv, no Go, no checkout.

A plugin author installs ``mattermost-plugin-sdk[devserver]`` and runs a
plugin's tests with the test kit. This test does the same with the wheels
that this checkout builds: for Python 3.9 and 3.13 (the oldest and newest
supported), a new virtualenv gets the SDK's runtime dependencies (pinned and
hashed, from the lock), then the SDK and the dev server from the built
wheels only (``--no-index``), then pytest; the example plugin and its tests
are copied out of the checkout, and pytest runs them with no ``go`` on
``PATH``, no ``PYTHONPATH`` and no ``MATTERMOST_PLUGINAPI_SERVER``.

The wheels come from ``$SDK_DIST`` (`make wheels` writes them to dist/);
without it, the test builds the SDK wheel and this machine's dev server
wheel itself. The matrix does not run this module: it is the matrix of its
own.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

SDK = Path(os.path.abspath(__file__)).parent.parent
ROOT = SDK.parent
sys.path.insert(0, str(SDK / "scripts"))
sys.path.insert(0, str(ROOT / "tools" / "demo"))
from build_devserver_wheels import PLATFORMS, build  # noqa: E402
from build_wheel import build_wheel  # noqa: E402
from runtime_requirements import runtime  # noqa: E402

#: The Pythons that the wheels must work on: the oldest and newest supported.
PYTHONS = ["3.9", "3.13"]
#: A fresh venv's installs and the plugin's tests, per Python.
SUITE_TIMEOUT = 600


def this_platform() -> str:
    """The devserver platform name of this machine."""
    system = {"Linux": "linux", "Darwin": "macos"}[platform.system()]
    machine = {"amd64": "x86_64", "arm64": "arm64" if system == "macos" else "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    return f"{system}-{machine}"


def find_python(version: str) -> Path:
    """pythonX.Y on PATH, else in pyenv's versions; the test fails without it."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}") or ""]
    candidates += sorted(str(p) for p in root.glob(f"versions/{version}.*/bin/python{version}"))
    for candidate in candidates:
        # A pyenv shim exists for every version and fails for the inactive ones.
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return Path(candidate)
    pytest.fail(f"python{version} is needed for the wheels test and is not on this machine")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels: $SDK_DIST, or built here."""
    given = os.environ.get("SDK_DIST")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    build_wheel(out)
    build(out, [this_platform()], {})
    return out


def clean_env(venv: Path, home: Path) -> dict[str, str]:
    """An environment with the venv first, no Go, and nothing of this checkout."""
    path = [str(venv / "bin"), "/usr/bin", "/bin"]
    env = {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for keep in ("PIP_INDEX_URL", "PIP_CACHE_DIR", "TMPDIR"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    if "PIP_CACHE_DIR" not in env:  # the user's cache, so that PyPI is asked once
        env["PIP_CACHE_DIR"] = str(Path.home() / ".cache" / "pip")
    return env


def run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_devserver_wheels_are_platform_wheels(dist: Path) -> None:
    (wheel,) = dist.glob(f"mattermost_plugin_devserver-*{PLATFORMS[this_platform()].tags[0]}*.whl")
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("mattermost_plugin_devserver/bin/pluginapi-server")
        assert (info.external_attr >> 16) & 0o111, "the binary must be executable"
        wheel_meta = archive.read(
            next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
        ).decode()
    assert "Root-Is-Purelib: false" in wheel_meta
    assert f"Tag: py3-none-{PLATFORMS[this_platform()].tags[0]}" in wheel_meta


@pytest.mark.parametrize("version", PYTHONS)
def test_plugin_tests_run_from_the_wheels_alone(
    version: str, dist: Path, tmp_path: Path
) -> None:
    python = find_python(version)
    home = tmp_path / "home"
    home.mkdir()
    venv = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True, timeout=120)
    env = clean_env(venv, home)
    assert shutil.which("go", path=env["PATH"]) is None, "go must not be reachable"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]

    requirements = tmp_path / "runtime.txt"
    requirements.write_text(
        "\n".join(
            runtime(
                (SDK / "requirements.lock").read_text(), (SDK / "pyproject.toml").read_text()
            )
        )
        + "\n"
    )
    run([*pip, "--require-hashes", "-r", str(requirements)], env, tmp_path)
    run(
        [*pip, "--no-index", "--find-links", str(dist), "mattermost-plugin-sdk[devserver]"],
        env,
        tmp_path,
    )
    run([*pip, "-r", str(SDK / "tests" / "requirements-matrix.txt")], env, tmp_path)

    plugin = tmp_path / "hello_python"
    shutil.copytree(
        SDK / "examples" / "hello_python",
        plugin,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
    )
    where = run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import mattermost_plugin, mattermost_plugin_devserver as d; "
            "print(mattermost_plugin.__file__); print(d.binary_path())",
        ],
        env,
        plugin,
    )
    assert str(ROOT) not in where, where
    out = run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        env,
        plugin,
    )
    assert " passed" in out and "failed" not in out, out
