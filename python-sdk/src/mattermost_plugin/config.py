"""Client settings: the timeout marker, channel options and discovery variables."""

from ._config import (
    DEFAULT,
    DEFAULT_KEEPALIVE_TIME,
    DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_TIMEOUT,
    ENV_TARGET,
    ENV_TOKEN,
    ChannelOptions,
    DefaultType,
    Timeout,
)

__all__ = [
    "DEFAULT",
    "DEFAULT_KEEPALIVE_TIME",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_TIMEOUT",
    "ENV_TARGET",
    "ENV_TOKEN",
    "ChannelOptions",
    "DefaultType",
    "Timeout",
]

for _name in ("ChannelOptions", "DefaultType"):
    globals()[_name].__module__ = __name__
del _name
