"""The server configuration: the whole of it as a dict, the common parts typed.

Mattermost's configuration (``model.Config``) has some fifty sections that
change with every release, so the Plugin API carries it as the JSON of
``config.json`` inside :class:`~mattermost_plugin.models.Config`, as
upstream serialises it. :class:`ServerConfig` reads that JSON: ``data`` is
the full dict, and properties give typed access to the settings plugins
read most. Numbers keep their JSON type: integers stay ``int``.

    cfg = ServerConfig(api.get_config())
    cfg.site_url                      # ServiceSettings.SiteURL
    cfg.plugin_settings("com.example.plugin")["channel"]
    cfg.data["TeamSettings"]["SiteName"] = "Acme"
    api.save_config(cfg.to_model())
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .models import Config

__all__ = ["SANITIZED", "ServerConfig"]

#: The value that replaces each secret in :meth:`Client.get_config`'s
#: answer; saving it back keeps the stored secret.
SANITIZED = "********************************"


class ServerConfig:
    """A server configuration.

    Attributes:
        data: The whole configuration, as the dict of ``config.json``:
            sections such as ``"ServiceSettings"`` map setting names to
            values. Change it in place, then save :meth:`to_model`.
    """

    def __init__(self, config: Config | Mapping[str, Any]) -> None:
        """Read a configuration from the model that the API returns, or from a dict."""
        if isinstance(config, Config):
            data = json.loads(config.json or "{}")
        elif isinstance(config, Mapping):
            data = json.loads(json.dumps(config))
        else:
            raise TypeError(f"config must be a Config or a mapping, not {type(config).__name__}")
        if not isinstance(data, dict):
            raise ValueError("the configuration is not a JSON object")
        self.data: dict[str, Any] = data

    def _section(self, name: str) -> dict[str, Any]:
        section = self.data.get(name)
        return section if isinstance(section, dict) else {}

    @property
    def site_url(self) -> str:
        """ServiceSettings.SiteURL: the URL users reach the server at."""
        return str(self._section("ServiceSettings").get("SiteURL") or "")

    @property
    def site_name(self) -> str:
        """TeamSettings.SiteName: the server's name."""
        return str(self._section("TeamSettings").get("SiteName") or "")

    @property
    def max_users_per_team(self) -> int:
        """TeamSettings.MaxUsersPerTeam: how many members a team may have."""
        return int(self._section("TeamSettings").get("MaxUsersPerTeam") or 0)

    @property
    def enable_user_access_tokens(self) -> bool:
        """ServiceSettings.EnableUserAccessTokens: whether people may have access tokens."""
        return bool(self._section("ServiceSettings").get("EnableUserAccessTokens"))

    @property
    def plugins_enabled(self) -> bool:
        """PluginSettings.Enable: whether the server runs plugins."""
        return bool(self._section("PluginSettings").get("Enable"))

    def plugin_settings(self, plugin_id: str) -> dict[str, Any]:
        """PluginSettings.Plugins[plugin_id]: a plugin's own settings (a copy)."""
        plugins = self._section("PluginSettings").get("Plugins")
        settings = plugins.get(plugin_id) if isinstance(plugins, dict) else None
        return dict(settings) if isinstance(settings, dict) else {}

    def to_model(self) -> Config:
        """The configuration as the model that :meth:`Client.save_config` takes."""
        return Config(json=json.dumps(self.data, separators=(",", ":")))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerConfig) and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"ServerConfig(site_url={self.site_url!r}, sections={len(self.data)})"
