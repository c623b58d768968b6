"""A plugin process ends on its own when its host dies, whatever it is doing.

The host is killed with SIGKILL, so it cannot send Shutdown or SIGTERM: while
the plugin's module is still importing (before the handshake), while it
serves, and while a hook runs, in a thread or blocking the event loop. The
host is the dev server (a Go supervisor, which also has the kernel kill its
plugins when it dies), or a small Python host, which does not, so that the
plugin's own watch of its parent is what ends it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from mattermost_plugin._plugin import goplugin
from mattermost_plugin.grpc import hooks_pb2, hooks_pb2_grpc
from mattermost_plugin.models import CommandArgs
from mattermost_plugin.testing import ReferenceServer, start_plugin_server

from conftest import GoServer, server_binary

#: How long the plugin may outlive its host.
GONE_WITHIN = 10.0
#: How long a plugin may take to get where the test kills its host.
READY_WITHIN = 60.0

PLUGIN_ID = "test.faults"

#: The plugin: it records its pid at import, and may hang there; its hooks
#: record that they run, then never return.
PLUGIN_SOURCE = """
import asyncio
import os
import time
from pathlib import Path

import mattermost_plugin as mp

FAULT_DIR = Path(os.environ["FAULT_DIR"])
(FAULT_DIR / "pid").write_text(str(os.getpid()))
if os.environ.get("FAULT_STAGE") == "import":
    while True:
        time.sleep(3600)


def hang():
    (FAULT_DIR / "in-hook").write_text("yes")
    while True:
        time.sleep(3600)


class Blocking(mp.Plugin):
    def serve_http(self, context, request):
        hang()

    def execute_command(self, context, args):
        hang()


class LoopBlocking(mp.AsyncPlugin):
    async def serve_http(self, context, request):
        hang()  # blocks the event loop

    async def execute_command(self, context, args):
        hang()
"""

#: A host that starts the plugin with its stderr in a file, prints the
#: plugin's pid, then its handshake line, and waits.
HOST_SOURCE = """
import subprocess, sys, time
with open(sys.argv[1], "wb") as stderr:
    plugin = subprocess.Popen(
        sys.argv[2:], stdout=subprocess.PIPE, stderr=stderr, text=True, close_fds=False
    )
print(plugin.pid, flush=True)
print(plugin.stdout.readline().strip(), flush=True)
time.sleep(600)
"""

#: Where the test kills the host; the classes whose hook hangs.
STAGES = {
    "before the handshake": ("import", "Blocking"),
    "after the handshake": ("serving", "Blocking"),
    "mid-hook": ("hook", "Blocking"),
    "mid-hook, the event loop blocked": ("hook", "LoopBlocking"),
}


def alive(pid: int) -> bool:
    """Whether the process runs: it exists and is not a zombie that nobody reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] != "Z"


