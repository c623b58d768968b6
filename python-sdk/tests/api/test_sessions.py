"""End to end: the sessions area, through both clients against the Go server."""

from __future__ import annotations

from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Session, User, UserAccessToken

from conftest import new_user

UNKNOWN_ID = "a" * 26


def test_session_lifecycle(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    session = api.create_session(Session(user_id=alice.id, props={"platform": "Linux"}))
    # A session takes its user's roles; alice, the first user, is the system
    # admin (UserService.CreateUser, users/users.go@04165fd3).
    assert len(session.id) == 26 and session.token and session.roles == alice.roles
    assert alice.roles == "system_admin system_user"
    assert api.get_session(session.id) == session
    api.extend_session_expiry(session.id, 4_102_444_800_000)
    assert api.get_session(session.id).expires_at == 4_102_444_800_000
    api.revoke_session(session.id)
    # server/channels/app/session.go@f778ee58:App.GetSessionById answers any
    # failure with app.session.get.app_error, 400.
    with pytest.raises(mp.ValidationError) as gone:
        api.get_session(session.id)
    assert gone.value.error_id == "app.session.get.app_error"


def test_session_failures(api: Any) -> None:
    with pytest.raises(mp.NotFoundError):
        api.create_session(Session(user_id=UNKNOWN_ID))
    # server/channels/app/session.go@f778ee58:App.CreateSession turns the
    # store's refusal of an id into app.session.save.existing.app_error.
    with pytest.raises(mp.ValidationError) as existing:
        api.create_session(Session(id=UNKNOWN_ID, user_id=UNKNOWN_ID))
    assert existing.value.error_id == "app.session.save.existing.app_error"
    # server/channels/app/plugin_api.go@f56166d6:PluginAPI.ExtendSessionExpiry:
    # a session it cannot find is app.session.get_sessions.app_error, 500.
    with pytest.raises(mp.InternalError) as extend:
        api.extend_session_expiry(UNKNOWN_ID, 1)
    assert extend.value.error_id == "app.session.get_sessions.app_error"
    with pytest.raises(mp.ValidationError) as revoke:
        api.revoke_session(UNKNOWN_ID)
    assert revoke.value.status_code == 400


def test_user_access_tokens(api: Any) -> None:
    bot = api.create_user(
        User(username="robot", email="robot@example.com", password="passw0rd!", is_bot=True)
    )
    token = api.create_user_access_token(UserAccessToken(user_id=bot.id, description="ci"))
    assert token.is_active and len(token.token) == 26 and token.description == "ci"
    api.revoke_user_access_token(token.id)
    # server/channels/app/session.go@f778ee58:App.GetUserAccessToken.
    with pytest.raises(mp.NotFoundError) as gone:
        api.revoke_user_access_token(token.id)
    assert gone.value.error_id == "app.user_access_token.get_by_user.app_error"


def test_user_access_tokens_are_off_for_people(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    with pytest.raises(mp.UnimplementedError) as off:
        api.create_user_access_token(UserAccessToken(user_id=alice.id))
    assert off.value.error_id == "app.user_access_token.disabled"
