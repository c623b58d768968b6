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

from . import _version, cluster, config, exceptions, kv, models, server_config
from ._async_client import AsyncClient
from ._client import Client
from ._plugin.base import DISMISS, AsyncPlugin, Plugin, hook
from ._plugin.entry import run
from ._plugin.hookspec import HookName
from ._plugin.http import HTTPRequest, HTTPResponse
from ._plugin.streams import FileReader, FileWriter
from .exceptions import *  # noqa: F403 - the exception classes, listed below
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

# Show the clients as mattermost_plugin.X in reprs, tracebacks and docs; the
# exceptions keep their home, mattermost_plugin.exceptions.
for _public in (
    Client,
    AsyncClient,
    ServerConfig,
    Plugin,
    AsyncPlugin,
    HookName,
    HTTPRequest,
    HTTPResponse,
    FileReader,
    FileWriter,
    hook,
    run,
):
    _public.__module__ = __name__
del _public
