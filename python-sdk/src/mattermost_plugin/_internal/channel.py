"""The channel factory: one place that turns settings into gRPC channels."""

from __future__ import annotations

import grpc
import grpc.aio

from .._version import __version__
from ..config import ChannelOptions

__all__ = ["channel_args", "check_target", "create_aio_channel", "create_channel"]


def _user_agent() -> str:
    # The version is a constant: importlib.metadata alone costs tens of
    # milliseconds of import time.
    return f"mattermost-plugin-sdk-python/{__version__}"


def channel_args(options: ChannelOptions) -> list[tuple[str, str | int]]:
    """Return the gRPC channel arguments for ``options``."""
    return [
        ("grpc.max_send_message_length", options.max_message_size),
        ("grpc.max_receive_message_length", options.max_message_size),
        ("grpc.keepalive_time_ms", int(options.keepalive_time * 1000)),
        ("grpc.keepalive_timeout_ms", int(options.keepalive_timeout * 1000)),
        # The Go server permits pings without calls in flight, so an idle
        # plugin keeps its connection and notices a dead server.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.primary_user_agent", _user_agent()),
    ]


# The longest unix socket path the kernel accepts (sockaddr_un holds 108
# bytes on Linux, the terminating NUL included).
MAX_UNIX_SOCKET_PATH = 107


def check_target(target: str) -> str:
    """Return ``target`` if it is a usable gRPC target; raise ``ValueError`` otherwise."""
    if not target or target.strip() != target:
        raise ValueError(f"invalid gRPC target {target!r}")
    if target.startswith("unix:"):
        path = target.removeprefix("unix:")
        if path.startswith("//"):
            path = path[2:]
        length = len(path.encode())
        if not path or length > MAX_UNIX_SOCKET_PATH:
            raise ValueError(
                f"invalid unix socket target {target!r}: the path must have 1 to "
                f"{MAX_UNIX_SOCKET_PATH} bytes, not {length}"
            )
    return target


def create_channel(target: str, options: ChannelOptions) -> grpc.Channel:
    """Return a sync channel to ``target``, a unix (``unix:///path``) or TCP target."""
    return grpc.insecure_channel(check_target(target), options=channel_args(options))


def create_aio_channel(target: str, options: ChannelOptions) -> grpc.aio.Channel:
    """Return an asyncio channel to ``target``, a unix or TCP target."""
    return grpc.aio.insecure_channel(check_target(target), options=channel_args(options))
