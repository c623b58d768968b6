"""Write Mattermost server plugins in Python.

:class:`Client` and :class:`AsyncClient` call the Plugin API of the server
that started the plugin; :mod:`mattermost_plugin.models` holds the model
types and :mod:`mattermost_plugin.config` the client settings; every failed
call raises a :class:`PluginAPIError` subclass, also importable from
:mod:`mattermost_plugin.exceptions`.
"""

from . import config, exceptions, models
from ._async_client import AsyncClient
from ._client import Client
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
)

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "AsyncClient",
    "Client",
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
    "config",
    "exceptions",
    "models",
]

#: The version of this package.
__version__ = "0.1.0"

# Show the public names as mattermost_plugin.X in reprs, tracebacks and docs.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
