"""``mattermost_plugin.run``: serve a plugin class to a go-plugin host.

Logging: the plugin's ``self.logger`` (level DEBUG, not propagating) and the
root logger both send their records to the server log through the Plugin
API, so that the plugin's own loggers (``logging.getLogger(__name__)``),
its libraries' and ``warnings`` (``logging.captureWarnings``) reach it with
their level. The root logger is set to INFO unless the plugin configured
logging itself before it was served (a root handler or level of its own).
"""

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
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

import grpc

from .._async_client import AsyncClient
from .._client import Client
from ..exceptions import PluginAPIError
from . import goplugin, hookstream, mtls, startup
from .base import AsyncPlugin, PluginBase
from .dispatch import HookDispatcher
from .logs import APILogHandler, LogWriter
from .threads import HandlerThreads

__all__ = [
    "MANIFEST_ENV",
    "ROOT_LOG_LEVEL",
    "HostWatch",
    "claim_stdout",
    "run",
    "serve",
    "watch_host",
]

#: The path of the plugin's manifest, which the supervisor sets.
MANIFEST_ENV = "MATTERMOST_PLUGIN_MANIFEST"
#: How often the plugin checks that the host that started it is alive.
HOST_CHECK_SECONDS = 0.5
#: How long a serving plugin whose host is gone may take to stop before
#: the process exits anyway: the stop's own bounds (STOP_GRACE_SECONDS,
#: LOG_FLUSH_SECONDS) and a margin.
HOST_GONE_GRACE_SECONDS = 3.0
#: The exit status of a plugin that ended because its host is gone.
HOST_GONE_EXIT_STATUS = 3

#: How long a stopping plugin lets running hooks finish; within go-plugin's
#: wait of 2 s after Shutdown.
STOP_GRACE_SECONDS = 1.0
#: How long a stopping plugin waits to send its queued log records.
LOG_FLUSH_SECONDS = 0.5
#: Threads that run plain (not async) handlers.
HOOK_THREADS = 16
#: The root logger's level in a plugin that did not configure logging itself.
ROOT_LOG_LEVEL = logging.INFO


class _Stdout:
    """The process's real stdout, kept for the handshake line alone."""

    stream: TextIO | None = None


def claim_stdout() -> TextIO:
    """Keep stdout for the handshake; send everything else written to it to stderr.

    After this, ``print`` and native writes to file descriptor 1 go to
    stderr, which the host logs, so that nothing but the handshake line
    reaches the host's end of stdout. It is idempotent, and
    ``python -m mattermost_plugin.serve`` calls it before importing the plugin,
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
        startup.fail(str(error))
    watch_host()
    stdout = claim_stdout()
    try:
        with contextlib.suppress(KeyboardInterrupt):  # SIGINT is handled in serve
            asyncio.run(serve(plugin_class, os.environ, stdout))
    except startup.StartupError as error:
        startup.fail(str(error), error.__cause__)
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


def _make_logger(plugin_id: str, handler: logging.Handler) -> logging.Logger:
    """``self.logger``: every level, to the server log only.

    Its records do not propagate, so that the root logger's handlers do not
    log them twice.
    """
    logger = logging.getLogger(f"mattermost_plugin.plugin.{plugin_id}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    return logger


class _Forward(logging.Handler):
    """Hands records to another handler, which its ``close`` leaves open.

    The root logger gets one of these rather than the API handler itself,
    so that a plugin that resets the root logger's handlers
    (``logging.basicConfig(force=True)`` closes them) does not stop
    ``self.logger``'s.
    """

    def __init__(self, target: logging.Handler) -> None:
        super().__init__()
        self._target = target

    def emit(self, record: logging.LogRecord) -> None:
        self._target.handle(record)


class _RootLogging:
    """Sends the root logger's records, and warnings, through ``handler`` while served."""

    def __init__(self, handler: logging.Handler) -> None:
        self._handler = _Forward(handler)
        self._root = logging.getLogger()
        # A plugin that set up logging before it was served keeps its level.
        self._set_level = not self._root.handlers and self._root.level == logging.WARNING
        self._level = self._root.level

    def __enter__(self) -> None:
        self._root.addHandler(self._handler)
        if self._set_level:
            self._root.setLevel(ROOT_LOG_LEVEL)
        logging.captureWarnings(True)

    def __exit__(self, *exc_info: object) -> None:
        logging.captureWarnings(False)
        self._root.removeHandler(self._handler)
        if self._set_level:
            self._root.setLevel(self._level)


