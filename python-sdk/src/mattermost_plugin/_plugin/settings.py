"""The plugin's settings with the defaults of its manifest's settings_schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["with_defaults"]


def with_defaults(settings: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``settings`` with a default for every unset setting of the schema.

    Mattermost keeps only the settings that an admin saved; a Go plugin
    sees the defaults of ``settings_schema.settings`` through
    ``LoadPluginConfiguration``, which lays the saved settings over them
    (server/channels/app/plugin_api.go). ``self.configuration`` does the
    same, keeping the keys' case: a saved key counts as set whatever its
    case, and a setting without a ``default``, or one of a section (which
    upstream gives no default either), gets none.
    """
    merged = dict(settings)
    schema = manifest.get("settings_schema")
    entries = schema.get("settings") if isinstance(schema, Mapping) else None
    if not isinstance(entries, list):
        return merged
    saved = {str(key).lower() for key in settings}
    for entry in entries:
        if not isinstance(entry, Mapping) or "default" not in entry:
            continue
        key = entry.get("key")
        if isinstance(key, str) and key and key.lower() not in saved:
            merged[key] = entry["default"]
            saved.add(key.lower())
    return merged
