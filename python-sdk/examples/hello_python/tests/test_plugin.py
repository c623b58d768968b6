"""The example plugin's own tests, as a plugin author writes them.

The ``plugin_server`` fixture comes with the SDK (a pytest plugin that its
installation registers): it starts the dev server with the plugin directory,
waits for the plugin to be active, and stops both after the test. Run them
from the plugin directory with ``pytest``; the dev server comes from
``pip install "mattermost-plugin-sdk[devserver]"``.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mattermost_plugin import ValidationError
from mattermost_plugin.models import Channel, CommandArgs, Post, Team, User

PLUGIN_DIR = Path(os.path.abspath(__file__)).parent.parent
PLUGIN_ID = "com.example.hello-python"


def world(api: Any) -> tuple[User, Channel]:  # noqa: ANN401 - a Client
    """A user in a team's channel, to post as."""
    user = api.create_user(User(username="alice", email="alice@example.com", password="s3cret-pw"))
    team = api.create_team(Team(name="team", display_name="Team", type="O", allow_open_invite=True))
    api.create_team_member(team.id, user.id)
    channel = api.get_channel_by_name(team.id, "town-square", False)
    return user, channel


def test_rewrites_and_rejects(plugin_server: Any) -> None:  # noqa: ANN401
    """MessageWillBePosted rewrites "darn" and rejects the banned word."""
    server = plugin_server(PLUGIN_DIR)
    with server.client() as api:
        user, channel = world(api)
        post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="darn it"))
        assert post.message == "d**n it"
        with pytest.raises(ValidationError, match="not allowed"):
            api.create_post(Post(user_id=user.id, channel_id=channel.id, message="cheap spam"))


def test_banned_word_comes_from_the_settings(plugin_server: Any) -> None:  # noqa: ANN401
    """A saved BannedWord setting replaces the default once it is applied."""
    server = plugin_server(PLUGIN_DIR)
    with server.client() as api:
        user, channel = world(api)
        with server.configuration_applied():
            api.save_plugin_config({"BannedWord": "durian"})
        api.create_post(Post(user_id=user.id, channel_id=channel.id, message="spam is fine now"))
        with pytest.raises(ValidationError):
            api.create_post(Post(user_id=user.id, channel_id=channel.id, message="durian"))


def test_command_and_http(plugin_server: Any) -> None:  # noqa: ANN401
    """/hello and GET /count answer."""
    server = plugin_server(PLUGIN_DIR)
    with server.client() as api:
        user, channel = world(api)
        api.create_post(Post(user_id=user.id, channel_id=channel.id, message="one"))
        with urllib.request.urlopen(f"{server.http_url}/plugins/{PLUGIN_ID}/count") as answer:
            body = answer.read().decode()
        assert body.startswith("Hello from Python over HTTP!")
        response = api.execute_slash_command(
            CommandArgs(user_id=user.id, channel_id=channel.id, command="/hello")
        )
        assert "Hello from Python!" in response.text
