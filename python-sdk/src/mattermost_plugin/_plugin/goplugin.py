"""The hashicorp/go-plugin protocol for non-Go plugins, on the plugin's side.

A host (Mattermost, or the supervisor of this project) starts the plugin
with a magic cookie in the environment, reads one handshake line from its
stdout, ``1|1|unix|PATH|grpc|`` (a sixth field carries the server
certificate under AutoMTLS), and then talks gRPC to ``PATH``. Besides the
plugin's own service, the host expects three from go-plugin:

* ``grpc.health.v1.Health``: the service ``plugin`` is SERVING;
* ``plugin.GRPCController/Shutdown``: stop the plugin;
* ``plugin.GRPCStdio/StreamStdio``: the plugin's output. The plugin's
  prints are logged instead, so the stream stays open and idle;
* ``plugin.GRPCBroker/StartStream``, which the host opens on connect; this
  runtime needs no brokered connections and reads the stream to its end.

The message types are built here from descriptors in a private pool, so
that they cannot clash with another copy of go-plugin's or gRPC's protos
in the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

__all__ = [
    "APP_PROTOCOL_VERSION",
    "CORE_PROTOCOL_VERSION",
    "MAGIC_COOKIE_KEY",
    "MAGIC_COOKIE_VALUE",
    "HandshakeError",
    "ProtocolServices",
    "check_environment",
    "handshake_line",
]

#: go-plugin's core protocol version.
CORE_PROTOCOL_VERSION = 1
#: Mattermost's plugin protocol version.
APP_PROTOCOL_VERSION = 1
#: The magic cookie of Mattermost plugins (plugin.HandshakeConfig upstream).
MAGIC_COOKIE_KEY = "MATTERMOST_PLUGIN"
MAGIC_COOKIE_VALUE = "Securely message teams, anywhere."
#: The health service name that go-plugin hosts check.
HEALTH_SERVICE_NAME = "plugin"

_SERVING = 1
_SERVICE_UNKNOWN = 3


class HandshakeError(Exception):
    """The process was not started by a go-plugin host that it can serve."""


def check_environment(environ: Mapping[str, str]) -> None:
    """Check the magic cookie and the protocol versions that the host offers.

    Raises:
        HandshakeError: The cookie is missing or wrong, or the host offers
            no protocol version that this runtime speaks.
    """
    if environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        raise HandshakeError(
            "This program is a Mattermost plugin; the Mattermost server starts it. "
            "It is not meant to be run directly (the magic cookie "
            f"{MAGIC_COOKIE_KEY} is missing or wrong). To try a plugin locally, "
            "run it under the dev server: mattermost-plugin dev DIR."
        )
    offered = environ.get("PLUGIN_PROTOCOL_VERSIONS", "")
    if offered:
        versions = {v.strip() for v in offered.split(",")}
        if str(APP_PROTOCOL_VERSION) not in versions:
            raise HandshakeError(
                f"the host speaks plugin protocol versions {offered[:100]!r}; "
                f"this plugin speaks {APP_PROTOCOL_VERSION}"
            )


def handshake_line(network: str, address: str, server_cert: str = "") -> str:
    """The line that tells the host where the plugin listens."""
    return f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{network}|{address}|grpc|{server_cert}"


def _message_classes() -> dict[str, Any]:
    """Build the health messages in a private descriptor pool."""
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="mattermost_plugin/goplugin_health.proto",
        package="mattermost_plugin.goplugin",
        syntax="proto3",
    )
    proto.message_type.add(name="HealthCheckRequest").field.add(
        name="service", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL
    )
    proto.message_type.add(name="HealthCheckResponse").field.add(
        name="status", number=1, type=field.TYPE_INT32, label=field.LABEL_OPTIONAL
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"mattermost_plugin.goplugin.{name}")
        )
        for name in ("HealthCheckRequest", "HealthCheckResponse")
    }


_MESSAGES = _message_classes()
HealthCheckRequest: type[Message] = _MESSAGES["HealthCheckRequest"]
HealthCheckResponse: type[Message] = _MESSAGES["HealthCheckResponse"]


class _HealthRequest(Protocol):
    service: str


class ProtocolServices:
    """go-plugin's health, controller, stdio and broker services.

    Args:
        stopping: Set when the host asks the plugin to shut down, or the
            plugin stops for another reason; the streams end then.
    """

    def __init__(self, stopping: asyncio.Event) -> None:
        self._stopping = stopping

    def generic_handlers(self) -> list[grpc.GenericRpcHandler]:
        """The services' handlers, for ``server.add_generic_rpc_handlers``."""
        return [
            grpc.method_handlers_generic_handler(
                "grpc.health.v1.Health",
                {
                    "Check": grpc.unary_unary_rpc_method_handler(
                        self._check,
                        request_deserializer=HealthCheckRequest.FromString,
                        response_serializer=HealthCheckResponse.SerializeToString,
                    ),
                    "Watch": grpc.unary_stream_rpc_method_handler(
                        self._watch,
                        request_deserializer=HealthCheckRequest.FromString,
                        response_serializer=HealthCheckResponse.SerializeToString,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCController",
                # Bytes in and out: these messages are empty or ignored.
                {"Shutdown": grpc.unary_unary_rpc_method_handler(self._shutdown)},
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCStdio",
                {"StreamStdio": grpc.unary_stream_rpc_method_handler(self._stdio)},
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCBroker",
                {"StartStream": grpc.stream_stream_rpc_method_handler(self._broker)},
            ),
        ]

    def _status(self, service: str) -> int:
        return _SERVING if service in ("", HEALTH_SERVICE_NAME) else _SERVICE_UNKNOWN

    async def _check(
        self, request: _HealthRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Message:
        if self._status(request.service) == _SERVICE_UNKNOWN:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return HealthCheckResponse(status=_SERVING)

    async def _watch(
        self, request: _HealthRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Message]:
        yield HealthCheckResponse(status=self._status(request.service))
        await self._stopping.wait()

    async def _shutdown(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        self._stopping.set()
        return b""

    async def _stdio(
        self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        await self._stopping.wait()
        return
        yield b""  # pragma: no cover - makes this an async generator

    async def _broker(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        async def drain() -> None:
            async for _ in requests:
                pass

        # Until the host ends the stream or the plugin stops.
        draining = asyncio.ensure_future(drain())
        stopping = asyncio.ensure_future(self._stopping.wait())
        _, pending = await asyncio.wait((draining, stopping), return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return
        yield b""  # pragma: no cover - makes this an async generator


def socket_directory(environ: Mapping[str, str]) -> str | None:
    """The directory the host wants plugin sockets in, if it says."""
    return environ.get("PLUGIN_UNIX_SOCKET_DIR") or None
