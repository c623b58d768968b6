"""The test kit: the pytest fixtures that run a plugin under the dev server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Channel, Post, Team, User
from mattermost_plugin.testing import (
    INSTALL_HINT,
    SERVER_ENV,
    ReferenceServer,
    ServerStartError,
    find_server_binary,
    plugin_directory,
    readable_log,
    start_reference_server,
)

pytest_plugins = ["mattermost_plugin.pytest_plugin", "pytester"]


class Shouter(mp.AsyncPlugin):
    """Upper-cases every post, and records activation in the KV store."""

    async def on_activate(self) -> None:
        await self.api.kv_set("shouter", b"on")

    async def message_will_be_posted(self, context: Any, post: Post) -> Post:
        post.message = post.message.upper()
        return post


class Broken(mp.Plugin):
    """Fails to activate."""

    def on_activate(self) -> None:
        raise RuntimeError("cannot start today")


def channel_of(server: ReferenceServer) -> tuple[User, Channel]:
    with server.client() as api:
        user = api.create_user(User(username="kit", email="kit@example.com", password="pw-s3cret"))
        team = api.create_team(Team(name="kit", display_name="Kit", type="O"))
        api.create_team_member(team.id, user.id)
        channel = api.create_channel(Channel(team_id=team.id, name="c", display_name="C", type="O"))
        api.add_channel_member(channel.id, user.id)
    return user, channel


def test_plugin_server_runs_a_plugin_class(plugin_server: Any) -> None:
    server = plugin_server(Shouter)
    user, channel = channel_of(server)
    with server.client() as api:
        post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="hi"))
        assert post.message == "HI"
        assert api.kv_get("shouter") == b"on"


def test_plugin_server_reports_a_plugin_that_does_not_activate(plugin_server: Any) -> None:
    with pytest.raises(ServerStartError, match="cannot start today"):
        plugin_server(Broken)


def test_mattermost_server_has_no_plugin(mattermost_server: ReferenceServer) -> None:
    user, channel = channel_of(mattermost_server)
    with mattermost_server.client() as api:
        post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="hi"))
        assert post.message == "hi"


def test_plugin_directory_refuses_a_local_class(tmp_path: Path) -> None:
    class Local(mp.Plugin):
        pass

    with pytest.raises(ValueError, match="top level of an importable module"):
        plugin_directory(Local, tmp_path)
    manifest = (plugin_directory(Shouter, tmp_path) / "plugin.json").read_text()
    assert '"entry": "test_testing_kit:Shouter"' in manifest


class Configured(mp.Plugin):
    """Copies its greeting setting into the KV store when it changes."""

    def on_configuration_change(self) -> None:
        self.api.kv_set("greeting", str(self.configuration.get("greeting", "")).encode())


def test_configuration_applied_waits_for_on_configuration_change(plugin_server: Any) -> None:
    server = plugin_server(Configured)
    with server.client() as api:
        for greeting in ("hello", "bonjour", "hallo"):
            with server.configuration_applied():
                api.save_plugin_config({"greeting": greeting})
            assert api.kv_get("greeting") == greeting.encode()


def test_configuration_applied_times_out_with_a_reason(
    mattermost_server: ReferenceServer,
) -> None:
    with pytest.raises(TimeoutError, match=r"did not apply the configuration change in 0\.2 s"):
        with mattermost_server.configuration_applied("nobody", timeout=0.2):
            pass


def test_the_binary_comes_from_the_argument_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_server_binary()
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ServerStartError, match=r"nowhere \(\$MATTERMOST_PLUGINAPI_SERVER\)"):
        find_server_binary()
    assert find_server_binary(real) == real
    monkeypatch.chdir(real.parent)
    assert find_server_binary(real.name) == real  # relative to the current directory


#: Where $(rlocationpath //server/cmd/pluginapi-server) points in a Bazel
#: test's runfiles.
SERVER_RLOCATION = "_main/server/cmd/pluginapi-server/pluginapi-server_/pluginapi-server"


@pytest.mark.parametrize("tree", ["directory", "manifest"])
def test_under_bazel_the_environment_is_a_runfiles_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tree: str
) -> None:
    """A fake runfiles tree, as Bazel lays one out: the location resolves."""
    real = find_server_binary()
    for name in ("RUNFILES_DIR", "RUNFILES_MANIFEST_FILE"):
        monkeypatch.delenv(name, raising=False)
    if tree == "directory":
        want = tmp_path / "runfiles" / SERVER_RLOCATION
        want.parent.mkdir(parents=True)
        want.symlink_to(real)
        monkeypatch.setenv("RUNFILES_DIR", str(tmp_path / "runfiles"))
    else:
        want = real
        manifest = tmp_path / "MANIFEST"
        manifest.write_text(f"{SERVER_RLOCATION} {real}\n")
        monkeypatch.setenv("RUNFILES_MANIFEST_FILE", str(manifest))
    monkeypatch.setenv(SERVER_ENV, SERVER_RLOCATION)
    monkeypatch.chdir(tmp_path)  # the location is no path of the current directory
    assert find_server_binary() == want
    # start_reference_server, and with it the pytest plugin's fixtures, finds it too.
    with start_reference_server() as server, server.client() as api:
        api.kv_set("k", b"v")


def test_a_runfiles_location_that_names_nothing_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNFILES_MANIFEST_FILE", raising=False)
    monkeypatch.setenv("RUNFILES_DIR", str(tmp_path))
    monkeypatch.setenv(SERVER_ENV, "_main/server/missing")
    with pytest.raises(ServerStartError, match=r"missing in the runfiles\) is not an executable"):
        find_server_binary()


def test_outside_bazel_a_relative_environment_is_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_server_binary()
    for name in ("RUNFILES_DIR", "RUNFILES_MANIFEST_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(real.parent)
    monkeypatch.setenv(SERVER_ENV, real.name)
    assert find_server_binary() == real


def test_without_a_binary_the_error_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SERVER_ENV, raising=False)
    # No devserver wheel in this environment: the SDK runs from the tree.
    monkeypatch.setitem(sys.modules, "mattermost_plugin_devserver", None)
    with pytest.raises(ServerStartError) as caught:
        find_server_binary()
    message = str(caught.value)
    assert INSTALL_HINT in message and "\n" not in message
    assert INSTALL_HINT == 'pip install "mattermost-plugin-sdk[devserver]"'


def test_the_installed_devserver_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "mattermost_plugin_devserver" / "bin" / "pluginapi-server"
    binary.parent.mkdir(parents=True)
    binary.write_bytes(find_server_binary().read_bytes())
    init = Path(__file__).parents[2] / "devserver" / "src" / "mattermost_plugin_devserver"
    for name in ("__init__.py", "__main__.py"):
        (tmp_path / "mattermost_plugin_devserver" / name).write_text((init / name).read_text())
    monkeypatch.delenv(SERVER_ENV, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mattermost_plugin_devserver", raising=False)
    assert find_server_binary() == binary  # and made executable
    with start_reference_server() as server, server.client() as api:
        api.kv_set("k", b"v")


def test_a_failed_start_says_why_in_words(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError) as caught:
        start_reference_server("-license", "platinum")
    message = str(caught.value)
    assert message.startswith('pluginapi-server did not start: -license: unknown SKU "platinum"')
    assert "\\n" not in message and '\\"' not in message  # no escaped JSON


def test_readable_log_turns_json_records_into_text() -> None:
    lines = [
        '{"time":"t","level":"ERROR","msg":"plugin failed","plugin_id":"p","n":2}',
        "a plain line",
    ]
    assert readable_log(lines) == "ERROR plugin failed plugin_id=p n=2\na plain line"
    assert readable_log(["x" * 50], limit=10) == "..." + "x" * 10


def test_the_pytest_option_names_the_binary(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = find_server_binary()
    monkeypatch.delenv(SERVER_ENV)
    pytester.makepyfile(
        """
        def test_server(mattermost_server):
            with mattermost_server.client() as api:
                api.kv_set("k", b"v")
        """
    )
    env_free = pytester.run(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--mattermost-server={binary}",
    )
    assert env_free.ret == 0, env_free.stdout.str()
    bad = pytester.run(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--mattermost-server=missing-binary",
    )
    assert bad.ret == 1
    assert "missing-binary (the binary argument) is not an executable file" in bad.stdout.str()
