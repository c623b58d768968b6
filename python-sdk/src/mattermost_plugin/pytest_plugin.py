"""pytest fixtures that run the reference server, alone or with a plugin.

Enable them in a ``conftest.py``::

    pytest_plugins = ["mattermost_plugin.pytest_plugin"]

then::

    def test_rewrites(plugin_server):
        server = plugin_server(HelloPlugin)   # or a plugin directory
        with server.client() as api:
            ...

The server binary is found as :func:`mattermost_plugin.testing.find_server_binary`
says: ``$MATTERMOST_PLUGINAPI_SERVER``, then ``pluginapi-server`` on ``PATH``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Callable

import pytest

from .testing import PluginSource, ReferenceServer, start_plugin_server, start_reference_server

__all__ = ["mattermost_server", "plugin_server"]

#: What the plugin_server fixture returns: call it with a plugin class or
#: directory, and extra server flags.
PluginServerFactory = Callable[..., ReferenceServer]


@pytest.fixture
def mattermost_server() -> Iterator[ReferenceServer]:
    """A fresh reference server, without a plugin; stopped after the test."""
    server = start_reference_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def plugin_server(tmp_path: Path) -> Iterator[PluginServerFactory]:
    """Start the dev server with a plugin: ``plugin_server(PluginClass_or_dir, *flags)``.

    A list of plugins starts one server that runs them all.

    Every server started is stopped after the test, which runs the plugin's
    ``on_deactivate``.
    """
    started: list[ReferenceServer] = []

    def start(
        plugin: PluginSource | Sequence[PluginSource],
        *args: str,
        **kwargs: Any,  # noqa: ANN401 - start_plugin_server's keywords
    ) -> ReferenceServer:
        kwargs.setdefault("workdir", tmp_path / f"plugin-{len(started)}")
        server = start_plugin_server(plugin, *args, **kwargs)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
