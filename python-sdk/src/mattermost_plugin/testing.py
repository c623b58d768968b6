"""Run the reference Plugin API server, for tests and local development.

The reference server (``pluginapi-server``, built from this repository's Go
code) serves the whole Plugin API from memory, with Mattermost's semantics.
:func:`start_reference_server` starts one and waits until it listens::

    from mattermost_plugin import Client
    from mattermost_plugin.testing import start_reference_server

    with start_reference_server() as server, server.client() as api:
        api.kv_set("k", b"v")

The binary is ``binary`` when given, else the one that the
``MATTERMOST_PLUGINAPI_SERVER`` environment variable names, else the one of
the installed ``mattermost-plugin-devserver`` wheel
(``pip install "mattermost-plugin-sdk[devserver]"``).
:meth:`ReferenceServer.environ` gives the variables that a Mattermost server
sets for the plugins it starts.

:func:`start_plugin_server` starts it as the dev server, running a plugin
(a directory or a plugin class) under its supervisor; the pytest plugin
:mod:`mattermost_plugin.pytest_plugin` wraps both in fixtures.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Union

from ._async_client import AsyncClient
from ._client import Client
from .config import ENV_TARGET, ENV_TOKEN, READY_FIELDS

#: A plugin that :func:`start_plugin_server` can run: a plugin directory,
#: or a plugin class defined at the top level of an importable module.
PluginSource = Union[type, str, "os.PathLike[str]"]

__all__ = [
    "INSTALL_HINT",
    "SERVER_ENV",
    "PluginSource",
    "ReferenceServer",
    "ServerStartError",
    "find_server_binary",
    "plugin_directory",
    "readable_log",
    "start_plugin_server",
    "start_reference_server",
]

#: Environment variable that names the reference server binary.
SERVER_ENV = "MATTERMOST_PLUGINAPI_SERVER"

#: The binary's name.
SERVER_NAME = "pluginapi-server"

#: The pip command that installs the dev server, named by every error that
#: finds none.
INSTALL_HINT = 'pip install "mattermost-plugin-sdk[devserver]"'

#: Seconds to wait for the ready line, and for the server to stop.
DEFAULT_START_TIMEOUT = 10.0

#: How many of the server's last log lines are kept.
MAX_LOG_LINES = 10_000

#: How much of the server's log a ServerStartError quotes, at most.
MAX_ERROR_OUTPUT = 4000


class ServerStartError(RuntimeError):
    """The reference server could not be found or did not start.

    Its message says why in words: the cause that the server or the plugin
    reported first, then the server's last log lines as text, never escaped
    JSON.
    """


def _installed_binary() -> Path | None:
    """The binary of the installed mattermost-plugin-devserver wheel, if any."""
    try:
        import mattermost_plugin_devserver  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        return Path(mattermost_plugin_devserver.binary_path())
    except FileNotFoundError as error:
        raise ServerStartError(str(error)) from None


#: The variables through which Bazel hands a program its runfiles.
_RUNFILES_ENV = ("RUNFILES_MANIFEST_FILE", "RUNFILES_DIR")


def _runfile(location: str) -> str | None:
    """The file a runfiles location names, under Bazel; else None.

    A Bazel test names the server with ``$(rlocationpath ...)``, such as
    ``_main/server/cmd/pluginapi-server/pluginapi-server_/pluginapi-server``:
    a path in the test's runfiles, not in its current directory. The lookup
    is the runfiles library's (the ``bazel-runfiles`` package, which a Bazel
    py_test has as a dependency), from the main repository, so that a
    manifest-only runfiles tree works too. Outside Bazel (neither variable
    set), for an absolute path, or without the library, it is None, and the
    value is a plain path.
    """
    if os.path.isabs(location) or not any(os.environ.get(name) for name in _RUNFILES_ENV):
        return None
    try:
        from runfiles import Runfiles  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    runfiles = Runfiles.Create()
    if runfiles is None:
        return None
    located = runfiles.Rlocation(location, source_repo="")
    return str(located) if located else None


def find_server_binary(binary: str | os.PathLike[str] | None = None) -> Path:
    """Return the reference server binary.

    The order: ``binary``; the ``MATTERMOST_PLUGINAPI_SERVER`` environment
    variable; the binary of the installed ``mattermost-plugin-devserver``
    wheel. A relative path is taken from the current directory, except that
    under Bazel a relative ``MATTERMOST_PLUGINAPI_SERVER`` is a runfiles
    location first (what ``$(rlocationpath //...)`` writes): see
    :func:`_runfile`.

    Raises:
        ServerStartError: None of them names a binary, or the one named is
            not an executable file.
    """
    if binary is not None and str(binary):
        candidate, source = str(binary), "the binary argument"
    elif os.environ.get(SERVER_ENV):
        candidate, source = os.environ[SERVER_ENV], f"${SERVER_ENV}"
        located = _runfile(candidate)
        if located is not None:
            candidate, source = located, f"${SERVER_ENV} {candidate} in the runfiles"
    else:
        installed = _installed_binary()
        if installed is None:
            raise ServerStartError(
                "the Mattermost dev server (pluginapi-server) is not installed: run "
                f"`{INSTALL_HINT}`, or set {SERVER_ENV} to a pluginapi-server binary"
            )
        candidate, source = str(installed), "mattermost-plugin-devserver"
    path = Path(candidate).absolute()
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ServerStartError(f"{candidate} ({source}) is not an executable file")
    return path


def readable_log(lines: Sequence[str], limit: int = MAX_ERROR_OUTPUT) -> str:
    """The server's log lines as text; JSON records become ``LEVEL msg key=value``.

    Keeps the last ``limit`` characters.
    """
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            out.append(line)
            continue
        level = str(record.pop("level", "")).upper()
        message = str(record.pop("msg", ""))
        record.pop("time", None)
        fields = " ".join(
            f"{key}={value if isinstance(value, str) else json.dumps(value)}"
            for key, value in record.items()
        )
        out.append(" ".join(part for part in (level, message, fields) if part))
    text = "\n".join(out)
    return text if len(text) <= limit else "..." + text[-limit:]


def _start_failure(lines: Sequence[str]) -> str:
    """The server's own error line, which it prints last when it cannot start."""
    for line in reversed(lines):
        if line.startswith("pluginapi-server: "):
            return line[len("pluginapi-server: ") :]
    return ""


class ReferenceServer:
    """A running reference server process.

    Attributes:
        process: The server process.
        target: The gRPC target that reaches it.
        token: The plugin token that every call must carry.
        ready: Every field of the server's ready line.
    """

    def __init__(self, process: subprocess.Popen[str], ready: Mapping[str, Any]) -> None:
        self.process = process
        self.ready = dict(ready)
        self.target: str = self.ready["target"]
        self.token: str = self.ready["token"]
        #: The dev server's HTTP base URL (``/plugins/{id}/...`` reaches the
        #: plugin's ServeHTTP); empty without a plugin.
        self.http_url: str = str(self.ready.get("http_url", ""))
        self._lines: collections.deque[str] = collections.deque(maxlen=MAX_LOG_LINES)
        self._drain: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<ReferenceServer pid={self.process.pid} target={self.target!r}>"

    def _start_draining(self, stream: Any) -> None:  # noqa: ANN401 - a text stream
        def drain() -> None:
            for line in stream:
                self._lines.append(line.rstrip("\n"))

        self._drain = threading.Thread(target=drain, name="pluginapi-server-stderr", daemon=True)
        self._drain.start()

    @property
    def log_lines(self) -> list[str]:
        """The server's log lines so far (the last :data:`MAX_LOG_LINES`)."""
        return list(self._lines)

    def log_records(self) -> list[dict[str, Any]]:
        """The server's JSON log records so far; other lines are skipped."""
        records = []
        for line in self.log_lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def events(
        self, kind: str | None = None, *, at_least: int = 0, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """The events that the server would have sent out, oldest first.

        The reference backend does not send email, push notifications,
        websocket events, toasts, cluster messages or ephemeral posts; it
        logs each as a "plugin event" record. Each event is a dict with its
        ``kind`` (such as ``"email"`` or ``"websocket_event"``; ``Event.Kind``
        of the Go package ``memory`` lists them all) and its ``data``, the
        request that caused it as JSON.

        Args:
            kind: Only events of this kind.
            at_least: Wait until there are this many, as the log arrives
                asynchronously; return what there is after ``timeout``.
            timeout: Seconds to wait for ``at_least`` events.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = []
            for record in self.log_records():
                event = record.get("event")
                if record.get("msg") != "plugin event" or not isinstance(event, dict):
                    continue
                if kind is not None and event.get("kind") != kind:
                    continue
                try:
                    data = json.loads(event.get("data", "{}"))
                except json.JSONDecodeError:
                    data = {}
                found.append({"kind": event.get("kind"), "data": data})
            if len(found) >= at_least or time.monotonic() >= deadline:
                return found
            time.sleep(0.01)

    def _records(self, message: str) -> list[dict[str, Any]]:
        return [r for r in self.log_records() if r.get("msg") == message]

    @contextlib.contextmanager
    def configuration_applied(
        self, plugin_id: str | None = None, *, timeout: float = 10.0
    ) -> Iterator[None]:
        """Wait, after the block, until the plugins applied a configuration change.

        Mattermost runs ``on_configuration_change`` after a configuration
        is saved, asynchronously: ``save_plugin_config`` and ``save_config``
        return before the plugins have seen the change, and a hook called
        right after may still see the old settings. Wrap the save::

            with server.configuration_applied():
                api.save_plugin_config({"greeting": "hi"})
            # every plugin's on_configuration_change has returned

        As upstream's configuration store, the server runs
        ``on_configuration_change`` only after a save that changed the
        configuration: a save of the settings as they are runs none, so
        do not wrap it.

        Args:
            plugin_id: Wait for this plugin alone; by default, for every
                plugin that the server runs.
            timeout: Seconds to wait after the block.

        Raises:
            TimeoutError: The change was not applied in time (the server must
                log at debug level, the test kit's default).
        """
        applied = "plugin configuration applied"

        def count() -> int:
            return sum(
                1
                for r in self._records(applied)
                if plugin_id is None or r.get("plugin_id") == plugin_id
            )

        before = count()
        yield
        if plugin_id is None:
            wanted = len({r.get("plugin_id") for r in self._records("plugin activated")}) or 1
        else:
            wanted = 1
        deadline = time.monotonic() + timeout
        while count() - before < wanted:
            if time.monotonic() >= deadline:
                who = f"plugin {plugin_id}" if plugin_id else "the plugins"
                raise TimeoutError(
                    f"{who} did not apply the configuration change in {timeout:g} s"
                    " (a save that changes nothing runs no on_configuration_change)"
                )
            time.sleep(0.01)

    def environ(self) -> dict[str, str]:
        """The variables that point a plugin at this server."""
        return {ENV_TARGET: self.target, ENV_TOKEN: self.token}

    def client(self, **kwargs: Any) -> Client:  # noqa: ANN401 - Client's keywords
        """Return a :class:`Client` of this server."""
        return Client(self.target, token=self.token, **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncClient:  # noqa: ANN401 - AsyncClient's keywords
        """Return an :class:`AsyncClient` of this server."""
        return AsyncClient(self.target, token=self.token, **kwargs)

    def stop(self, timeout: float = DEFAULT_START_TIMEOUT) -> int:
        """Stop the server with SIGTERM (SIGKILL after ``timeout``); return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self._drain is not None:
            self._drain.join(timeout=timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code

    def __enter__(self) -> ReferenceServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_reference_server(
    *args: str,
    binary: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_START_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> ReferenceServer:
    """Start the reference server and wait for its ready line.

    Args:
        *args: Extra command-line flags, such as ``"-listen", "tcp"``. The
            server always logs JSON, which :meth:`ReferenceServer.log_records`
            reads.
        binary: The server binary; see :func:`find_server_binary`.
        timeout: Seconds to wait for the server to listen.
        env: The server's environment; the current one by default.

    Raises:
        ServerStartError: The binary is missing, or the server did not start.
    """
    path = find_server_binary(binary)
    process = subprocess.Popen(
        [str(path.absolute()), "-log-format", "json", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env) if env is not None else None,
        # With close_fds=False (Python opens its files close-on-exec anyway)
        # subprocess spawns with posix_spawn instead of fork. A fork runs
        # gRPC's fork handlers in the child, which in a process with live
        # gRPC channels can break the child before it execs (seen on
        # Python 3.9, whose subprocess does not use vfork).
        close_fds=False,
    )
    assert process.stdout is not None and process.stderr is not None
    stdout = process.stdout
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = first[0] if first else ""
    try:
        ready = json.loads(line) if line else None
    except json.JSONDecodeError:
        ready = None
    if not isinstance(ready, dict) or any(field not in ready for field in READY_FIELDS):
        exited = process.poll()
        process.kill()
        _, err = process.communicate(timeout=timeout)
        lines = err.splitlines()
        cause = _start_failure(lines) or (
            f"it exited with code {exited}"
            if exited is not None
            else f"it did not start in {timeout:g} s"
        )
        if line and exited is not None and not _start_failure(lines):
            cause += f" after printing {line[:200]!r} instead of its ready line"
        raise ServerStartError(
            f"{path.name} did not start: {cause}\n\nIts log, last lines:\n{readable_log(lines)}"
        )
    server = ReferenceServer(process, ready)
    server._start_draining(process.stderr)
    return server


#: How long a plugin may take to start and activate under the dev server.
PLUGIN_START_TIMEOUT = 30.0


def plugin_directory(plugin_class: type, directory: str | os.PathLike[str]) -> Path:
    """Write a plugin directory whose manifest runs ``plugin_class``.

    The class must be defined at the top level of an importable module (a
    test module will do): the plugin process imports it by name, with the
    current ``sys.path``.
    """
    module = plugin_class.__module__
    if module == "__main__" or "<locals>" in plugin_class.__qualname__:
        raise ValueError(
            f"{plugin_class.__qualname__} must be defined at the top level of an importable module"
        )
    name = plugin_class.__name__.lower().replace("_", "-")
    manifest = {
        "id": f"test.{name}"[:190],
        "name": plugin_class.__name__,
        "version": "0.0.0",
        "server": {"python": {"entry": f"{module}:{plugin_class.__qualname__}"}},
    }
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    (path / "plugin.json").write_text(json.dumps(manifest, indent=2))
    return path


def start_plugin_server(
    plugin: PluginSource | Sequence[PluginSource],
    *args: str,
    python: str | None = None,
    binary: str | os.PathLike[str] | None = None,
    timeout: float = PLUGIN_START_TIMEOUT,
    env: Mapping[str, str] | None = None,
    workdir: str | os.PathLike[str] | None = None,
) -> ReferenceServer:
    """Start the dev server with a plugin, and wait until the plugin is active.

    The server starts the plugin's process under its supervisor, as
    Mattermost does, and fires its hooks where the backend models their
    triggers. The plugin runs with ``python`` (this interpreter by default)
    and this process's ``sys.path``, so that it imports what the test does.
    Given several plugins, the server runs them all, each with a token of
    its own, and fires each hook in every plugin in plugin id order, as
    Mattermost does; the server's :meth:`ReferenceServer.client` acts as the
    first plugin.

    Args:
        plugin: A plugin directory (with a ``plugin.json``), or a plugin
            class defined at the top level of an importable module, or a
            sequence of them.
        *args: Extra flags of the server.
        python: The plugin's interpreter; ``sys.executable`` by default.
        binary: The server binary; see :func:`find_server_binary`.
        timeout: Seconds to wait for the server and the plugin's activation.
        env: The server's environment; the current one by default.
        workdir: Where to write the plugin directory of a class; a new
            temporary directory by default.

    Raises:
        ServerStartError: The server did not start, or the plugin did not
            start or activate; the message carries the server's stderr.
    """
    sources = [plugin] if isinstance(plugin, (type, str, os.PathLike)) else list(plugin)
    if not sources:
        raise ValueError("start_plugin_server needs at least one plugin")
    flags: list[str] = []
    base: Path | None = None  # where classes get their directories, made once
    for index, source in enumerate(sources):
        if isinstance(source, type):
            if base is None:
                base = Path(
                    workdir if workdir is not None else tempfile.mkdtemp(prefix="mmplugin-test-")
                )
            source = plugin_directory(source, base / str(index) if len(sources) > 1 else base)
        flags += ["-plugin", str(source)]
    environ = dict(env if env is not None else os.environ)
    paths = [p for p in sys.path if p]
    if environ.get("PYTHONPATH"):
        paths.append(environ["PYTHONPATH"])
    environ["PYTHONPATH"] = os.pathsep.join(paths)
    return start_reference_server(
        *flags,
        "-python",
        python or sys.executable,
        *args,
        binary=binary,
        timeout=timeout,
        env=environ,
    )
