"""End to end: the plugin area, through both clients against the Go server.

The reference server serves one plugin, com.example.plugin, installed and
enabled. Installing plugins streams a bundle; it arrives with the files
area.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from typing import Any

import pytest

import mattermost_plugin as mp

PLUGIN = "com.example.plugin"


def test_plugin_settings_round_trip(api: Any) -> None:
    assert api.get_plugin_config() == {}
    settings = {"channel": "alerts", "threshold": 3, "rules": [{"word": "darn"}], "on": True}
    api.save_plugin_config(settings)
    assert api.get_plugin_config() == {**settings, "threshold": 3.0}
    assert api.load_plugin_configuration() == api.get_plugin_config()
    cfg = mp.ServerConfig(api.get_config())
    assert cfg.plugin_settings(PLUGIN)["channel"] == "alerts"
    with pytest.raises(mp.ValidationError):
        api.save_plugin_config({"big": "x" * (65 << 10)})
    with pytest.raises(TypeError):
        api.save_plugin_config({"bad": {1, 2}})


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
    with pytest.raises(mp.ValidationError):
        api.get_plugin_status("")


def test_register_collection_and_topic(api: Any) -> None:
    api.register_collection_and_topic("boards", "cards")
    with pytest.raises(mp.ValidationError):
        api.register_collection_and_topic("", "cards")


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
    with pytest.raises(mp.ValidationError):
        api.install_plugin(bundle({"id": "x", "version": "1.0.0"}), False)
    with pytest.raises(TypeError):
        api.install_plugin("path/to/bundle.tar.gz", False)