class HostWatch:
    """Ends the process when the host that started it is gone, whatever the plugin is doing.

    A host that is killed cannot send Shutdown or SIGTERM; its plugin would
    live on with nobody to serve. A daemon thread polls the parent process
    id: when it changes (the plugin was re-parented), the host died. The
    watch runs from before the plugin's module is imported, so that a
    module that hangs at import ends too. While the plugin serves, the
    watch asks it to stop as on SIGTERM (:meth:`on_gone`) and ends the
    process :data:`HOST_GONE_GRACE_SECONDS` later if it has not ended by
    then (a handler that blocks the event loop); before that, it ends the
    process at once. Either way it says so on stderr first.
    """

    def __init__(self, interval: float = HOST_CHECK_SECONDS) -> None:
        self.host_pid = os.getppid()
        self._interval = interval
        self._lock = threading.Lock()
        self._stop: Callable[[], None] | None = None
        self._socket_dir = ""
        self._thread = threading.Thread(
            target=self._watch, name="mattermost-plugin-host-watch", daemon=True
        )

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def on_gone(self, stop: Callable[[], None] | None, socket_dir: str = "") -> None:
        """Call ``stop`` (from the watch's thread) when the host is gone; None forgets it.

        ``socket_dir`` is removed before the process exits without stopping.
        """
        with self._lock:
            self._stop, self._socket_dir = stop, socket_dir

    def _watch(self) -> None:
        while os.getppid() == self.host_pid:
            time.sleep(self._interval)
        with self._lock:
            stop, socket_dir = self._stop, self._socket_dir
        _say(f"mattermost_plugin: the host (pid {self.host_pid}) that started this plugin is gone")
        if stop is not None:
            try:
                stop()
            except Exception:  # the loop is closed: exit at once
                pass
            else:
                time.sleep(HOST_GONE_GRACE_SECONDS)
        if socket_dir:
            shutil.rmtree(socket_dir, ignore_errors=True)
        os._exit(HOST_GONE_EXIT_STATUS)


def _say(line: str) -> None:
    """Write a line to stderr without Python's buffers, whose locks another thread may hold."""
    with contextlib.suppress(OSError):  # the host, which read stderr, is gone
        os.write(2, (line + "\n").encode("utf-8", "replace"))


class _Watch:
    """The process's one :class:`HostWatch`, once started."""

    watch: HostWatch | None = None


def watch_host() -> HostWatch:
    """Start watching the host that started this process, once; return the watch.

    ``python -m mattermost_plugin.serve`` calls it before it imports the
    plugin's module, :func:`run` otherwise.
    """
    if _Watch.watch is None:
        _Watch.watch = HostWatch()
        _Watch.watch.start()
    return _Watch.watch


def _stop_when_host_gone(
    loop: asyncio.AbstractEventLoop,
    stopping: asyncio.Event,
    logger: logging.Logger,
    socket_dir: str,
) -> None:
    """Have the host watch, once started, stop the plugin as on SIGTERM when the host is gone.

    If the stop does not end the process in time, the watch removes
    ``socket_dir`` before it exits.
    """
    watch = _Watch.watch
    if watch is None:
        return
    host_pid = watch.host_pid

    def host_gone() -> None:
        logger.warning("the host (pid %d) is gone; stopping", host_pid)
        stopping.set()

    def stop() -> None:
        loop.call_soon_threadsafe(host_gone)

    watch.on_gone(stop, socket_dir)


def _redirect_stdout(logger: logging.Logger) -> None:
    """Send the plugin's prints to its log (native writes go to stderr)."""
    sys.stdout.flush()
    sys.stdout = LogWriter(logger)


