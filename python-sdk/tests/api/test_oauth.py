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
    # model.OAuthApp.PreSave's registration defaults are in the answer, but
    # SqlOAuthStore.SaveApp does not write them: they read back empty.
    assert list(app.grant_types) == ["authorization_code", "refresh_token"]
    assert app.token_endpoint_auth_method == "client_secret_post"
    got = api.get_oauth_app(app.id)
    assert not got.grant_types and not got.HasField("token_endpoint_auth_method")
    assert (got.id, got.client_secret, got.description) == (app.id, app.client_secret, "Builds")
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
    # The store deletes by id: deleting again, or an unknown id, succeeds.
    api.delete_oauth_app(app.id)
    api.delete_oauth_app(UNKNOWN_ID)


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
    # Any id is looked up (App.GetOAuthApp): a malformed one is not found.
    with pytest.raises(mp.NotFoundError) as bad:
        api.get_oauth_app("bad")
    assert bad.value.error_id == "app.oauth.get_app.find.app_error"
    with pytest.raises(mp.ValidationError) as existing:
        api.create_oauth_app(OAuthApp(id=UNKNOWN_ID, creator_id=app.creator_id, name="X"))
    assert existing.value.error_id == "app.oauth.save_app.existing.app_error"
    # OAuthApp.IsValid ends with ValidateGrantTypesAndResponseTypes: the
    # authorization_code grant needs the code response type.
    implicit = OAuthApp(
        creator_id=app.creator_id,
        name="Implicit",
        homepage="https://ci.example.com",
        callback_urls=["https://ci.example.com/cb"],
        grant_types=["authorization_code"],
        response_types=["token"],
    )
    with pytest.raises(mp.ValidationError) as types:
        api.create_oauth_app(implicit)
    assert types.value.error_id == "model.dcr.validate.incompatible_grant_response.app_error"


def test_oauth_service_provider_off(api: Any) -> None:
    app = make_app(api)
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["ServiceSettings"]["EnableOAuthServiceProvider"] = False
    api.save_config(cfg.to_model())
    with pytest.raises(mp.UnimplementedError) as create:
        api.create_oauth_app(OAuthApp(creator_id=app.creator_id, name="X"))
    assert create.value.error_id == "api.oauth.register_oauth_app.turn_off.app_error"
    with pytest.raises(mp.UnimplementedError) as get:
        api.get_oauth_app(app.id)
    assert get.value.error_id == "api.oauth.allow_oauth.turn_off.app_error"
    with pytest.raises(mp.UnimplementedError):
        api.update_oauth_app(app)
    with pytest.raises(mp.UnimplementedError):
        api.delete_oauth_app(app.id)
