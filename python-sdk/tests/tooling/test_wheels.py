"""The SDK from its wheels alone: a fresh virtualenv, no Go, no checkout.

A plugin author installs ``mattermost-plugin-sdk[devserver]`` and runs a
plugin's tests with the test kit. This test does the same with the wheels
that this checkout builds: for Python 3.9 and 3.13 (the oldest and newest
supported), a new virtualenv gets the SDK's runtime dependencies (pinned and
hashed, from the lock), then the SDK and the dev server from the built
wheels only (``--no-index``), then pytest; the example plugin and its tests
are copied out of the checkout, and pytest runs them with no ``go`` on
``PATH``, no ``PYTHONPATH`` and no ``MATTERMOST_PLUGINAPI_SERVER``.

The wheels come from ``$SDK_DIST`` (`make wheels` writes them to dist/),
or under Bazel from the wheel targets that ``$SDK_DIST_FILES`` names;
without either, the test builds the SDK wheel and this machine's dev server
wheel itself. The matrix does not run this module: it is the matrix of its
own.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from mattermost_plugin._cli._bundle_targets import local_platform

SDK = Path(os.path.abspath(__file__)).parents[2]
ROOT = SDK.parent
sys.path.insert(0, str(SDK / "scripts"))
sys.path.insert(0, str(ROOT / "tools" / "demo"))
from runtime_requirements import runtime  # noqa: E402

from build_devserver_wheels import PLATFORMS, build  # noqa: E402
from build_wheel import build_wheel  # noqa: E402

#: The Pythons that the wheels must work on: the oldest and newest supported.
PYTHONS = ["3.9", "3.13"]
#: A fresh venv's installs and the plugin's tests, per Python.
SUITE_TIMEOUT = 600


def this_platform() -> str:
    """The devserver platform name of this machine, as bundles name it too."""
    name = local_platform()
    assert name is not None, "this machine is none of the devserver's platforms"
    return name


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
    """The wheels: $SDK_DIST; Bazel's, named in $SDK_DIST_FILES; or built here."""
    given = os.environ.get("SDK_DIST")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    if os.environ.get("SDK_DIST_FILES"):  # a py_test: rlocation paths of the wheel targets
        from runfiles import Runfiles

        files = Runfiles.Create()
        assert files is not None
        for name in os.environ["SDK_DIST_FILES"].split():
            shutil.copy(str(files.Rlocation(name)), out)
        return out
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


def quickstart() -> list[str]:
    """The commands of the README's quick start, as written."""
    readme = (ROOT / "README.md").read_text()
    marker = readme.index("<!-- quickstart:")
    start = readme.index("```sh\n", marker) + len("```sh\n")
    block = readme[start : readme.index("\n```", start)]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def constraints(path: Path) -> Path:
    """The lock's runtime pins and the matrix's test tools, as a pip constraints file."""
    entries = runtime((SDK / "requirements.lock").read_text(), (SDK / "pyproject.toml").read_text())
    pins = [re.match(r"\S+==[^\s\\;]+", entry).group(0) for entry in entries]  # type: ignore[union-attr]
    matrix = (SDK / "tests" / "requirements-matrix.txt").read_text().splitlines()
    tools = [line for line in matrix if line and not line.startswith("#")]
    path.write_text("\n".join(pins + tools) + "\n")
    return path


@pytest.mark.parametrize("version", PYTHONS)
def test_the_quick_start_runs_as_written_from_the_wheels_alone(
    version: str, dist: Path, tmp_path: Path
) -> None:
    """The README's quick start, line by line, then the example plugin's tests.

    The commands run in one shell, in a new directory whose ./dist holds
    the wheels, with ``python3`` this version and no ``go``; the last one,
    ``mattermost-plugin dev . --watch``, runs until an edit of plugin.py has
    taken effect, and then gets Ctrl-C.
    """
    python = find_python(version)
    home = tmp_path / "home"
    shims = tmp_path / "shims"
    for directory in (home, shims):
        directory.mkdir()
    (shims / "python3").symlink_to(python)
    work = tmp_path / "work"
    shutil.copytree(dist, work / "dist")
    env = clean_env(work / ".venv", home)
    env["PATH"] = os.pathsep.join([str(shims), env["PATH"]])
    env["PIP_CONSTRAINT"] = str(constraints(tmp_path / "constraints.txt"))
    assert shutil.which("go", path=env["PATH"]) is None, "go must not be reachable"

    *setup, dev = quickstart()
    assert dev.startswith("mattermost-plugin dev"), dev
    script = "set -euo pipefail\n" + "\n".join(setup) + "\n" + 'exec bash -c "$0"'
    # The last line runs in the same shell state: same venv, same directory.
    dev_command = dev.replace("mattermost-plugin dev", "exec mattermost-plugin dev", 1)
    process = subprocess.Popen(
        ["bash", "-c", script, dev_command],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        url = ""
        deadline = time.monotonic() + SUITE_TIMEOUT
        for line in process.stdout:
            output.append(line)
            if line.strip().startswith("HTTP "):
                url = line.split()[-1]
                break
            assert time.monotonic() < deadline, "".join(output)
        assert url, "".join(output)
        text = "".join(output)
        assert "passed" in text and "failed" not in text, text
        hello = f"{url}/plugins/com.example.hello/hello"
        assert fetch(hello) == "Hello from hello!\n"
        plugin = work / "hello" / "plugin.py"
        source = plugin.read_text()
        assert ' from hello!\\n"' in source, source
        plugin.write_text(source.replace(' from hello!\\n"', ' from edited hello!\\n"'))
        deadline = time.monotonic() + 30
        while fetch(hello) != "Hello from edited hello!\n":
            assert time.monotonic() < deadline, "the edit took no effect"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
        assert process.returncode == 0, "".join(output)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    # The example plugin's own tests, out of the checkout, in the same venv.
    plugin_dir = tmp_path / "hello_python"
    shutil.copytree(
        SDK / "examples" / "hello_python",
        plugin_dir,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
    )
    venv_python = str(work / ".venv" / "bin" / "python")
    where = run(
        [
            venv_python,
            "-c",
            "import mattermost_plugin, mattermost_plugin_devserver as d; "
            "print(mattermost_plugin.__file__); print(d.binary_path())",
        ],
        env,
        plugin_dir,
    )
    assert str(ROOT) not in where, where
    out = run([venv_python, "-m", "pytest", "-p", "no:cacheprovider", "-q"], env, plugin_dir)
    assert " passed" in out and "failed" not in out, out


def fetch(url: str) -> str:
    """The body of GET url, or "" while the plugin does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return ""