def _new_plugin(
    plugin_class: type[PluginBase[Any]], manifest: dict[str, Any], logger: logging.Logger
) -> PluginBase[Any]:
    """Make the plugin; its attributes are set before ``__init__`` runs, so that it can use them."""
    plugin = plugin_class.__new__(plugin_class)
    plugin.manifest = manifest
    plugin.configuration = {}
    plugin.logger = logger
    if issubclass(plugin_class, AsyncPlugin):
        plugin.api = AsyncClient()
    else:
        client = Client()
        # An async handler of a sync plugin that calls it stalls the event
        # loop: warn once (RuntimeWarning, which reaches the server log).
        client._warn_in_event_loop = True
        plugin.api = client
    plugin_class.__init__(plugin)
    return plugin


async def serve(
    plugin_class: type[PluginBase[Any]], environ: Mapping[str, str], stdout: TextIO
) -> None:
    """Serve the plugin until it is told to stop; see :func:`run`.

    Raises:
        startup.StartupError: The plugin could not start (its ``__init__``
            raised, the host's certificate is unusable, ...); nothing was
            served and the handshake line was not written. Its message names
            the cause, its ``__cause__`` is the exception.
    """
    # Its own client, found as the plugin's is (the environment's target and
    # token), so that logging never waits on the plugin's calls.
    handler = APILogHandler(Client)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root_logging = _RootLogging(handler)
    root_logging.__enter__()
    logger: logging.Logger | None = None
    plugin: PluginBase[Any] | None = None
    server: grpc.aio.Server | None = None
    front: mtls.TLSFront | None = None
    threads: HandlerThreads | None = None
    stream: hookstream.HookStream | None = None
    socket_dir = ""
    served = False
    try:
        try:
            manifest = _manifest(environ)
            plugin_id = str(manifest.get("id") or plugin_class.__name__)
            logger = _make_logger(plugin_id, handler)
            plugin = _new_plugin(plugin_class, manifest, logger)
            stopping = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stopping.set)
            threads = HandlerThreads(HOOK_THREADS)
            socket_dir = tempfile.mkdtemp(
                prefix="mmplugin-", dir=goplugin.socket_directory(environ)
            )
            _stop_when_host_gone(loop, stopping, logger, socket_dir)
            socket_path = os.path.join(socket_dir, "plugin.sock")
            server = grpc.aio.server(
                options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
            )
            dispatcher = HookDispatcher(plugin, threads, logger)
            if hookstream.enabled(environ):
                # Announced in Implemented; opened once the plugin serves.
                stream = hookstream.HookStream(dispatcher, environ, logger)
            server.add_generic_rpc_handlers([dispatcher.generic_handler()])
            server.add_generic_rpc_handlers(goplugin.ProtocolServices(stopping).generic_handlers())
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
        except mtls.AutoMTLSError as error:
            raise startup.StartupError(f"AutoMTLS: {error}") from error
        except Exception as error:
            raise startup.StartupError(startup.describe(error)) from error
        stdout.write(goplugin.handshake_line("unix", socket_path, server_cert) + "\n")
        stdout.flush()
        served = True
        if stream is not None:
            stream.start()
        _redirect_stdout(logger)
        await stopping.wait()
    finally:
        if _Watch.watch is not None:
            _Watch.watch.on_gone(None)
        if stream is not None:
            await stream.close()
        await _stop(plugin, server, front, threads, served)
        root_logging.__exit__()
        if logger is not None:
            logger.removeHandler(handler)
        handler.close(LOG_FLUSH_SECONDS)
        if socket_dir:
            shutil.rmtree(socket_dir, ignore_errors=True)


async def _stop(
    plugin: PluginBase[Any] | None,
    server: grpc.aio.Server | None,
    front: mtls.TLSFront | None,
    threads: HandlerThreads | None,
    served: bool,
) -> None:
    """Stop what :func:`serve` started, in the reverse order."""
    if front is not None:
        await front.close()
    if server is not None:
        await server.stop(STOP_GRACE_SECONDS if served else 0)
    if threads is not None:
        threads.shutdown()
    if plugin is not None:
        try:
            closing = plugin.api.close()
            if asyncio.iscoroutine(closing):
                await closing
        except PluginAPIError:
            pass
