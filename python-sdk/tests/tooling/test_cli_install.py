"""``mattermost-plugin install``: a bundle, through the Plugin API, to a running server.

The bundle is a new plugin's, made offline from test_bundle's session
wheelhouse. The reference server takes it with InstallPlugin and enables it
with EnablePlugin. Whether it then runs the plugin depends on the server:
the last test checks that it does where the server starts installed
bundles, and is skipped where it only records them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_bundle import PIP_VARIABLES, PLUGIN_ID, local_wheelhouse

from mattermost_plugin._cli import main
from mattermost_plugin.config import ENV_TARGET, ENV_TOKEN
from mattermost_plugin.testing import ReferenceServer, start_reference_server

from conftest import server_binary

#: How long a server that starts installed bundles may take to activate one
#: (it makes the plugin's virtualenv from the bundle's wheels first).
ACTIVATION_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new plugin's bundle for this machine, with the session's wheelhouse."""
    wheelhouse = local_wheelhouse(tmp_path_factory)
    root = tmp_path_factory.mktemp("install")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in PIP_VARIABLES:  # the wheelhouse only, whatever pip's settings here
            patch.delenv(name, raising=False)
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", out)
        assert main(["new", "hello", "--dir", str(root)]) == 0
        args = ["bundle", str(root / "hello"), "--find-links", str(wheelhouse), "--no-index"]
        code = main([*args, "-o", str(root)])
    assert code == 0, out.getvalue()
    return root / f"{PLUGIN_ID}-0.1.0.tar.gz"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReferenceServer]:
    """A reference server whose working directory (where plugins land) is the test's."""
    monkeypatch.chdir(tmp_path)
    started = start_reference_server("-drain-quiet", "20ms", binary=server_binary())
    try:
        yield started
    finally:
        started.stop()


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def install(
    capsys: pytest.CaptureFixture[str], server: ReferenceServer, bundle: Path, *args: str
) -> tuple[int, str, str]:
    return call(
        capsys, "install", str(bundle), "--target", server.target, "--token", server.token, *args
    )


def test_install_sends_the_bundle_and_enables_the_plugin(
    capsys: pytest.CaptureFixture[str], server: ReferenceServer, bundle_file: Path
) -> None:
    code, out, err = install(capsys, server, bundle_file)
    assert (code, err) == (0, ""), err
    lines = out.splitlines()
    assert lines[:2] == [
        f"Installed {PLUGIN_ID} 0.1.0 (Hello) from {bundle_file}",
        f"Enabled {PLUGIN_ID}",
    ]
    assert lines[2].startswith("Status: ")
    with server.client() as api:
        assert PLUGIN_ID in [manifest.id for manifest in api.get_plugins()]
        status = api.get_plugin_status(PLUGIN_ID)
        assert (status.plugin_id, status.version, status.name) == (PLUGIN_ID, "0.1.0", "Hello")
        assert status.state in (1, 2), status  # starting or running


def test_a_second_install_needs_replace(
    capsys: pytest.CaptureFixture[str], server: ReferenceServer, bundle_file: Path
) -> None:
    assert install(capsys, server, bundle_file)[0] == 0
    code, out, err = install(capsys, server, bundle_file)
    assert (code, out) == (1, "")
    assert err == (
        f"mattermost-plugin install: the server did not install {bundle_file}: "
        "INVALID_ARGUMENT: A plugin with this id is installed already. "
        f"[app.plugin.install_id.app_error in InstallPlugin] (id={PLUGIN_ID})\n"
    )
    code, out, err = install(capsys, server, bundle_file, "--replace")
    assert (code, err) == (0, "")
    assert out.startswith(f"Installed {PLUGIN_ID} 0.1.0 (Hello)")


def test_install_reads_the_server_from_the_environment(
    server: ReferenceServer, bundle_file: Path, tmp_path: Path
) -> None:
    """As ``mattermost-plugin dev`` prints them; through ``python -m mattermost_plugin``."""
    env = {**os.environ, **server.environ()}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin", "install", str(bundle_file)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Installed {PLUGIN_ID} 0.1.0 (Hello)")


