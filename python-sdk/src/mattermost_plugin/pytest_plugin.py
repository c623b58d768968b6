"""pytest fixtures that run the reference server, alone or with a plugin.

Installing the SDK registers this module with pytest (a ``pytest11`` entry
point), so the fixtures need no ``pytest_plugins`` line::

    def test_rewrites(plugin_server):
        server = plugin_server(HelloPlugin)   # or a plugin directory
        with server.client() as api:
            ...

The server binary is, in this order: the ``--mattermost-server PATH``
option; ``$MATTERMOST_PLUGINAPI_SERVER``; the binary of the installed
``mattermost-plugin-devserver`` wheel, which
``pip install "mattermost-plugin-sdk[devserver]"`` installs. With none of
them the fixtures fail with that pip command.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Callable

import pytest

from .testing import PluginSource, ReferenceServer, start_plugin_server, start_reference_server

__all__ = ["mattermost_server", "plugin_server", "pytest_addoption"]

#: What the plugin_server fixture returns: call it with a plugin class or
#: directory, and extra server flags.
PluginServerFactory = Callable[..., ReferenceServer]

#: The command-line option that names the server binary.
OPTION = "--mattermost-server"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--mattermost-server PATH``."""
    group = parser.getgroup("mattermost", "Mattermost plugin test kit")
    group.addoption(
        OPTION,
        dest="mattermost_server",
        metavar="PATH",
        default=None,
        help="the pluginapi-server binary that the mattermost_server and plugin_server "
        "fixtures run (default: $MATTERMOST_PLUGINAPI_SERVER, then the installed "
        "mattermost-plugin-devserver)",
    )


def _binary(config: pytest.Config) -> str | None:
    value = config.getoption("mattermost_server", default=None)
    if value is None:
        return None
    # Relative to where pytest was run, as every path of its command line.
    return str(Path(config.invocation_params.dir, value))


@pytest.fixture
def mattermost_server(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    """A fresh reference server, without a plugin; stopped after the test."""
    server = start_reference_server(binary=_binary(request.config))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def plugin_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[PluginServerFactory]:
    """Start the dev server with a plugin: ``plugin_server(PluginClass_or_dir, *flags)``.

    A list of plugins starts one server that runs them all.

    Every server started is stopped after the test, which runs the plugin's
    ``on_deactivate``.
    """
    started: list[ReferenceServer] = []
    binary = _binary(request.config)

    def start(
        plugin: PluginSource | Sequence[PluginSource],
        *args: str,
        **kwargs: Any,  # noqa: ANN401 - start_plugin_server's keywords
    ) -> ReferenceServer:
        kwargs.setdefault("workdir", tmp_path / f"plugin-{len(started)}")
        if binary is not None:
            kwargs.setdefault("binary", binary)
        server = start_plugin_server(plugin, *args, **kwargs)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
