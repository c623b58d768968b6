"""``mattermost_plugin.run``: serve a plugin class to a go-plugin host."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import grpc

from .._async_client import AsyncClient
from .._client import Client
from ..exceptions import PluginAPIError
from . import goplugin, mtls
from .base import AsyncPlugin, PluginBase
from .dispatch import HookDispatcher
from .logs import APILogHandler, LogWriter
from .threads import HandlerThreads

__all__ = ["MANIFEST_ENV", "claim_stdout", "run", "serve"]

#: The path of the plugin's manifest, which the supervisor sets.
MANIFEST_ENV = "MATTERMOST_PLUGIN_MANIFEST"
#: How often the plugin checks that the host that started it is alive.
HOST_CHECK_SECONDS = 1.0

#: How long a stopping plugin lets running hooks finish; within go-plugin's
#: wait of 2 s after Shutdown.
STOP_GRACE_SECONDS = 1.0
#: How long a stopping plugin waits to send its queued log records.
LOG_FLUSH_SECONDS = 0.5
#: Threads that run plain (not async) handlers.
HOOK_THREADS = 16


class _Stdout:
    """The process's real stdout, kept for the handshake line alone."""

    stream: TextIO | None = None


def claim_stdout() -> TextIO:
    """Keep stdout for the handshake; send everything else written to it to stderr.

    After this, ``print`` and native writes to file descriptor 1 go to
    stderr, which the host logs, so that nothing but the handshake line
    reaches the host's end of stdout. It is idempotent, and
    ``python -m mattermost_plugin`` calls it before importing the plugin,
    so that even prints at import time are safe.
    """
    if _Stdout.stream is not None:
        return _Stdout.stream
    stream: TextIO = sys.stdout
    try:
        sys.stdout.flush()
        real = os.dup(sys.stdout.fileno())
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        stream = os.fdopen(real, "w", encoding="utf-8", buffering=1)
        sys.stdout = sys.stderr
    except (OSError, ValueError, AttributeError):  # no real file descriptors
        pass
    _Stdout.stream = stream
    return stream


def run(plugin_class: type[PluginBase[Any]]) -> None:
    """Serve ``plugin_class``; :func:`mattermost_plugin.run` (``entry.run``) documents it."""
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, PluginBase)):
        raise TypeError("run() takes a subclass of mattermost_plugin.Plugin or AsyncPlugin")
    try:
        goplugin.check_environment(os.environ)
    except goplugin.HandshakeError as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
    stdout = claim_stdout()
    try:
        with contextlib.suppress(KeyboardInterrupt):  # SIGINT is handled in serve
            asyncio.run(serve(plugin_class, os.environ, stdout))
    except mtls.AutoMTLSError as error:
        print(f"AutoMTLS: {error}", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    # A plain handler still running past its deadline cannot be stopped;
    # leave without waiting for its thread.
    sys.stderr.flush()
    os._exit(0)


def _manifest(environ: Mapping[str, str]) -> dict[str, Any]:
    path = environ.get(MANIFEST_ENV) or ("plugin.json" if Path("plugin.json").is_file() else "")
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    return manifest if isinstance(manifest, dict) else {}


def _make_logger(plugin_id: str) -> logging.Logger:
    logger = logging.getLogger(f"mattermost_plugin.plugin.{plugin_id}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    # Its own client, found as the plugin's is (the environment's target
    # and token), so that logging never waits on the plugin's calls.
    handler = APILogHandler(Client)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger


async def _watch_host(host_pid: int, stopping: asyncio.Event, logger: logging.Logger) -> None:
    """Stop the plugin when the host that started it is gone.

    A host that is killed cannot send Shutdown or SIGTERM; its plugin would
    live on with nobody to serve. When the parent process changes (the
    plugin was re-parented), the host died: the plugin stops as on SIGTERM.
    """
    while not stopping.is_set():
        await asyncio.sleep(HOST_CHECK_SECONDS)
        if os.getppid() != host_pid:
            logger.warning("the host (pid %d) is gone; stopping", host_pid)
            stopping.set()


def _redirect_stdout(logger: logging.Logger) -> None:
    """Send the plugin's prints to its log (native writes go to stderr)."""
    sys.stdout.flush()
    sys.stdout = LogWriter(logger)


async def serve(
    plugin_class: type[PluginBase[Any]], environ: Mapping[str, str], stdout: TextIO
) -> None:
    """Serve the plugin until it is told to stop; see :func:`run`."""
    manifest = _manifest(environ)
    plugin_id = str(manifest.get("id") or plugin_class.__name__)
    logger = _make_logger(plugin_id)
    # The attributes are set before __init__ runs, so that it can use them.
    plugin = plugin_class.__new__(plugin_class)
    plugin.manifest = manifest
    plugin.configuration = {}
    plugin.logger = logger
    plugin.api = AsyncClient() if issubclass(plugin_class, AsyncPlugin) else Client()
    plugin_class.__init__(plugin)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    watchdog = asyncio.ensure_future(_watch_host(os.getppid(), stopping, logger))
    threads = HandlerThreads(HOOK_THREADS)
    socket_dir = tempfile.mkdtemp(prefix="mmplugin-", dir=goplugin.socket_directory(environ))
    socket_path = os.path.join(socket_dir, "plugin.sock")
    server = grpc.aio.server(
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    server.add_generic_rpc_handlers([HookDispatcher(plugin, threads, logger).generic_handler()])
    server.add_generic_rpc_handlers(goplugin.ProtocolServices(stopping).generic_handlers())
    front: mtls.TLSFront | None = None
    try:
        server_cert = ""
        client_cert = environ.get(mtls.CLIENT_CERT_ENV, "")
        if client_cert:
            # gRPC listens privately; TLS is served on the handshake's socket.
            context, server_cert = mtls.server_context(client_cert, socket_dir)
            backend_path = os.path.join(socket_dir, "grpc.sock")
            server.add_insecure_port(f"unix:{backend_path}")
            front = mtls.TLSFront(context, socket_path, backend_path)
        else:
            server.add_insecure_port(f"unix:{socket_path}")
        await server.start()
        if front is not None:
            await front.start()
        stdout.write(goplugin.handshake_line("unix", socket_path, server_cert) + "\n")
        stdout.flush()
        _redirect_stdout(logger)
        await stopping.wait()
    finally:
        watchdog.cancel()
        if front is not None:
            await front.close()
        await server.stop(STOP_GRACE_SECONDS)
        threads.shutdown()
        try:
            closing = plugin.api.close()
            if asyncio.iscoroutine(closing):
                await closing
        except PluginAPIError:
            pass
        for handler in list(logger.handlers):
            if isinstance(handler, APILogHandler):
                handler.close(LOG_FLUSH_SECONDS)
            else:  # pragma: no cover - only the runner adds handlers
                handler.close()
            logger.removeHandler(handler)
        shutil.rmtree(socket_dir, ignore_errors=True)
