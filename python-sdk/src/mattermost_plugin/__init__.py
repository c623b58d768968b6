"""Write Mattermost server plugins in Python.

A plugin subclasses :class:`Plugin` (or :class:`AsyncPlugin`), handles
hooks with methods named like them (``message_will_be_posted``) or marked
with :func:`hook`, and calls :func:`run` from its entry point.

:class:`Client` and :class:`AsyncClient` call the Plugin API of the server
that started the plugin; :mod:`mattermost_plugin.models` holds the model
types and :mod:`mattermost_plugin.config` the client settings, and
:class:`ServerConfig` reads the server's configuration; every failed
call raises a :class:`PluginAPIError` subclass, also importable from
:mod:`mattermost_plugin.exceptions`. :mod:`mattermost_plugin.kv` keeps JSON
values and updates them safely, and :mod:`mattermost_plugin.cluster` gives
cluster-wide locks and scheduled jobs for plugins that run on many nodes.
"""

# The package imports only its exceptions up front; every other public name
# (the clients, the plugin runtime, the public modules) is imported on first
# access, by __getattr__ below (PEP 562), so that a process pays for what it
# uses. Type checkers read the imports of the TYPE_CHECKING block instead.

import importlib as _importlib
import typing as _typing

from . import _version, exceptions
from .exceptions import *  # noqa: F403 - the exception classes, listed below

if _typing.TYPE_CHECKING:
    from . import cluster, config, kv, models, server_config
    from ._async_client import AsyncClient
    from ._client import Client
    from ._plugin.base import DISMISS, AsyncPlugin, Plugin, hook
    from ._plugin.entry import run
    from ._plugin.hookspec import HookName
    from ._plugin.http import HTTPRequest, HTTPResponse
    from ._plugin.streams import FileReader, FileWriter
    from .server_config import ServerConfig

__all__ = [
    "DISMISS",
    "AsyncClient",
    "AsyncPlugin",
    "Client",
    "FileReader",
    "FileWriter",
    "HTTPRequest",
    "HTTPResponse",
    "HookName",
    "Plugin",
    "ServerConfig",
    "cluster",
    "config",
    "exceptions",
    "hook",
    "kv",
    "models",
    "run",
    "server_config",
]
__all__ += exceptions.__all__

#: The version of this package.
__version__ = _version.__version__

#: The module of each name imported on first access; None for a submodule.
_LAZY = {
    "AsyncClient": "._async_client",
    "Client": "._client",
    "DISMISS": "._plugin.base",
    "AsyncPlugin": "._plugin.base",
    "Plugin": "._plugin.base",
    "hook": "._plugin.base",
    "run": "._plugin.entry",
    "HookName": "._plugin.hookspec",
    "HTTPRequest": "._plugin.http",
    "HTTPResponse": "._plugin.http",
    "FileReader": "._plugin.streams",
    "FileWriter": "._plugin.streams",
    "ServerConfig": ".server_config",
    "cluster": None,
    "config": None,
    "kv": None,
    "models": None,
    "server_config": None,
}

#: The names that show as mattermost_plugin.X in reprs, tracebacks and docs;
#: the exceptions keep their home, mattermost_plugin.exceptions.
_SHOWN_HERE = frozenset(_LAZY) - {"DISMISS", "cluster", "config", "kv", "models", "server_config"}


def _load(name: str) -> object:
    """Import the public ``name``, keep it in the module and return it."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _LAZY[name]
    if module is None:
        value: object = _importlib.import_module(f".{name}", __name__)
    else:
        if module.startswith("._plugin."):
            # A hook's arguments print on one line and document their
            # fields, as the models of the API's results do.
            models = _importlib.import_module(".models", __name__)
            models._document(_importlib.import_module(".grpc.hooks_pb2", __name__))
        value = getattr(_importlib.import_module(module, __name__), name)
        if name in _SHOWN_HERE:
            value.__module__ = __name__
    # Concurrent first accesses store the same object: imports are locked.
    globals()[name] = value
    return value


if not _typing.TYPE_CHECKING:
    # Type checkers see the imports above instead, so that a misspelt name
    # is still an error for them.

    def __getattr__(name: str) -> object:
        """Import a public name on first access (PEP 562)."""
        return _load(name)


def __dir__() -> list[str]:
    """The module's names, with the public ones not imported yet."""
    return sorted(set(globals()) | set(__all__))
