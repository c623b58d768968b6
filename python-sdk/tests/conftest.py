"""Shared fixtures: a scrubbed environment, the real Go server and clients.

The ``api`` fixture gives each end-to-end test a client of a fresh server,
once through Client and once through AsyncClient. The async client is
driven by a small facade that runs each coroutine on a private event loop,
so that a scenario is written once.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.config import ENV_TARGET, ENV_TOKEN
from mattermost_plugin.models import User
from mattermost_plugin.testing import (
    SERVER_ENV,
    ReferenceServer,
    find_server_binary,
    start_reference_server,
)

#: Where test_parity leaves its coverage lines for the run's summary.
PARITY_REPORT = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the API parity coverage that test_parity measured, if it ran."""
    for line in config.stash.get(PARITY_REPORT, []):
        terminalreporter.write_line(line)


# SERVER_ENV names the pluginapi-server binary. `make test` sets it to the
# binary it built; a Bazel py_test sets it to the binary's $(rlocationpath),
# which testing.find_server_binary resolves through the test's runfiles.
START_TIMEOUT = 10.0


def pytest_configure(config: pytest.Config) -> None:
    """Python 3.9 only: ignore the event loop that pytest-asyncio 1.2 leaks.

    On 3.9 its fixture asks the policy for the current loop, which makes one
    that nobody closes; the ResourceWarning surfaces in whichever test runs
    when it is collected. pytest-asyncio 1.3 and later, which the other
    Pythons run, need 3.10. The SDK's own loops are covered on every Python.
    """
    if sys.version_info < (3, 10):
        config.addinivalue_line(
            "filterwarnings",
            "ignore:Exception ignored in. <function BaseEventLoop.__del__"
            ":pytest.PytestUnraisableExceptionWarning",
        )
        config.addinivalue_line("filterwarnings", "ignore:unclosed event loop:ResourceWarning")


@pytest.fixture(autouse=True)
def _scrub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the SDK's discovery variables unless it sets them."""
    monkeypatch.delenv(ENV_TARGET, raising=False)
    monkeypatch.delenv(ENV_TOKEN, raising=False)


def server_binary() -> Path:
    """The server binary that SERVER_ENV names, as the SDK's test kit finds it.

    testing.find_server_binary is the one place that reads SERVER_ENV: a
    plain path under `make test`, a runfiles location under Bazel. The
    tests never fall back to an installed dev server.
    """
    if not os.environ.get(SERVER_ENV):
        raise RuntimeError(
            f"{SERVER_ENV} is not set: build the server (make build) and point it at "
            "bin/pluginapi-server, or run the tests with `make test`"
        )
    return find_server_binary()


#: The reference server, as the tests use it.
GoServer = ReferenceServer


#: The drain quiet period of the tests' servers: short, so that the many
#: stops stay quick. test_sigterm_lets_started_calls_finish keeps the
#: server's default.
FAST_DRAIN = ("-drain-quiet", "20ms")


def start_server(*args: str, fast_stop: bool = True) -> ReferenceServer:
    """Start the Go server and wait for its ready line."""
    flags = (*FAST_DRAIN, *args) if fast_stop else args
    return start_reference_server(*flags, binary=server_binary(), timeout=START_TIMEOUT)


@pytest.fixture
def go_server() -> Iterator[ReferenceServer]:
    """A fresh Go server with the in-memory backend, on a unix socket."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


class AsyncFacade:
    """Calls an AsyncClient's coroutine methods as plain functions."""

    def __init__(self, target: str, token: str, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()

        async def make() -> mp.AsyncClient:
            return mp.AsyncClient(target, token=token, **kwargs)

        self.client = self._loop.run_until_complete(make())

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run_until_complete(method(*args, **kwargs))

        return call

    def resolve(self, value: Any) -> Any:
        """Await what a streamed result's method returned, such as response.read()."""
        return self._loop.run_until_complete(value)

    def close(self) -> None:
        self._loop.run_until_complete(self.client.close())
        self._loop.close()


def resolved(api: Any, value: Any) -> Any:
    """value, or its result when it is awaitable (the async client's streamed results)."""
    return api.resolve(value) if inspect.isawaitable(value) else value


def open_client(flavour: str, target: str, token: str, **kwargs: Any) -> Any:
    if flavour == "sync":
        return mp.Client(target, token=token, **kwargs)
    return AsyncFacade(target, token, **kwargs)


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api(go_server: GoServer, flavour: str) -> Iterator[Any]:
    client = open_client(flavour, go_server.target, go_server.token)
    try:
        yield client
    finally:
        client.close()


def new_user(name: str) -> User:
    return User(username=name, email=f"{name}@example.com", password="passw0rd!")


def png(width: int, height: int) -> bytes:
    """A valid, all-red RGB PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xff\x00\x00" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
