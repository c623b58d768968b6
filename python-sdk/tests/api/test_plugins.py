"""End to end: the plugin area, through both clients against the Go server.

The reference server serves one plugin, com.example.plugin, installed and
enabled. Installing plugins streams a bundle; it arrives with the files
area.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import tarfile
from typing import Any, Optional, TypedDict

import pytest

import mattermost_plugin as mp

from conftest import resolved

PLUGIN = "com.example.plugin"


def test_plugin_settings_round_trip(api: Any) -> None:
    assert api.get_plugin_config() == {}
    settings = {"channel": "alerts", "threshold": 3, "rules": [{"word": "darn"}], "on": True}
    api.save_plugin_config(settings)
    assert api.get_plugin_config() == {**settings, "threshold": 3.0}
    assert api.load_plugin_configuration({}) == api.get_plugin_config()
    cfg = mp.ServerConfig(api.get_config())
    assert cfg.plugin_settings(PLUGIN)["channel"] == "alerts"
    with pytest.raises(mp.ValidationError):
        api.save_plugin_config({"big": "x" * (65 << 10)})
    with pytest.raises(TypeError):
        api.save_plugin_config({"bad": {1, 2}})


def test_save_plugin_config_saves_the_whole_configuration(api: Any) -> None:
    # PluginAPI.SavePluginConfig (server/channels/app/plugin_api.go@004cacd4)
    # saves the sanitized configuration, its plugin's settings replaced,
    # through App.SaveConfig: the secrets are put back, not overwritten with
    # the placeholder, and the rest of the configuration is kept.
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["TeamSettings"]["SiteName"] = "Kept"
    api.save_config(cfg.to_model())
    api.save_plugin_config({"channel": "alerts"})
    raw = mp.ServerConfig(api.get_unsanitized_config())
    assert raw.data["SqlSettings"]["DataSource"].startswith("postgres://")
    assert raw.site_name == "Kept"
    assert raw.plugin_settings(PLUGIN) == {"channel": "alerts"}
    assert api.get_plugin_config() == {"channel": "alerts"}


def test_plugin_identity(api: Any) -> None:
    assert api.get_plugin_id() == PLUGIN
    path = api.get_bundle_path()
    assert os.path.isabs(path) and path.endswith(os.path.join("plugins", PLUGIN))


def test_installed_plugins(api: Any) -> None:
    [manifest] = api.get_plugins()
    assert manifest.id == PLUGIN and manifest.version == "0.1.0"
    assert api.get_plugin_status(PLUGIN).state == 2
    api.disable_plugin(PLUGIN)
    assert api.get_plugin_status(PLUGIN).state == 0
    api.enable_plugin(PLUGIN)
    assert api.get_plugin_status(PLUGIN).state == 2
    api.remove_plugin(PLUGIN)
    assert api.get_plugins() == []
    with pytest.raises(mp.NotFoundError):
        api.get_plugin_status(PLUGIN)


def test_plugin_management_failures(api: Any) -> None:
    with pytest.raises(mp.NotFoundError) as missing:
        api.enable_plugin("com.example.absent")
    assert missing.value.error_id == "app.plugin.not_installed.app_error"
    with pytest.raises(mp.NotFoundError):
        api.disable_plugin("com.example.absent")
    with pytest.raises(mp.NotFoundError):
        api.remove_plugin("com.example.absent")
    # No id check: the empty id is not installed either, as
    # Channels.GetPluginStatus (plugin_statuses.go@d2584d49) answers.
    with pytest.raises(mp.NotFoundError):
        api.get_plugin_status("")


def test_register_collection_and_topic(api: Any) -> None:
    # Upstream's PluginAPI.RegisterCollectionAndTopic (plugin_api.go@f56166d6)
    # is no longer supported and returns nil for anything.
    api.register_collection_and_topic("boards", "cards")
    api.register_collection_and_topic("", "")


def bundle(manifest: dict[str, Any], *, top: str = "myplugin") -> bytes:
    """A plugin bundle: a tar.gz with plugin.json in one top-level directory."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in (
            (f"{top}/plugin.json", json.dumps(manifest).encode()),
            (f"{top}/server/dist/plugin-linux-amd64", b"\x7fELF"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_install_plugin(api: Any) -> None:
    manifest = {
        "id": "com.example.other",
        "name": "Other",
        "version": "1.2.0",
        "server": {"executables": {"linux-amd64": "server/dist/plugin-linux-amd64"}},
        "settings_schema": {"settings": [{"key": "Channel", "type": "text", "default": "town"}]},
    }
    installed = api.install_plugin(io.BytesIO(bundle(manifest)), False)
    assert installed.id == "com.example.other" and installed.version == "1.2.0"
    assert installed.settings_schema.settings[0].default.string_value == "town"
    assert [m.id for m in api.get_plugins()] == ["com.example.other", PLUGIN]
    assert api.get_plugin_status("com.example.other").state == 0  # installed disabled
    manifest["version"] = "1.3.0"
    assert api.install_plugin(bundle(manifest), True).version == "1.3.0"


def test_install_plugin_failures(api: Any) -> None:
    manifest = {"id": PLUGIN, "name": "Again", "version": "9.9.9"}
    with pytest.raises(mp.ValidationError) as exists:
        api.install_plugin(bundle(manifest), False)
    assert exists.value.error_id == "app.plugin.install_id.app_error"
    with pytest.raises(mp.ValidationError):
        api.install_plugin(b"not a tar.gz", False)
    with pytest.raises(mp.ValidationError) as invalid:
        api.install_plugin(bundle({"id": "x", "version": "1.0.0"}), False)
    # server/channels/app/plugin_install.go@06c37695:extractPlugin.
    assert invalid.value.error_id == "app.plugin.invalid_id.app_error"
    with pytest.raises(TypeError):
        api.install_plugin("path/to/bundle.tar.gz", False)


def test_install_plugin_takes_the_manifest_as_it_is(api: Any) -> None:
    # extractPlugin (server/channels/app/plugin_install.go@06c37695) checks
    # only model.IsValidPluginId: the id is not lower-cased, no version needed.
    installed = api.install_plugin(bundle({"id": "Com.Example.Mixed", "name": "Mixed"}), False)
    assert installed.id == "Com.Example.Mixed" and installed.version == ""
    assert api.get_plugin_status("Com.Example.Mixed").plugin_id == "Com.Example.Mixed"


def test_plugin_http(api: Any) -> None:
    """The served plugin implements no ServeHTTP: 404, as Mattermost answers then."""
    from mattermost_plugin.models import HTTPHeaderValues, HTTPRequestHead

    head = HTTPRequestHead(
        method="POST",
        url=f"/{PLUGIN}/api/v1/hello?x=1",
        header={"Content-Type": HTTPHeaderValues(values=["application/json"])},
    )
    response = api.plugin_http(head, iter([b'{"a":', b"1}"]))
    assert response.status_code == 404
    assert response.header["Content-Type"] == ["text/plain; charset=utf-8"]
    assert resolved(api, response.read()) == b"404 page not found\n"
    # A plugin that is not active: App.ServeInterPluginRequest's http.NotFound
    # (server/channels/app/plugin_requests.go@86b60aad).
    missing = api.plugin_http(HTTPRequestHead(method="GET", url="/com.example.absent/x"))
    assert missing.status_code == 404
    assert resolved(api, missing.read()) == b"404 page not found\n"
    no_id = api.plugin_http(HTTPRequestHead(method="GET", url="http://localhost//x"))
    assert no_id.status_code == 400
    assert resolved(api, no_id.read()).startswith(b"No plugin specified.")
    short = api.plugin_http(HTTPRequestHead(method="GET", url="/nothing"))
    assert short.status_code == 400
    resolved(api, short.read())


def test_plugin_http_failures(api: Any) -> None:
    from mattermost_plugin.models import HTTPRequestHead

    with pytest.raises(TypeError):
        api.plugin_http({"method": "GET"})
    with pytest.raises(TypeError):
        api.plugin_http(HTTPRequestHead(method="GET", url="/x/y"), "not bytes")
    huge = api.plugin_http(HTTPRequestHead(method="GET", url="/" + "u" * (1 << 20)))
    assert huge.status_code == 400
    resolved(api, huge.read())


@dataclasses.dataclass
class Rule:
    word: str
    replacement: str = "***"


@dataclasses.dataclass
class Settings:
    channel: str
    threshold: int = 1
    enabled: bool = False
    rules: list[Rule] = dataclasses.field(default_factory=list)
    note: Optional[str] = None  # noqa: UP045 - the 3.9 matrix evaluates the hint


class TypedSettings(TypedDict, total=False):
    Channel: str
    Threshold: int


def test_load_plugin_configuration(api: Any) -> None:
    api.save_plugin_config(
        {"Channel": "alerts", "Threshold": 3, "Enabled": True, "Rules": [{"Word": "darn"}], "X": 1}
    )
    settings = api.load_plugin_configuration(Settings)
    assert settings == Settings("alerts", 3, True, [Rule("darn")])
    assert isinstance(settings.threshold, int)
    existing = Settings(channel="before", note="kept")
    assert api.load_plugin_configuration(existing) is existing
    assert (existing.channel, existing.note) == ("alerts", "kept")
    assert api.load_plugin_configuration(TypedSettings) == {"Channel": "alerts", "Threshold": 3}
    target: dict[str, Any] = {"old": True}
    assert api.load_plugin_configuration(target)["channel"] == "alerts" and target["old"]


def test_load_plugin_configuration_failures(api: Any) -> None:
    api.save_plugin_config({"Channel": "alerts", "Threshold": 2.5})
    with pytest.raises(TypeError, match="threshold must be a whole number"):
        api.load_plugin_configuration(Settings)
    api.save_plugin_config({"Threshold": 2})
    with pytest.raises(TypeError, match="lack channel"):
        api.load_plugin_configuration(Settings)
    with pytest.raises(TypeError, match="must be a dataclass"):
        api.load_plugin_configuration("Settings")
