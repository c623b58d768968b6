"""Client settings: the timeout marker, channel options and discovery variables."""

from __future__ import annotations

import dataclasses
import enum
from typing import Union

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

#: Environment variable with the gRPC target of the Plugin API server, such
#: as ``unix:///run/mm/pluginapi.sock`` or ``127.0.0.1:8065``.
ENV_TARGET = "MATTERMOST_PLUGIN_API_TARGET"

#: Environment variable with the plugin's token.
ENV_TOKEN = "MATTERMOST_PLUGIN_API_TOKEN"

#: Seconds a call may take unless the client or the call says otherwise.
DEFAULT_TIMEOUT = 30.0

#: Largest message, in bytes, that a client sends or receives: 64 MiB, the
#: same limit as the Go server's.
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024

#: Seconds between keepalive pings. The Go server accepts pings every 10
#: seconds or less often, so the default never provokes a too_many_pings
#: GOAWAY.
DEFAULT_KEEPALIVE_TIME = 30.0

#: Seconds to wait for a keepalive ping's answer before the connection is
#: considered dead.
DEFAULT_KEEPALIVE_TIMEOUT = 10.0


class DefaultType(enum.Enum):
    """Type of :data:`DEFAULT`, the "use the client's setting" marker."""

    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "DEFAULT"


#: Marker for "use the client's default", as opposed to ``None``, which
#: means "no deadline".
DEFAULT = DefaultType.DEFAULT

#: What a ``timeout`` argument accepts: seconds, ``None`` for no deadline, or
#: :data:`DEFAULT`.
Timeout = Union[float, None, DefaultType]


@dataclasses.dataclass(frozen=True)
class ChannelOptions:
    """Transport settings of a client's gRPC channel.

    Attributes:
        max_message_size: Largest message sent or received, in bytes.
        keepalive_time: Seconds between keepalive pings; must not be below
            the server's minimum (10 seconds for the Go server).
        keepalive_timeout: Seconds to wait for a ping's answer.
    """

    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    keepalive_time: float = DEFAULT_KEEPALIVE_TIME
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT

    def __post_init__(self) -> None:
        if self.max_message_size <= 0:
            raise ValueError(f"max_message_size must be positive, not {self.max_message_size}")
        if self.keepalive_time <= 0 or self.keepalive_timeout <= 0:
            raise ValueError("keepalive_time and keepalive_timeout must be positive")


for _cls in (ChannelOptions, DefaultType):
    _cls.__module__ = __name__
del _cls