def wait_for(condition: Callable[[], object], within: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {within:g} s")
        time.sleep(0.05)


def plugin_dir(directory: Path, class_name: str) -> Path:
    directory.mkdir()
    (directory / "plugin.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    manifest = {
        "id": PLUGIN_ID,
        "name": "Faults",
        "version": "0.0.1",
        "server": {"python": {"entry": f"plugin.py:{class_name}"}},
    }
    (directory / "plugin.json").write_text(json.dumps(manifest))
    return directory


def environment(fault_dir: Path, stage: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATTERMOST_PLUGIN")}
    env.pop("PLUGIN_CLIENT_CERT", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["FAULT_DIR"] = str(fault_dir)
    env["FAULT_STAGE"] = stage
    return env


def plugin_pid(fault_dir: Path) -> int:
    path = fault_dir / "pid"
    wait_for(lambda: path.is_file() and path.read_text(), READY_WITHIN, "the plugin did not start")
    return int(path.read_text())


@contextlib.contextmanager
def killed_at_end(pid_of: list[int]) -> Iterator[None]:
    """Kill the plugin at the end if the test left it running."""
    try:
        yield
    finally:
        for pid in pid_of:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("stage", list(STAGES))
def test_the_plugin_ends_with_the_dev_server(tmp_path: Path, stage: str) -> None:
    when, class_name = STAGES[stage]
    directory = plugin_dir(tmp_path / "plugin", class_name)
    env = environment(tmp_path, when)
    pids: list[int] = []
    with killed_at_end(pids):
        if when == "import":
            # The dev server prints its ready line once the plugin is
            # activated, which this one never is.
            process = subprocess.Popen(
                [str(server_binary()), "-plugin", str(directory), "-python", sys.executable],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                close_fds=False,
            )
            try:
                pids.append(plugin_pid(tmp_path))
            finally:
                process.kill()
                process.wait()
        else:
            server = start_plugin_server(directory, binary=server_binary(), env=env)
            try:
                pids.append(plugin_pid(tmp_path))
                if when == "hook":
                    request_in_flight(server)
                    wait_for((tmp_path / "in-hook").is_file, READY_WITHIN, "the hook did not run")
            finally:
                server.process.kill()
                server.stop()
        wait_for(lambda: not alive(pids[0]), GONE_WITHIN, "the plugin did not end")


def request_in_flight(server: ReferenceServer) -> None:
    """GET the plugin's ServeHTTP in a thread; the answer never comes."""
    url = f"{server.http_url}/plugins/{PLUGIN_ID}/hang"

    def get() -> None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=READY_WITHIN).close()

    threading.Thread(target=get, daemon=True).start()


@pytest.fixture
def plugin_tmp() -> Iterator[Path]:
    """The plugin's TMPDIR, short enough for the unix socket that it makes there."""
    path = Path(tempfile.mkdtemp(prefix="mmfault-", dir="/tmp" if os.path.isdir("/tmp") else None))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("stage", list(STAGES))
def test_the_plugin_ends_with_a_host_that_does_not_kill_it(
    tmp_path: Path, plugin_tmp: Path, go_server: GoServer, stage: str
) -> None:
    """Without a socket directory from the host, the plugin removes its own, however it ends."""
    when, class_name = STAGES[stage]
    directory = plugin_dir(tmp_path / "plugin", class_name)
    stderr = tmp_path / "plugin.stderr"
    env = environment(tmp_path, when)
    env.update({goplugin.MAGIC_COOKIE_KEY: goplugin.MAGIC_COOKIE_VALUE, **go_server.environ()})
    env["TMPDIR"] = str(plugin_tmp)
    host = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOST_SOURCE,
            str(stderr),
            sys.executable,
            "-m",
            "mattermost_plugin.serve",
            f"{directory / 'plugin.py'}:{class_name}",
        ],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        close_fds=False,
    )
    pids: list[int] = []
    channel: grpc.Channel | None = None
    with killed_at_end(pids):
        try:
            assert host.stdout is not None
            pids.append(int(host.stdout.readline()))
            plugin_pid(tmp_path)  # its module runs
            if when != "import":
                handshake = host.stdout.readline().strip()
                assert handshake.startswith("1|1|unix|"), handshake
            if when == "hook":
                channel = grpc.insecure_channel(f"unix:{handshake.split('|')[3]}")
                stub = hooks_pb2_grpc.PluginHooksStub(channel)
                request = hooks_pb2.ExecuteCommandRequest(args=CommandArgs(command="/hang"))
                call = stub.ExecuteCommand.future(request, timeout=READY_WITHIN)
                wait_for((tmp_path / "in-hook").is_file, READY_WITHIN, "the hook did not run")
        finally:
            host.kill()
            host.wait()
            if host.stdout is not None:
                host.stdout.close()
        wait_for(lambda: not alive(pids[0]), GONE_WITHIN, "the plugin did not end")
        if channel is not None:
            call.cancel()
            channel.close()
    said = f"the host (pid {host.pid}) that started this plugin is gone"
    assert said in stderr.read_text()
    assert list(plugin_tmp.iterdir()) == []
