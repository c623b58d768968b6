"""self.configuration: the saved settings over the settings_schema defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mattermost_plugin._plugin.settings import with_defaults

pytest_plugins = ["mattermost_plugin.pytest_plugin"]

SCHEMA = {
    "settings_schema": {
        "settings": [
            {"key": "Greeting", "type": "text", "default": "Hello"},
            {"key": "Loud", "type": "bool", "default": False},
            {"key": "Limit", "type": "number", "default": 3},
            {"key": "NoDefault", "type": "text"},
        ],
        "sections": [{"key": "s", "settings": [{"key": "InSection", "default": "x"}]}],
    }
}


@pytest.mark.parametrize(
    ("saved", "expected"),
    [
        ({}, {"Greeting": "Hello", "Loud": False, "Limit": 3}),
        ({"Greeting": "Hi"}, {"Greeting": "Hi", "Loud": False, "Limit": 3}),
        ({"greeting": "Hi"}, {"greeting": "Hi", "Loud": False, "Limit": 3}),
        ({"Loud": True, "Other": 1}, {"Greeting": "Hello", "Loud": True, "Limit": 3, "Other": 1}),
        ({"Limit": None}, {"Greeting": "Hello", "Loud": False, "Limit": None}),
    ],
)
def test_saved_settings_win_over_the_defaults(saved: dict[str, Any], expected: Any) -> None:
    assert with_defaults(saved, SCHEMA) == expected


@pytest.mark.parametrize(
    "manifest",
    [
        {},
        {"settings_schema": None},
        {"settings_schema": {"settings": "bad"}},
        {"settings_schema": {"settings": [1, {"key": 2, "default": 1}, {"default": 1}]}},
    ],
)
def test_a_manifest_without_a_usable_schema_adds_nothing(manifest: dict[str, Any]) -> None:
    assert with_defaults({"a": 1}, manifest) == {"a": 1}


PLUGIN = """
import mattermost_plugin as mp

class Settings(mp.Plugin):
    def on_configuration_change(self):
        self.api.kv_set("seen", repr(sorted(self.configuration.items())).encode())
"""


def test_the_plugin_sees_the_defaults_of_its_manifest(plugin_server: Any, tmp_path: Path) -> None:
    plugin = tmp_path / "settings"
    plugin.mkdir()
    (plugin / "plugin.py").write_text(PLUGIN)
    manifest = {
        "id": "test.settings",
        "version": "0.1.0",
        "server": {"python": {"entry": "plugin.py:Settings"}},
        **SCHEMA,
    }
    (plugin / "plugin.json").write_text(json.dumps(manifest))
    server = plugin_server(plugin)
    with server.client() as api:
        assert (
            api.kv_get("seen")
            == repr(sorted({"Greeting": "Hello", "Loud": False, "Limit": 3}.items())).encode()
        )
        with server.configuration_applied():
            api.save_plugin_config({"Greeting": "Hi"})
        assert (
            api.kv_get("seen")
            == repr(sorted({"Greeting": "Hi", "Loud": False, "Limit": 3}.items())).encode()
        )
        # The API itself answers as upstream's GetPluginConfig: saved settings only.
        assert api.get_plugin_config() == {"Greeting": "Hi"}
