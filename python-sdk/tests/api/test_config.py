"""End to end: the server/config area, through both clients against the Go server."""

from __future__ import annotations

import pickle
import time
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Config, Team, User

from conftest import new_user

UNKNOWN_ID = "a" * 26


def test_get_config_hides_secrets(api: Any) -> None:
    cfg = mp.ServerConfig(api.get_config())
    assert cfg.site_url == "http://localhost:8065" and cfg.max_users_per_team == 50
    assert isinstance(cfg.data["TeamSettings"]["MaxUsersPerTeam"], int)
    assert cfg.data["SqlSettings"]["DataSource"] == mp.server_config.SANITIZED
    raw = mp.ServerConfig(api.get_unsanitized_config())
    assert raw.data["SqlSettings"]["DataSource"].startswith("postgres://")
    assert cfg.plugin_settings("com.example.plugin") == {}
    assert not cfg.enable_user_access_tokens and cfg.plugins_enabled


def test_save_config_keeps_secrets_and_applies(api: Any) -> None:
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["TeamSettings"]["MaxUsersPerTeam"] = 1
    cfg.data["ServiceSettings"]["EnableUserAccessTokens"] = True
    cfg.data["PluginSettings"]["Plugins"]["com.example.plugin"] = {"channel": "alerts"}
    del cfg.data["LocalizationSettings"]
    api.save_config(cfg.to_model())
    raw = mp.ServerConfig(api.get_unsanitized_config())
    assert raw.data["SqlSettings"]["DataSource"].startswith("postgres://")
    assert raw.data["LocalizationSettings"]["DefaultServerLocale"] == "en"
    assert raw.plugin_settings("com.example.plugin") == {"channel": "alerts"}
    # The saved settings take effect: one member per team, tokens for people.
    team = api.create_team(Team(name="core", display_name="Core", type="O"))
    alice, bob = api.create_user(new_user("alice")), api.create_user(new_user("bob"))
    api.create_team_member(team.id, alice.id)
    with pytest.raises(mp.ValidationError):
        api.create_team_member(team.id, bob.id)
    from mattermost_plugin.models import UserAccessToken

    assert api.create_user_access_token(UserAccessToken(user_id=alice.id)).is_active


def test_save_config_failures(api: Any) -> None:
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["ServiceSettings"]["SiteURL"] = "not a url"
    # Config.IsValid's refusal fails config.Store.Set, which
    # PlatformService.SaveConfig wraps in app.save_config.app_error (500)
    # (server/channels/app/platform/config.go@04e85894, server/config/store.go@1140b87e).
    with pytest.raises(mp.InternalError) as invalid:
        api.save_config(cfg.to_model())
    assert invalid.value.error_id == "app.save_config.app_error"
    assert "model.config.is_valid.site_url.app_error" in invalid.value.detailed_error
    with pytest.raises(mp.ValidationError):
        api.save_config(Config(json="[1, 2]"))
    assert mp.ServerConfig(api.get_config()).site_url == "http://localhost:8065"


def test_get_config_has_upstream_sections(api: Any) -> None:
    # The defaults of the SetDefaults of each settings struct in
    # server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887.
    cfg = mp.ServerConfig(api.get_config()).data
    assert cfg["PasswordSettings"]["MinimumLength"] == 8
    assert cfg["PasswordSettings"]["EnableForgotLink"] is True
    assert cfg["RateLimitSettings"]["PerSec"] == 10 and cfg["RateLimitSettings"]["Enable"] is False
    assert cfg["PrivacySettings"] == {"ShowEmailAddress": True, "ShowFullName": True}
    assert cfg["SupportSettings"]["TermsOfServiceLink"] == "https://mattermost.com/pl/terms-of-use/"
    assert cfg["DisplaySettings"] == {"CustomURLSchemes": [], "ExperimentalTimezone": True}
    assert cfg["ExperimentalSettings"]["LinkMetadataTimeoutMilliseconds"] == 5000


def test_save_config_checks_upstream_sections(api: Any) -> None:
    # Config.IsValid at server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887:
    # PasswordSettings.MinimumLength from 5 to 64; RateLimitSettings.isValid.
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["PasswordSettings"]["MinimumLength"] = 4
    # Each refusal is app.save_config.app_error (500) wrapping the rule's id.
    with pytest.raises(mp.InternalError) as short:
        api.save_config(cfg.to_model())
    assert short.value.error_id == "app.save_config.app_error"
    assert "model.config.is_valid.password_length.app_error" in short.value.detailed_error
    cfg.data["PasswordSettings"]["MinimumLength"] = 10
    cfg.data["RateLimitSettings"]["PerSec"] = 0
    with pytest.raises(mp.InternalError) as rate:
        api.save_config(cfg.to_model())
    assert "model.config.is_valid.rate_sec.app_error" in rate.value.detailed_error
    cfg.data["RateLimitSettings"]["PerSec"] = 20
    cfg.data["PrivacySettings"]["ShowEmailAddress"] = False
    api.save_config(cfg.to_model())
    saved = mp.ServerConfig(api.get_config()).data
    assert saved["PasswordSettings"]["MinimumLength"] == 10
    assert saved["RateLimitSettings"]["PerSec"] == 20
    assert saved["PrivacySettings"]["ShowEmailAddress"] is False


def test_server_identity(api: Any) -> None:
    assert api.get_license() is None
    assert api.is_enterprise_ready() is False
    assert 0 < api.get_system_install_date() <= time.time() * 1000
    assert len(api.get_diagnostic_id()) == 26
    assert api.get_telemetry_id() == api.get_diagnostic_id()
    limits = api.get_cloud_limits()
    assert not limits.HasField("files") and not limits.HasField("messages")


def test_request_trial_license_is_off(api: Any) -> None:
    alice: User = api.create_user(new_user("alice"))
    with pytest.raises(mp.ValidationError):
        api.request_trial_license(alice.id, 10, False, False)
    with pytest.raises(mp.ValidationError):
        api.request_trial_license(alice.id, 0, True, False)
    with pytest.raises(mp.UnimplementedError) as off:
        api.request_trial_license(alice.id, 10, True, False)
    assert off.value.error_id == "api.license.request_trial_license.app_error"


def test_server_config_is_plain_data() -> None:
    cfg = mp.ServerConfig({"ServiceSettings": {"SiteURL": "https://chat.example.com"}})
    assert cfg.site_url == "https://chat.example.com" and cfg.max_users_per_team == 0
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert repr(cfg) == "ServerConfig(site_url='https://chat.example.com', sections=1)"
    assert mp.ServerConfig(cfg.to_model()) == cfg
    with pytest.raises(TypeError):
        mp.ServerConfig("{}")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mp.ServerConfig(Config(json="[]"))
