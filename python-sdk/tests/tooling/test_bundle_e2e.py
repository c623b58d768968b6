"""Ship a plugin: bundle hello_python, install it through the API, and use it.

The example plugin is bundled by ``mattermost-plugin bundle`` for this
machine's platform and Python plus one other target (linux-aarch64), its
wheels downloaded by pip from the package index, the SDK's from a local
wheelhouse. A fresh dev server, whose pip can reach no index (every index
and proxy points at a closed port on loopback), then gets the bundle
through the SDK's ``install_plugin`` and ``enable_plugin``, as an admin's
upload reaches Mattermost: it unpacks it, makes the plugin's virtualenv
from the bundle's wheelhouse alone, and starts it; a post then runs its
``message_will_be_posted``.

It needs the package index for the bundle's downloads, as a plugin author
does; the matrix does not run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mattermost_plugin import NotFoundError
from mattermost_plugin._cli._bundle_targets import local_platform
from mattermost_plugin.models import Post, Team, User
from mattermost_plugin.testing import ReferenceServer, start_reference_server

from conftest import START_TIMEOUT, server_binary

SDK = Path(os.path.abspath(__file__)).parents[2]
EXAMPLE = SDK / "examples" / "hello_python"
sys.path.insert(0, str(SDK / "scripts"))
from build_wheel import build_wheel  # noqa: E402

PLUGIN_ID = "com.example.hello-python"
#: A port on loopback that nothing listens on: pip's index and proxies.
DEAD = "http://127.0.0.1:9"


def host_target() -> str:
    """This machine's target, as the bundle names it."""
    here = local_platform()
    assert here is not None, "this machine is none of the bundles' platforms"
    return f"{here}-cp{sys.version_info[0]}{sys.version_info[1]}"


def other_platform() -> str:
    return "linux-aarch64" if not host_target().startswith("linux-aarch64") else "linux-x86_64"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hello_python, bundled for this host and linux-aarch64."""
    work = tmp_path_factory.mktemp("bundle")
    wheelhouse = work / "sdk"
    build_wheel(wheelhouse)
    here = host_target().rsplit("-cp", 1)[0]
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    out = work / "out"
    out.mkdir()
    command = [
        sys.executable, "-m", "mattermost_plugin", "bundle", str(EXAMPLE),
        "--platform", here, "--platform", other_platform(), "--python", version,
        "--find-links", str(wheelhouse), "-o", str(out),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (made,) = out.glob("*.tar.gz")
    assert made.name == f"{PLUGIN_ID}-0.1.0.tar.gz"
    return made


@pytest.fixture
def offline_server(tmp_path: Path) -> Iterator[ReferenceServer]:
    """A fresh dev server whose pip can reach no package index."""
    env = {
        **os.environ,
        "PIP_INDEX_URL": f"{DEAD}/simple",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "HTTP_PROXY": DEAD,
        "HTTPS_PROXY": DEAD,
        "http_proxy": DEAD,
        "https_proxy": DEAD,
        "PYTHONPATH": "",  # the plugin runs from its own virtualenv
    }
    server = start_reference_server(
        "-python", sys.executable, "-plugins-dir", str(tmp_path / "plugins"),
        binary=server_binary(), timeout=START_TIMEOUT, env=env,
    )  # fmt: skip
    try:
        yield server
    finally:
        server.stop()


def test_the_bundle_carries_two_targets(bundle: Path) -> None:
    with tarfile.open(bundle) as archive:
        names = archive.getnames()
        manifest = json.loads(archive.extractfile(f"{PLUGIN_ID}/plugin.json").read())  # type: ignore[union-attr]
    targets = sorted([host_target(), f"{other_platform()}-{host_target().rsplit('-', 1)[1]}"])
    assert manifest["server"]["python"]["targets"] == targets
    for target in targets:
        wheels = [n for n in names if n.startswith(f"{PLUGIN_ID}/wheels/{target}/")]
        assert any("/grpcio-" in n for n in wheels), wheels
        assert any("/mattermost_plugin_sdk-" in n for n in wheels), wheels
    assert f"{PLUGIN_ID}/SHA256SUMS" in names
    assert not any("/tests/" in n for n in names)


def test_installed_through_the_api_it_runs_offline(
    bundle: Path, offline_server: ReferenceServer, tmp_path: Path
) -> None:
    with offline_server.client(timeout=300) as api:
        with open(bundle, "rb") as data:
            manifest = api.install_plugin(data, False)
        assert manifest.id == PLUGIN_ID
        api.enable_plugin(PLUGIN_ID)
        user = api.create_user(User(username="ann", email="ann@example.com", password="pw-s3cret1"))
        team = api.create_team(Team(name="ship", display_name="Ship", type="O"))
        api.create_team_member(team.id, user.id)
        channel = api.get_channel_by_name(team.id, "town-square", False)
        post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="darn"))
        assert post.message == "d**n"
        status = api.get_plugin_status(PLUGIN_ID)
        assert status.state == 2  # running
    # The plugin's files are where the server says, and its virtualenv is
    # kept outside them, in the cache of the plugins directory.
    assert (tmp_path / "plugins" / PLUGIN_ID / "plugin.json").is_file()
    venvs = list((tmp_path / "plugins" / ".python").iterdir())
    assert len(venvs) == 1 and venvs[0].name.endswith(host_target()), venvs


def test_a_disabled_plugin_stops(bundle: Path, offline_server: ReferenceServer) -> None:
    with offline_server.client(timeout=300) as api:
        with open(bundle, "rb") as data:
            api.install_plugin(data, False)
        api.enable_plugin(PLUGIN_ID)
        api.disable_plugin(PLUGIN_ID)
        user = api.create_user(User(username="bo", email="bo@example.com", password="pw-s3cret1"))
        team = api.create_team(Team(name="off", display_name="Off", type="O"))
        api.create_team_member(team.id, user.id)
        channel = api.get_channel_by_name(team.id, "town-square", False)
        post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="darn"))
        assert post.message == "darn"
        with pytest.raises(NotFoundError):
            api.get_plugin_status("com.example.nothing-here")


def test_the_dev_command_runs_a_bundle(bundle: Path, tmp_path: Path) -> None:
    """``mattermost-plugin dev FILE.tar.gz`` runs a bundle as it runs a directory."""
    env = {**os.environ, "MATTERMOST_PLUGINAPI_SERVER": str(server_binary()), "PYTHONPATH": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "mattermost_plugin", "dev", str(bundle)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.strip().startswith(PLUGIN_ID):
                url = line.split()[-1]
                break
        else:
            pytest.fail("".join(lines))
        with urllib.request.urlopen(f"{url}count", timeout=30) as answer:
            assert answer.read().startswith(b"Hello from Python over HTTP!")
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, "".join(lines) + rest
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
