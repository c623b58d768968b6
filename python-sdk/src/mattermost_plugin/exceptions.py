"""The exceptions of the Plugin API clients, one class per gRPC status code.

This is their public home, as ``google.api_core.exceptions`` is for Google's
clients; the package root exports the same classes.
"""

from ._errors import (
    AbortedError,
    AlreadyExistsError,
    ClientClosedError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    PluginAPIError,
    RequestCancelledError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
    ValidationError,
    exception_class_for,
)

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
