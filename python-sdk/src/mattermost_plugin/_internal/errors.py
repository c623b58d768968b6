"""The one place where gRPC errors become SDK exceptions, and AppErrors status details."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from ..exceptions import PluginAPIError, exception_class_for
from ..grpc import plugin_pb2

__all__ = ["app_error_trailers", "from_rpc_error"]

_DETAILS_KEY = "grpc-status-details-bin"
_APP_ERROR_TYPE = "type.googleapis.com/mattermost.plugin.AppError"


def app_error_trailers(
    code: grpc.StatusCode, message: str, app_error: plugin_pb2.AppError
) -> tuple[tuple[str, bytes], ...]:
    """The trailing metadata that carries ``app_error`` in a status's details.

    It is what :func:`from_rpc_error` decodes, and what the Go server sends:
    a google.rpc.Status with the AppError packed as its one detail.
    """
    status = plugin_pb2.ErrorStatus(code=code.value[0], message=message)
    status.details.add(type_url=_APP_ERROR_TYPE, value=app_error.SerializeToString())
    return ((_DETAILS_KEY, status.SerializeToString()),)


def _decode_details(metadata: Iterable[tuple[str, str | bytes]] | None) -> tuple[Any, ...]:
    """Decode the rich status in the trailers; unknown details stay raw."""
    for key, value in metadata or ():
        if key != _DETAILS_KEY or not isinstance(value, bytes):
            continue
        status = plugin_pb2.ErrorStatus()
        try:
            status.ParseFromString(value)
        except DecodeError:
            return ()
        decoded: list[Any] = []
        for detail in status.details:
            if detail.type_url == _APP_ERROR_TYPE:
                app_error = plugin_pb2.AppError()
                try:
                    app_error.ParseFromString(detail.value)
                except DecodeError:
                    decoded.append(detail)
                    continue
                decoded.append(app_error)
            else:
                decoded.append(detail)
        return tuple(decoded)
    return ()


def from_rpc_error(
    error: grpc.RpcError, method: str = "", timeout: float | None = None
) -> PluginAPIError:
    """Translate a failed gRPC call into the matching :class:`PluginAPIError`.

    This is the one place where gRPC errors become SDK exceptions. It works
    for the errors of sync calls and for ``grpc.aio.AioRpcError``. The
    caller chains the original error (``raise ... from error``). ``method``
    and ``timeout`` name the call in a deadline's message.
    """
    code = grpc.StatusCode.UNKNOWN
    message = str(error)
    trailers: Iterable[tuple[str, str | bytes]] | None = None
    if isinstance(error, (grpc.Call, grpc.aio.AioRpcError)):
        code = error.code()
        message = error.details() or ""
        trailers = error.trailing_metadata()
    details = _decode_details(trailers)
    app_error = next((d for d in details if isinstance(d, plugin_pb2.AppError)), None)
    if app_error is not None and app_error.message:
        message = app_error.message
    if code == grpc.StatusCode.DEADLINE_EXCEEDED and method:
        limit = "no deadline" if timeout is None else f"its deadline of {timeout:g} s"
        message = f"{method} did not finish within {limit}: {message}"
    return exception_class_for(code)(message, code=code, app_error=app_error, details=details)
