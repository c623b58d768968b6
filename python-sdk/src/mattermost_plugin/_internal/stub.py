"""The Plugin API stub, made from the table of the service's RPCs.

It makes the same callables as grpc_tools' generated ``PluginAPIStub``: the
same paths, serializers and registered-method flag, all of them when the
stub is made, as the generated one does (a registered method's handle
must not be made on a channel that may be closing under it). What it saves
is the generated modules: at 261 methods, importing ``api_pb2_grpc`` alone
took about a tenth of a second, most of the SDK's import time, and
``api_pb2`` imports the protobuf module of every domain. The table
(``_api.RPCS``) names each RPC's response message by module and name,
and the module is imported when the first response of that RPC arrives.
"""

from __future__ import annotations

import functools
import importlib
import operator
from typing import Any, Callable

import grpc
import grpc.aio

__all__ = ["PluginAPIStub"]


#: A request's wire form: every request message serializes itself.
_serialize = operator.methodcaller("SerializeToString")


def _deserializer(module: str, name: str) -> Callable[[bytes], Any]:
    """The response deserializer of an RPC whose response is ``module.name``.

    The module is imported at the first response; concurrent first responses
    import it once (imports are locked) and find the same class.
    """
    from_string: Callable[[bytes], Any] | None = None

    def deserialize(data: bytes) -> Any:  # noqa: ANN401 - the response message
        nonlocal from_string
        if from_string is None:
            grpc_package = f"{__package__.rpartition('.')[0]}.grpc"
            message = getattr(importlib.import_module(f"{grpc_package}.{module}"), name)
            from_string = message.FromString
        return from_string(data)

    return deserialize


@functools.cache
def _methods() -> tuple[tuple[str, str, str, Callable[[bytes], Any]], ...]:
    """Each method's name, path, factory and response deserializer."""
    # Imported here, not at the top: the _api package imports this module
    # (through _internal.core) while it initializes.
    from .._api import RPCS, SERVICE

    return tuple(
        (name, f"/{SERVICE}/{name}", factory, _deserializer(module, response))
        for name, factory, module, response in RPCS
    )


class PluginAPIStub:
    """A stub of the PluginAPI service on ``channel``, sync or asyncio."""

    def __init__(self, channel: grpc.Channel | grpc.aio.Channel) -> None:
        for name, path, factory, deserialize in _methods():
            make = getattr(channel, factory)
            setattr(
                self,
                name,
                make(
                    path,
                    request_serializer=_serialize,
                    response_deserializer=deserialize,
                    _registered_method=True,
                ),
            )
