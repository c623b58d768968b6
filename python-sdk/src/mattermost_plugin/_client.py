"""The blocking Plugin API client."""

from __future__ import annotations

from ._api import SyncPluginAPI

__all__ = ["Client"]


class Client(SyncPluginAPI):
    """A blocking client of the Mattermost Plugin API.

    Every Plugin API method is a method here, named in snake case
    (``KVSetWithOptions`` is :meth:`kv_set_with_options`), with the same
    arguments and results as the Go API. A failed call raises a
    :class:`~mattermost_plugin.PluginAPIError` subclass.

    The target and token default to the ``MATTERMOST_PLUGIN_API_TARGET`` and
    ``MATTERMOST_PLUGIN_API_TOKEN`` environment variables, which the server
    sets for the plugins it starts. Use the client as a context manager, or
    call :meth:`close`::

        with Client() as api:
            api.kv_set("greeting", b"hello")
            user = api.get_user_by_username("alice")

    Args:
        target: gRPC target of the server, such as ``unix:///path/to.sock``.
        token: The plugin's token.
        timeout: Default seconds per call; ``None`` for no deadline. A call's
            own ``timeout`` argument overrides it.
        channel_options: Message size and keepalive settings.
    """
