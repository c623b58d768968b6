"""End to end: the OAuth area, through both clients against the Go server."""

from __future__ import annotations

from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import OAuthApp

from conftest import new_user

UNKNOWN_ID = "a" * 26


def make_app(api: Any, **fields: Any) -> OAuthApp:
    creator = api.create_user(new_user("creator"))
    fields.setdefault("callback_urls", ["https://ci.example.com/callback"])
    app = OAuthApp(creator_id=creator.id, name="CI", homepage="https://ci.example.com", **fields)
    return api.create_oauth_app(app)  # type: ignore[no-any-return]


def test_oauth_app_lifecycle(api: Any) -> None:
    app = make_app(api, description="Builds")
    assert len(app.id) == 26 and app.client_secret and app.create_at > 0
    assert api.get_oauth_app(app.id) == app
    app.name = "CI v2"
    app.client_secret = "forged"
    updated = api.update_oauth_app(app)
    assert (
        updated.name == "CI v2" and updated.client_secret == api.get_oauth_app(app.id).client_secret
    )
    assert updated.client_secret != "forged"
    api.delete_oauth_app(app.id)
    with pytest.raises(mp.NotFoundError):
        api.get_oauth_app(app.id)


def test_oauth_app_failures(api: Any) -> None:
    app = make_app(api)
    ftp = OAuthApp(
        creator_id=app.creator_id,
        name="FTP",
        homepage="https://ci.example.com",
        callback_urls=["ftp://ci.example.com"],
    )
    with pytest.raises(mp.ValidationError) as callback:
        api.create_oauth_app(ftp)
    assert callback.value.error_id == "model.oauth.is_valid.callback.app_error"
    app.homepage = "not a url"
    with pytest.raises(mp.ValidationError):
        api.update_oauth_app(app)
    with pytest.raises(mp.NotFoundError):
        api.delete_oauth_app(UNKNOWN_ID)
    with pytest.raises(mp.ValidationError):
        api.get_oauth_app("bad")
