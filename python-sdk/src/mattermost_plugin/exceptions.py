"""The exceptions of the Plugin API clients, one class per gRPC status code.

This module is their public home, as ``google.api_core.exceptions`` is for
Google's clients; the package root exports the same classes.

Every failed call raises a subclass of :class:`PluginAPIError`, chosen by
the gRPC status code of the failure; no ``grpc.RpcError`` escapes a client
method. When the server failed with a Mattermost AppError, the exception
carries every field of it.

::

    PluginAPIError
    ├── RequestCancelledError      CANCELLED
    │   └── ClientClosedError      CANCELLED: close() cut the call short
    ├── UnknownError               UNKNOWN
    ├── ValidationError            INVALID_ARGUMENT
    ├── DeadlineExceededError      DEADLINE_EXCEEDED
    ├── NotFoundError              NOT_FOUND
    ├── AlreadyExistsError         ALREADY_EXISTS
    ├── PermissionDeniedError      PERMISSION_DENIED
    ├── ResourceExhaustedError     RESOURCE_EXHAUSTED
    ├── FailedPreconditionError    FAILED_PRECONDITION
    ├── AbortedError               ABORTED
    ├── OutOfRangeError            OUT_OF_RANGE
    ├── UnimplementedError         UNIMPLEMENTED
    ├── InternalError              INTERNAL
    ├── UnavailableError           UNAVAILABLE
    ├── DataLossError              DATA_LOSS
    └── UnauthenticatedError       UNAUTHENTICATED
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import grpc

if TYPE_CHECKING:
    # For annotations only: importing the protobuf runtime is left to the
    # first call that needs it.
    from .grpc import plugin_pb2

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "ClientClosedError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "PluginAPIError",
    "RequestCancelledError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "ValidationError",
    "exception_class_for",
]


#: The exception class of each status code, filled in by the classes below
#: as they are defined, so that the list of codes exists once.
_EXCEPTIONS: dict[grpc.StatusCode, type[PluginAPIError]] = {}


class PluginAPIError(Exception):
    """A Plugin API call failed.

    The exception pickles with all its fields (the original gRPC error,
    kept as ``__cause__``, does not travel), and prints on one line.

    Attributes:
        code: The gRPC status code of the failure.
        message: The status message; for an AppError, its message.
        app_error: The Mattermost AppError the server sent, if any.
        details: Every error detail of the status, decoded where known.
    """

    #: The status code this class stands for; ``None`` on the base class.
    grpc_status_code: ClassVar[grpc.StatusCode | None] = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("grpc_status_code")
        if code is not None:
            if code in _EXCEPTIONS:
                raise TypeError(f"{code} already has {_EXCEPTIONS[code].__name__}")
            _EXCEPTIONS[code] = cls

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        app_error: plugin_pb2.AppError | None = None,
        details: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(message)
        resolved = code if code is not None else self.grpc_status_code
        self.code: grpc.StatusCode = resolved if resolved is not None else grpc.StatusCode.UNKNOWN
        self.message = message
        self.app_error = app_error
        self.details = details

    @property
    def error_id(self) -> str:
        """The AppError id, such as ``app.user.missing_account.const``; empty without one."""
        return self.app_error.id if self.app_error is not None else ""

    @property
    def detailed_error(self) -> str:
        """The AppError's detail for logs; empty without one."""
        return self.app_error.detailed_error if self.app_error is not None else ""

    @property
    def request_id(self) -> str:
        """The id of the failed request, if the server knows it."""
        return self.app_error.request_id if self.app_error is not None else ""

    @property
    def status_code(self) -> int:
        """The AppError's HTTP status code; 0 without an AppError."""
        return self.app_error.status_code if self.app_error is not None else 0

    @property
    def where(self) -> str:
        """Where the AppError was raised, such as ``GetUser``."""
        return self.app_error.where if self.app_error is not None else ""

    @property
    def is_oauth(self) -> bool:
        """Whether the AppError comes from an OAuth flow."""
        return self.app_error.is_oauth if self.app_error is not None else False

    @property
    def params(self) -> Mapping[str, str]:
        """The AppError's message parameters."""
        return dict(self.app_error.params) if self.app_error is not None else {}

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.app_error is not None:
            text += f" [{self.app_error.id}"
            if self.app_error.where:
                text += f" in {self.app_error.where}"
            text += "]"
            if self.app_error.detailed_error:
                text += f" ({self.app_error.detailed_error})"
        # One line, whatever the server put in its texts.
        return " ".join(text.splitlines())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code.name})"


class RequestCancelledError(PluginAPIError):
    """CANCELLED: the call was cancelled, usually by the caller."""

    grpc_status_code = grpc.StatusCode.CANCELLED


class UnknownError(PluginAPIError):
    """UNKNOWN: the server failed with a plain error that has no code."""

    grpc_status_code = grpc.StatusCode.UNKNOWN


class ValidationError(PluginAPIError):
    """INVALID_ARGUMENT: the input was rejected (HTTP 400); nothing was changed."""

    grpc_status_code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(PluginAPIError):
    """DEADLINE_EXCEEDED: the call did not finish within its timeout."""

    grpc_status_code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(PluginAPIError):
    """NOT_FOUND: the entity the call names does not exist (HTTP 404)."""

    grpc_status_code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(PluginAPIError):
    """ALREADY_EXISTS: a conflicting entity exists (HTTP 409)."""

    grpc_status_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(PluginAPIError):
    """PERMISSION_DENIED: the plugin may not do this (HTTP 403)."""

    grpc_status_code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(PluginAPIError):
    """RESOURCE_EXHAUSTED: a size or rate limit was hit (HTTP 413, 429)."""

    grpc_status_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(PluginAPIError):
    """FAILED_PRECONDITION: the system is not in a state that allows the call."""

    grpc_status_code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(PluginAPIError):
    """ABORTED: the call was aborted, typically by a concurrency conflict."""

    grpc_status_code = grpc.StatusCode.ABORTED


class OutOfRangeError(PluginAPIError):
    """OUT_OF_RANGE: the call went past the valid range."""

    grpc_status_code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(PluginAPIError):
    """UNIMPLEMENTED: the server does not provide this method (HTTP 501)."""

    grpc_status_code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(PluginAPIError):
    """INTERNAL: the server failed (HTTP 500)."""

    grpc_status_code = grpc.StatusCode.INTERNAL


class UnavailableError(PluginAPIError):
    """UNAVAILABLE: the server cannot be reached or cannot serve now; retry later."""

    grpc_status_code = grpc.StatusCode.UNAVAILABLE


class DataLossError(PluginAPIError):
    """DATA_LOSS: data was lost or corrupted."""

    grpc_status_code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(PluginAPIError):
    """UNAUTHENTICATED: the plugin token is missing or wrong (HTTP 401)."""

    grpc_status_code = grpc.StatusCode.UNAUTHENTICATED


class ClientClosedError(RequestCancelledError, RuntimeError):
    """The client was closed: the call was cut short by ``close()``, or came after it.

    It is also raised by entering a closed client in a ``with`` block. It is
    a :class:`RequestCancelledError` (code CANCELLED) and a ``RuntimeError``.
    A task that the caller cancels still gets ``asyncio.CancelledError``.
    """


def exception_class_for(code: grpc.StatusCode) -> type[PluginAPIError]:
    """Return the exception class for a status code; the base class for OK."""
    return _EXCEPTIONS.get(code, PluginAPIError)
