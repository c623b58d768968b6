"""The test kit: the pytest fixtures that run a plugin under the dev server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Channel, Post, Team, User
from mattermost_plugin.testing import ReferenceServer, ServerStartError, plugin_directory

pytest_plugins = ["mattermost_plugin.pytest_plugin"]


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