def test_a_wrong_token_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], server: ReferenceServer, bundle_file: Path
) -> None:
    code, out, err = call(
        capsys, "install", str(bundle_file), "--target", server.target, "--token", "wrong"
    )
    assert (code, out) == (1, "")
    assert err == (
        f"mattermost-plugin install: the server did not install {bundle_file}: "
        "UNAUTHENTICATED: auth: invalid plugin token\n"
    )


def test_a_file_that_is_no_bundle_is_refused_by_the_server(
    capsys: pytest.CaptureFixture[str], server: ReferenceServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.tar.gz"
    notes.write_text("not a bundle\n")
    code, _, err = install(capsys, server, notes)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"mattermost-plugin install: the server did not install {notes}: INVALID_ARGUMENT: "
    )


@pytest.mark.parametrize(
    ("args", "environ", "message"),
    [
        (
            [],
            {},
            f"no Plugin API server: give --target or set {ENV_TARGET} "
            "(mattermost-plugin dev prints both)",
        ),
        (
            ["--target", "unix:///tmp/none.sock"],
            {},
            f"no token: give --token or set {ENV_TOKEN} (mattermost-plugin dev prints both)",
        ),
        (
            [],
            {ENV_TARGET: "unix:///tmp/none.sock"},
            f"no token: give --token or set {ENV_TOKEN}",
        ),
        (["--timeout", "0"], {}, "0 is not a positive number of seconds"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    bundle_file: Path,
    args: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code, out, err = call(capsys, "install", str(bundle_file), *args)
    assert (code, out) == (2, "")
    assert err.startswith("usage: mattermost-plugin install ")
    assert message in err


def test_a_missing_file_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "none.tar.gz"
    code, _, err = call(capsys, "install", str(missing), "--target", "x", "--token", "y")
    assert (code, err) == (1, f"mattermost-plugin install: {missing} does not exist\n")


def test_an_unreachable_server_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], bundle_file: Path, tmp_path: Path
) -> None:
    target = f"unix://{tmp_path}/none.sock"
    code, _, err = call(
        capsys, "install", str(bundle_file), "--target", target, "--token", "t", "--timeout", "5"
    )
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"mattermost-plugin install: the server did not install {bundle_file}: UNAVAILABLE: "
    )


def test_help_names_every_flag() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin", "install", "--help"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    usage = " ".join(result.stdout.split())
    for flag in ("--target T", "--token TOKEN", "--replace", "--timeout SECONDS"):
        assert f"[{flag}]" in usage
    assert ENV_TARGET in usage and ENV_TOKEN in usage


def _mentions(server: ReferenceServer, plugin_id: str) -> list[dict[str, object]]:
    """The server's log records about ``plugin_id``."""
    return [r for r in server.log_records() if plugin_id in json.dumps(r)]


def test_an_installed_bundle_runs_where_the_server_starts_bundles(
    capsys: pytest.CaptureFixture[str], server: ReferenceServer, bundle_file: Path
) -> None:
    code, _, err = install(capsys, server, bundle_file)
    assert code == 0, err
    deadline = time.monotonic() + 5
    while not _mentions(server, PLUGIN_ID) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not _mentions(server, PLUGIN_ID):
        pytest.skip("this server records installed bundles without starting them")
    deadline = time.monotonic() + ACTIVATION_TIMEOUT
    while time.monotonic() < deadline:
        if any(
            r.get("msg") == "plugin activated" and r.get("plugin_id") == PLUGIN_ID
            for r in server.log_records()
        ):
            break
        time.sleep(0.2)
    else:
        pytest.fail(
            f"{PLUGIN_ID} was installed but not activated in {ACTIVATION_TIMEOUT:g} s; "
            f"the server's log:\n" + "\n".join(server.log_lines[-40:])
        )
    with server.client() as api:
        assert api.get_plugin_status(PLUGIN_ID).state == 2
