"""The dev server's JSON log records, as lines for a person to read."""

from __future__ import annotations

import json
from typing import Any

#: The logger name prefix of a plugin's ``self.logger`` (the runtime's
#: ``mattermost_plugin.plugin.<plugin id>``).
_PLUGIN_LOGGER = "mattermost_plugin.plugin."

#: Fields that say nothing to a plugin author: where go-plugin logged from,
#: and which stream a plugin's line came from.
_QUIET_FIELDS = ("module", "source")

#: The width of the level column.
_LEVEL_WIDTH = 5


def _value(value: Any) -> str:  # noqa: ANN401 - any JSON value
    if isinstance(value, str):
        return (
            value
            if value and not any(c.isspace() or c == '"' for c in value)
            else json.dumps(value)
        )
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _time_of_day(stamp: object) -> str:
    """``HH:MM:SS`` of an RFC 3339 time, as the server wrote it."""
    if isinstance(stamp, str) and "T" in stamp:
        return stamp.partition("T")[2][:8]
    return ""


def _plugin_of(record: dict[str, Any]) -> str:
    """The plugin a record is about, from its fields; removes the fields used."""
    plugin_id = record.pop("plugin_id", None)
    fields = record.get("plugin")
    if isinstance(fields, dict):
        logger = fields.get("logger")
        if isinstance(logger, str) and logger.startswith(_PLUGIN_LOGGER):
            plugin_id = plugin_id or logger[len(_PLUGIN_LOGGER) :]
            del fields["logger"]
            if not fields:
                del record["plugin"]
    return str(plugin_id) if plugin_id else ""


def format_line(line: str) -> str:
    """One line of the server's stderr, readable.

    A JSON record becomes ``HH:MM:SS LEVEL plugin_id message key=value ...``
    (``server`` when no plugin is named); any other line is returned as it
    is.
    """
    text = line.rstrip("\r\n")
    if not text.startswith("{"):
        return text
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return text
    if not isinstance(record, dict):
        return text
    stamp = _time_of_day(record.pop("time", None))
    level = str(record.pop("level", "")).upper().ljust(_LEVEL_WIDTH)
    message = str(record.pop("msg", ""))
    who = _plugin_of(record) or "server"
    for name in _QUIET_FIELDS:
        record.pop(name, None)
    fields = " ".join(f"{key}={_value(value)}" for key, value in record.items())
    return " ".join(part for part in (stamp, level, who, message, fields) if part)


def error_cause(line: str) -> str:
    """The cause that a failed start names in ``line``, or ``""``.

    The server's last line before it exits with an error is
    ``pluginapi-server: <cause>``; a plugin that fails is also logged as an
    error record whose ``error`` field says why.
    """
    text = line.strip()
    prefix = "pluginapi-server: "
    if text.startswith(prefix):
        return text[len(prefix) :]
    if not text.startswith("{"):
        return ""
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return ""
    if not isinstance(record, dict) or str(record.get("level", "")).upper() != "ERROR":
        return ""
    message = str(record.get("msg", ""))
    error = record.get("error")
    plugin_id = record.get("plugin_id")
    cause = f"{message}: {error}" if error else message
    return f"{plugin_id}: {cause}" if plugin_id else cause
