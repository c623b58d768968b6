"""``mattermost-plugin dev DIR...``: run plugins under the local dev server.

The dev server (``pluginapi-server``) starts each plugin as Mattermost
would, prints one JSON ready line on stdout once every plugin is active,
and logs to stderr. This command starts it, says where to reach it, shows
its log readably, and stops it gracefully on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

from ..config import ENV_TARGET, ENV_TOKEN
from ._bundle_check import is_bundle_name
from ._env import child_environ
from ._errors import CommandError
from ._logs import error_cause, format_line
from ._manifest import MANIFEST

#: Seconds that the server may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 30.0

#: The signals that stop the server.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: How long the wait for the server blocks at a time, in seconds (see _wait).
_WAIT_SLICE = 0.2

#: Linux's prctl option that signals a process when its parent dies.
_PR_SET_PDEATHSIG = 1


def _plugin_dir(name: str) -> Path:
    """A plugin directory or a bundle file, absolute."""
    path = Path(name)
    if is_bundle_name(path.name) and path.is_file():
        return Path(os.path.abspath(path))
    if not path.is_dir():
        raise CommandError(
            f"{name} is not a directory" if path.exists() else f"{name} does not exist"
        )
    if not (path / MANIFEST).is_file():
        raise CommandError(f"{name} has no {MANIFEST}; is it a plugin directory?")
    return Path(os.path.abspath(path))


def _python(name: str | None) -> str:
    """The plugins' interpreter, absolute: a venv's python must stay the venv's."""
    if name is None:
        return sys.executable
    if os.sep in name or (os.altsep and os.altsep in name):
        path = os.path.abspath(name)
        if not os.access(path, os.X_OK) or not os.path.isfile(path):
            raise CommandError(f"--python {name}: not an executable file")
        return path
    found = shutil.which(name)
    if found is None:
        raise CommandError(f"--python {name}: not found on PATH")
    return os.path.abspath(found)


def _server_binary(name: str | None) -> Path:
    from ..testing import ServerStartError, find_server_binary

    try:
        return find_server_binary(os.path.abspath(name) if name else None)
    except ServerStartError as error:
        raise CommandError(" ".join(str(error).split())) from None


def _die_with_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux send the server SIGTERM when this process dies.

    The server runs in a session of its own, out of reach of the terminal's
    signals; without this, a kill -9 of this command would leave it and its
    plugins running. Elsewhere there is no such signal, and None is returned.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # this process died before the call
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def server_argv(
    binary: Path,
    directories: Sequence[Path],
    *,
    python: str,
    port: int | None = None,
    watch: bool = False,
    state: str | None = None,
    log_level: str = "info",
    store: str | None = None,
    node_id: str | None = None,
) -> list[str]:
    """The dev server's command line: every path absolute, its log in JSON.

    store and node_id pass through as ``-store`` and ``-node-id``: nodes
    that share one PostgreSQL store form a cluster.
    """
    argv = [str(binary), "-log-format", "json", "-log-level", log_level]
    for directory in directories:
        argv += ["-plugin", str(directory)]
    argv += ["-python", python]
    if port is not None:
        argv += ["-http-addr", f"127.0.0.1:{port}"]
    if watch:
        argv.append("-watch")
    if state is not None:
        argv += ["-state", os.path.abspath(state)]
    if store is not None:
        argv += ["-store", store]
    if node_id is not None:
        argv += ["-node-id", node_id]
    return argv


def _plugin_ids(directories: Sequence[Path]) -> list[str]:
    """The ids in the plugins' manifests, as far as they can be read."""
    ids = []
    for directory in directories:
        try:
            if is_bundle_name(directory.name):
                manifest = _bundled_manifest(directory)
            else:
                manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError, tarfile.TarError):
            continue
        plugin_id = manifest.get("id") if isinstance(manifest, dict) else None
        if isinstance(plugin_id, str) and plugin_id:
            ids.append(plugin_id)
    return ids


def _bundled_manifest(bundle: Path) -> object:
    """The plugin.json of a bundle: in its one top-level directory, or at its root."""
    with tarfile.open(bundle, "r:gz") as archive:
        for member in archive:
            parts = member.name.strip("/").split("/")
            if member.isfile() and parts[-1] == MANIFEST and len(parts) <= 2:
                handle = archive.extractfile(member)
                if handle is not None:
                    return json.loads(handle.read(1 << 20).decode("utf-8-sig"))
    raise ValueError(f"{bundle} has no {MANIFEST}")


