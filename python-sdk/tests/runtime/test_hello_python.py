"""The example plugin, run by the dev server as a Mattermost server runs plugins.

The server starts python-sdk/examples/hello_python under its supervisor;
the tests act as a user through the Plugin API, and the backend fires the
plugin's hooks where Mattermost does.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Channel, CommandArgs, Post, Team, User
from mattermost_plugin.testing import ReferenceServer, start_reference_server

from conftest import START_TIMEOUT, server_binary

EXAMPLE = Path(os.path.abspath(__file__)).parents[2] / "examples" / "hello_python"


@pytest.fixture
def dev_server() -> Iterator[ReferenceServer]:
    """The dev server running the example plugin with this interpreter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    server = start_reference_server(
        "-plugin",
        str(EXAMPLE),
        "-python",
        sys.executable,
        binary=server_binary(),
        timeout=START_TIMEOUT + 20,
        env=env,
    )
    try:
        yield server
    finally:
        server.stop()


def scene(api: mp.Client) -> tuple[User, Channel]:
    alice = api.create_user(User(username="alice", email="alice@example.com", password="pw-s3cret"))
    team = api.create_team(Team(name="demo", display_name="Demo", type="O"))
    api.create_team_member(team.id, alice.id)
    channel = api.create_channel(
        Channel(team_id=team.id, name="town", display_name="Town", type="O")
    )
    api.add_channel_member(channel.id, alice.id)
    return alice, channel


def test_posts_go_through_the_plugins_filter(dev_server: ReferenceServer) -> None:
    with dev_server.client() as api:
        alice, channel = scene(api)

        def post(message: str) -> Post:
            return api.create_post(Post(user_id=alice.id, channel_id=channel.id, message=message))

        assert post("hello").message == "hello"
        assert post("well darn").message == "well d**n"
        with pytest.raises(mp.ValidationError) as info:
            post("SPAM for sale")
        assert (
            info.value.error_id
            == "Post rejected by plugin. messages about 'spam' are not allowed here"
        )
        assert info.value.status_code == 400
        stored = api.get_posts_for_channel(channel.id, 0, 10)
        assert sorted(p.message for p in stored.posts.values()) == ["hello", "well d**n"]


def test_the_plugins_command_answers_and_counts_posts(dev_server: ReferenceServer) -> None:
    with dev_server.client() as api:
        alice, channel = scene(api)
        for message in ("one", "two", "three"):
            api.create_post(Post(user_id=alice.id, channel_id=channel.id, message=message))
        # MessageHasBeenPosted runs after each post returns, as upstream.
        deadline = time.monotonic() + 10
        while api.kv_get("posts_seen") != b"3" and time.monotonic() < deadline:
            time.sleep(0.02)
        answer = api.execute_slash_command(
            CommandArgs(command="/hello", user_id=alice.id, channel_id=channel.id)
        )
        assert answer.text == "Hello from Python! I have seen 3 post(s) so far."
        assert answer.response_type == "ephemeral"


def test_activation_and_deactivation_reach_the_server_log(dev_server: ReferenceServer) -> None:
    dev_server.stop()
    messages = [r.get("msg") for r in dev_server.log_records() if r.get("source") == "plugin"]
    assert "hello_python is active; banned word: 'spam'" in messages
    assert "hello_python says goodbye" in messages


def test_the_plugins_http_endpoints_stream(dev_server: ReferenceServer) -> None:
    import urllib.error
    import urllib.request

    base = f"{dev_server.http_url}/plugins/com.example.hello-python"
    with urllib.request.urlopen(f"{base}/count", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain"
        assert response.read() == b"Hello from Python over HTTP!\n"
    body = b"x" * (3 << 20)  # several chunks each way
    request = urllib.request.Request(f"{base}/upper", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.read() == b"X" * (3 << 20)
    for url in (f"{base}/nowhere", f"{dev_server.http_url}/plugins/com.example.other/count"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=10)
        info.value.close()
        assert info.value.code == 404
