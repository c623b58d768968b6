"""The asyncio Plugin API client."""

from __future__ import annotations

from ._api import AsyncPluginAPI

__all__ = ["AsyncClient"]


class AsyncClient(AsyncPluginAPI):
    """An asyncio client of the Mattermost Plugin API.

    It has the methods of :class:`~mattermost_plugin.Client`, with the same
    names, arguments and results, as coroutines. Create and use it inside a
    running event loop::

        async with AsyncClient() as api:
            await api.kv_set("greeting", b"hello")
            user = await api.get_user_by_username("alice")

    Args:
        target: gRPC target of the server, such as ``unix:///path/to.sock``.
        token: The plugin's token.
        timeout: Default seconds per call; ``None`` for no deadline. A call's
            own ``timeout`` argument overrides it.
        channel_options: Message size and keepalive settings.
        transport: ``"stream"`` (the default) sends the unary calls as frames
            on one long-lived stream per client (``PluginStreams.CallStream``),
            which carries many calls at once for less than a gRPC call each;
            ``"unary"`` makes each call a gRPC call of its own. Defaults to
            the ``MATTERMOST_PLUGIN_API_TRANSPORT`` environment variable.
            Results, errors, deadlines and cancellation are the same on
            both; file transfers, the HTTP and streaming methods, requests
            over 64 KiB, and every call to a server without the stream, are
            unary on both.
    """