class _LogPump:
    """Copies the server's stderr to ours, readable, and keeps the cause of a failure."""

    def __init__(self, stream: IO[str], out: IO[str]) -> None:
        self._stream = stream
        self._out = out
        self.cause = ""
        self._thread = threading.Thread(target=self._pump, name="dev-server-log", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in self._stream:
            cause = error_cause(line)
            if cause:
                self.cause = cause
            try:
                self._out.write(format_line(line) + "\n")
                self._out.flush()
            except (OSError, ValueError):  # our stderr is gone; keep draining
                pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def _read_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    lines.put("")  # end of stream


class _Stopper:
    """Turns SIGINT, SIGTERM and SIGHUP into a graceful stop of the server.

    A second signal kills the server.
    """

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.requested = False
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals; Ctrl-C then raises as usual
        for number in _STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.process.poll() is not None:
            self.requested = True
            return
        if self.requested:
            print("mattermost-plugin dev: killing the dev server", file=sys.stderr, flush=True)
            self.process.kill()
            return
        self.requested = True
        print("mattermost-plugin dev: stopping the dev server", file=sys.stderr, flush=True)
        self.process.send_signal(signal.SIGTERM)


def _describe(ready: dict[str, Any], plugin_ids: Sequence[str], watch: bool) -> str:
    target = str(ready.get("target", ""))
    token = str(ready.get("token", ""))
    http_url = str(ready.get("http_url", "")).rstrip("/")
    count = len(plugin_ids)
    lines = [
        f"Dev server ready (pid {ready.get('pid')}), {count} plugin{'s' * (count != 1)} active.",
        "",
        f"  gRPC target  {target}",
        f"  token        {token}",
        f"  HTTP         {http_url}",
    ]
    for plugin_id in plugin_ids:
        lines.append(f"  {plugin_id}  {http_url}/plugins/{plugin_id}/")
    lines += [
        "",
        "Connect from Python:",
        "  from mattermost_plugin import Client",
        f'  api = Client("{target}", token="{token}")',
        "or set the variables that Client() reads:",
        f"  export {ENV_TARGET}={shlex.quote(target)}",
        f"  export {ENV_TOKEN}={shlex.quote(token)}",
        "",
    ]
    if watch:
        lines.append("Watching: an edit of a .py file or plugin.json restarts its plugin.")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


class _NotReady(Exception):
    """The server closed its stdout without a ready line: it is exiting."""


def _wait_ready(
    lines: queue.Queue[str], stopper: _Stopper, timeout: float
) -> dict[str, Any] | None:
    """The server's ready line; None when stopped or after ``timeout`` seconds.

    Raises:
        _NotReady: The server's stdout ended first.
    """
    deadline = time.monotonic() + timeout
    while not stopper.requested and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        if not line:
            raise _NotReady
        try:
            ready = json.loads(line)
        except json.JSONDecodeError:
            continue  # not the ready line: the server prints nothing else on stdout
        if isinstance(ready, dict) and "target" in ready:
            return ready
    return None


def _wait(process: subprocess.Popen[str]) -> int:
    """``process.wait()``, in short slices between which signal handlers run.

    CPython runs a signal's handler in the main thread, but the kernel may
    deliver the signal to another thread (a log reader's); a main thread
    blocked in one waitpid until the server exits would then never run the
    handler that tells the server to exit.
    """
    while True:
        try:
            return process.wait(_WAIT_SLICE)
        except subprocess.TimeoutExpired:
            continue


def _stop(process: subprocess.Popen[str]) -> int:
    """Stop the server with SIGTERM, then a kill after STOP_TIMEOUT; its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(
            f"mattermost-plugin dev: the dev server did not stop in {STOP_TIMEOUT:g} s; killing it",
            file=sys.stderr,
        )
        process.kill()
        return process.wait()


def run(args: argparse.Namespace) -> int:
    """Run ``dev``; see :func:`mattermost_plugin._cli.build_parser`."""
    directories = [_plugin_dir(name) for name in args.directories]
    python = _python(args.python)
    binary = _server_binary(args.server)
    if args.state is not None and not Path(args.state).parent.resolve().is_dir():
        raise CommandError(f"--state {args.state}: its directory does not exist")
    argv = server_argv(
        binary,
        directories,
        python=python,
        port=args.port,
        watch=args.watch,
        state=args.state,
        log_level=args.log_level,
        store=args.store,
        node_id=args.node_id,
    )
    # The plugins run with this interpreter by default: let them import the
    # SDK that runs this command, wherever it comes from.
    environ = child_environ() if python == sys.executable else dict(os.environ)
    try:
        # A session of its own: a Ctrl-C in the terminal reaches this
        # command alone, which then stops the server (and so its plugins)
        # once, gracefully.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=environ,
            start_new_session=True,
            preexec_fn=_die_with_this_process(),
        )
    except OSError as error:
        raise CommandError(f"cannot run {binary}: {error.strerror or error}") from None
    assert process.stdout is not None and process.stderr is not None
    stopper = _Stopper(process)
    stopper.install()
    try:
        return _serve(process, stopper, directories, args)
    finally:
        if process.poll() is None:
            _stop(process)
        stopper.restore()


def _serve(
    process: subprocess.Popen[str],
    stopper: _Stopper,
    directories: Sequence[Path],
    args: argparse.Namespace,
) -> int:
    assert process.stdout is not None and process.stderr is not None
    log = _LogPump(process.stderr, sys.stderr)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=_read_lines, args=(process.stdout, lines), name="dev-server-stdout", daemon=True
    ).start()
    try:
        ready = _wait_ready(lines, stopper, args.timeout)
    except _NotReady:
        code = _stop(process)  # it is exiting already; SIGTERM only hurries a straggler
        log.join(5)
        cause = log.cause or f"it exited with code {code}"
        raise CommandError(f"the dev server did not start: {cause}") from None
    if ready is None:
        _stop(process)
        log.join(5)
        if stopper.requested:
            return 0
        raise CommandError(
            f"the dev server did not get ready in {args.timeout:g} s; see its log above"
        )
    print(_describe(ready, _plugin_ids(directories), args.watch), flush=True)
    code = _wait(process)
    log.join(5)
    if stopper.requested:
        if code not in (0, -signal.SIGTERM, -signal.SIGKILL):
            raise CommandError(f"the dev server stopped with code {code}: {log.cause}".rstrip(": "))
        return 0
    cause = f": {log.cause}" if log.cause else ""
    raise CommandError(f"the dev server exited with code {code}{cause}")
