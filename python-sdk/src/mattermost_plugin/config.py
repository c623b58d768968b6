"""Client settings: the timeout marker, channel options and the wire constants.

This module is the one place, on the Python side, for the constants that the
Go server shares: the discovery variables, the metadata entry of the token
and the fields of the reference server's ready line. A test checks them
against the Go server's.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Union

__all__ = [
    "AUTH_SCHEME",
    "DEFAULT",
    "DEFAULT_KEEPALIVE_TIME",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_TIMEOUT",
    "ENV_TARGET",
    "ENV_TOKEN",
    "MAX_MESSAGE_SIZE",
    "MAX_TIMEOUT",
    "METADATA_KEY",
    "MIN_KEEPALIVE_TIME",
    "READY_FIELDS",
    "READY_OPTIONAL_FIELDS",
    "ChannelOptions",
    "DefaultType",
    "Timeout",
]

#: Environment variable with the gRPC target of the Plugin API server, such
#: as ``unix:///run/mm/pluginapi.sock`` or ``127.0.0.1:8065``.
ENV_TARGET = "MATTERMOST_PLUGIN_API_TARGET"

#: Environment variable with the plugin's token.
ENV_TOKEN = "MATTERMOST_PLUGIN_API_TOKEN"

#: Metadata entry that carries the token, as ``"<AUTH_SCHEME> <token>"``.
METADATA_KEY = "authorization"

#: Authorization scheme of the token (RFC 6750); the server ignores its case.
AUTH_SCHEME = "Bearer"

#: Fields of the one JSON line that the reference server (pluginapi-server)
#: prints on stdout once it listens.
READY_FIELDS = ("target", "token", "pid", "max_message_size", "keepalive_min_time_ms")

#: Fields of that line that only some servers print: the dev server's HTTP
#: base URL, when it runs a plugin.
READY_OPTIONAL_FIELDS = ("http_url",)

#: Seconds a call may take unless the client or the call says otherwise.
DEFAULT_TIMEOUT = 30.0

#: Longest timeout accepted, in seconds (ten years): far beyond any real
#: call, and far below where gRPC's deadline arithmetic overflows. Use
#: ``None`` for no deadline.
MAX_TIMEOUT = 10 * 365 * 24 * 3600.0

#: Largest message, in bytes, that a client sends or receives: 64 MiB, the
#: same limit as the Go server's.
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024

#: Largest message size a channel accepts: gRPC stores it in a signed 32-bit
#: integer.
MAX_MESSAGE_SIZE = 2**31 - 1

#: Shortest keepalive interval, in seconds, that the Go server accepts
#: (its keepalive enforcement MinTime); pinging more often earns a
#: too_many_pings GOAWAY.
MIN_KEEPALIVE_TIME = 10.0

#: Longest keepalive interval or timeout, in seconds: gRPC stores them as
#: signed 32-bit milliseconds.
_MAX_KEEPALIVE = (2**31 - 1) / 1000

#: Seconds between keepalive pings, well above :data:`MIN_KEEPALIVE_TIME`.
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

    Every value is checked at construction; a bad one raises ``TypeError``
    or ``ValueError`` that names it.

    Attributes:
        max_message_size: Largest message sent or received, in bytes: 1 to
            :data:`MAX_MESSAGE_SIZE`.
        keepalive_time: Seconds between keepalive pings: at least
            :data:`MIN_KEEPALIVE_TIME`, the Go server's minimum, and at most
            about 24.8 days.
        keepalive_timeout: Seconds to wait for a ping's answer: more than 0
            and at most about 24.8 days.
    """

    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    keepalive_time: float = DEFAULT_KEEPALIVE_TIME
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT

    def __post_init__(self) -> None:
        size = self.max_message_size
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"max_message_size must be an int, not {type(size).__name__}")
        if not 0 < size <= MAX_MESSAGE_SIZE:
            raise ValueError(f"max_message_size must be 1 to {MAX_MESSAGE_SIZE} bytes, not {size}")
        for name, low in (("keepalive_time", MIN_KEEPALIVE_TIME), ("keepalive_timeout", 0.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be seconds, not {type(value).__name__}")
            if not (value >= low and value > 0 and value <= _MAX_KEEPALIVE):
                bound = f"at least {low:g}" if low else "more than 0"
                raise ValueError(
                    f"{name} must be {bound} and at most {_MAX_KEEPALIVE:g} seconds, not {value!r}"
                )


for _cls in (ChannelOptions, DefaultType):
    _cls.__module__ = __name__
del _cls
