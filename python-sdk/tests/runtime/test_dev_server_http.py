"""A session authenticates a request to a plugin's route under the dev server.

A plugin author tests an authenticated route as Mattermost serves it: a
session made with ``create_session``, sent as ``Authorization: Bearer`` or
the ``MMAUTHTOKEN`` cookie, reaches ``serve_http`` as the
``Mattermost-User-Id`` header and the context's ``session_id``; an expired,
revoked or unknown token is anonymous, and a client's own
``Mattermost-User-Id`` never reaches the plugin.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Session, User
from mattermost_plugin.testing import ReferenceServer

pytest_plugins = ["mattermost_plugin.pytest_plugin"]


class WhoAmI(mp.Plugin):
    """Test plugin "test.whoami": answers who the request is from."""

    def serve_http(self, context: Any, request: mp.HTTPRequest) -> mp.HTTPResponse:
        # Every value, in any case: a spoofed header must not add one.
        users = [
            v for k, vs in request.headers.items() if k.lower() == "mattermost-user-id" for v in vs
        ]
        return mp.HTTPResponse(body=json.dumps({"users": users, "session": context.session_id}))


@pytest.fixture
def server(plugin_server: Callable[..., ReferenceServer]) -> ReferenceServer:
    return plugin_server(WhoAmI)


def who(server: ReferenceServer, headers: dict[str, str]) -> dict[str, Any]:
    """GET the plugin's route with headers and return what it saw."""
    request = urllib.request.Request(server.http_url + "/plugins/test.whoami/me", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_a_session_authenticates_a_route(server: ReferenceServer) -> None:
    with server.client() as api:
        alice = api.create_user(
            User(username="alice", email="alice@example.com", password="pw-s3cret-alice")
        )
        live = api.create_session(Session(user_id=alice.id))
        expired = api.create_session(
            Session(user_id=alice.id, expires_at=int(time.time() * 1000) - 3_600_000)
        )
        revoked = api.create_session(Session(user_id=alice.id))
        api.revoke_session(revoked.id)

    me = {"users": [alice.id], "session": live.id}
    nobody = {"users": [], "session": ""}
    cases = [
        ({}, nobody),
        ({"Authorization": f"Bearer {live.token}"}, me),
        ({"Cookie": f"MMAUTHTOKEN={live.token}"}, me),
        ({"Authorization": f"Bearer {expired.token}"}, nobody),
        ({"Authorization": f"Bearer {revoked.token}"}, nobody),
        ({"Authorization": "Bearer not-a-session"}, nobody),
        ({"Mattermost-User-Id": alice.id}, nobody),
        ({"Mattermost-User-Id": "someone-else", "Authorization": f"Bearer {live.token}"}, me),
    ]
    for headers, want in cases:
        assert who(server, headers) == want, headers
