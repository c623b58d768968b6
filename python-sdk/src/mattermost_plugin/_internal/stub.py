"""The Plugin API stub, made from the service descriptor.

It makes the same callables as grpc_tools' generated ``PluginAPIStub``: the
same paths, serializers and registered-method flag, all of them when the
stub is made, as the generated one does (a registered method's handle
must not be made on a channel that may be closing under it). What it saves
is the generated module: at 261 methods, importing ``api_pb2_grpc`` alone
took about a tenth of a second, most of the SDK's import time.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import grpc
import grpc.aio
from google.protobuf.message_factory import GetMessageClass

from ..grpc import api_pb2

__all__ = ["PluginAPIStub"]

_SERVICE = api_pb2.DESCRIPTOR.services_by_name["PluginAPI"]

#: The factory method of a channel for (client streaming, server streaming).
_FACTORIES = {
    (False, False): "unary_unary",
    (False, True): "unary_stream",
    (True, False): "stream_unary",
    (True, True): "stream_stream",
}


@functools.cache
def _methods() -> tuple[tuple[str, str, str, Callable[..., Any], Callable[..., Any]], ...]:
    """Each method's name, path, factory, request serializer and response deserializer."""
    out = []
    for method in _SERVICE.methods:
        request = GetMessageClass(method.input_type)
        response = GetMessageClass(method.output_type)
        out.append(
            (
                method.name,
                f"/{_SERVICE.full_name}/{method.name}",
                _FACTORIES[method.client_streaming, method.server_streaming],
                request.SerializeToString,
                response.FromString,
            )
        )
    return tuple(out)


class PluginAPIStub:
    """A stub of the PluginAPI service on ``channel``, sync or asyncio."""

    def __init__(self, channel: grpc.Channel | grpc.aio.Channel) -> None:
        for name, path, factory, serialize, deserialize in _methods():
            make = getattr(channel, factory)
            setattr(
                self,
                name,
                make(
                    path,
                    request_serializer=serialize,
                    response_deserializer=deserialize,
                    _registered_method=True,
                ),
            )
