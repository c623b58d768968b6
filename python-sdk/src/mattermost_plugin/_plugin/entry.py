"""``mattermost_plugin.run``, which loads the plugin server only when called.

The server (go-plugin, AutoMTLS, hook dispatch, logging to the API) is what
a plugin process runs; a program that only uses the clients never needs
it, and ``import mattermost_plugin`` does not pay for importing it.
"""

from __future__ import annotations

from typing import Any

from .base import PluginBase


def run(plugin_class: type[PluginBase[Any]]) -> None:
    """Serve ``plugin_class`` to the Mattermost server that started this process.

    Call it from the plugin's entry point::

        if __name__ == "__main__":
            mattermost_plugin.run(MyPlugin)

    It checks that a go-plugin host started the process, connects the
    plugin's API client, listens on a unix socket, prints the handshake
    line and serves the hooks until the host shuts the plugin down or the
    process gets SIGTERM or SIGINT. When the host sets ``PLUGIN_CLIENT_CERT``,
    the connection uses go-plugin's AutoMTLS. It ends the process: with 0
    after a stop, without waiting for plain handlers still running past
    their deadline, and with 1 when the plugin cannot start (the process
    was not started by a host, the class's ``__init__`` raised, the host's
    certificate is unusable), after one hclog JSON line on stderr whose
    ``startup_error`` names the cause, which the host reports.

    The root logger and ``warnings`` are sent to the server log as well,
    the root logger at INFO unless the plugin configured logging itself.
    """
    from . import runner

    runner.run(plugin_class)
