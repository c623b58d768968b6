"""Faults of a Python plugin and of its host, end to end, as one table each.

A real dev server (``pluginapi-server -plugin DIR``) runs a real Python
plugin whose ``message_will_be_posted`` marks each post " [hooked]", while
the test creates posts through the SDK's client as a user would, some of
them from a thread that keeps posting during the fault (the traffic).

Plugin faults: the plugin crashes in the hook, hangs past the hook's
deadline, is stopped (SIGSTOP) in the hook then continued or killed,
writes 50 MiB to its stdout and stderr in the hook; a second plugin,
installed and enabled through the API, never hands shake, or hands a
wrong line; the plugin exits 0.5 s after each activation (a crash loop).
For each, the table says what the call in flight returns (the hooks
client fails open: a post whose hook failed is stored as it was sent,
hooks/client.go), what the hooks client logged, the plugin's status and
process after, and whether every post of the traffic went through the
hook. Every case then checks that no post is lost or duplicated (the
channel holds exactly the posts whose calls returned, as they returned)
and that the server is healthy (alive, answering, filtering posts as the
plugin's state says).

Host faults: the dev server is killed -9 while its plugin is stuck at
import (before the handshake), after the handshake, and during a hook.
The plugin must then exit by itself; a call in flight fails instead of
hanging.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Channel, Post, Team, User
from mattermost_plugin.testing import ReferenceServer, start_plugin_server

from conftest import FAST_DRAIN, server_binary

#: The plugin that the dev server runs from the start.
PLUGIN_ID = "test.fault"
#: The plugin that cases install and enable through the API.
BROKEN_ID = "test.broken"
#: What the plugin's hook appends to a post's message.
HOOKED = " [hooked]"

#: The dev server's deadline of a hook call (-hook-timeout; 30 s by
#: default): long enough for the flood's hook to write its 50 MiB on a
#: loaded machine, short enough that the hang costs little.
HOOK_TIMEOUT = "8s"
#: How long a plugin has for its handshake (-start-timeout; 10 s by
#: default).
START_TIMEOUT = "5s"
#: Deadline of the test's own calls: longer than the hook deadline, so
#: that a call whose hook hangs returns the server's answer instead of the
#: client's DEADLINE_EXCEEDED.
CALL_TIMEOUT = 60.0
#: Bounds of waits for what must happen: a plugin that marks where it is,
#: a restart, a plugin's exit after its host died (the brief's 10 s).
WAIT_MARK = 30.0
WAIT_RESTART = 30.0
WAIT_GIVE_UP = 60.0
WAIT_EXIT = 10.0
#: The pause between two posts of the traffic, which keeps it light on a
#: shared machine.
TRAFFIC_PAUSE = 0.02
#: The dev server's bound of one forwarded log line (supervisor's
#: maxLogLine, 64 KiB), plus room for the JSON record around it.
MAX_LOG_LINE = (64 << 10) + 1024
#: The output of the flood: 25 MiB to stdout, 25 MiB to stderr.
FLOOD_MIB = 25

# The plugins' sources. MARKS is the directory where a plugin tells the
# test, with its pid, that it got somewhere: a file is renamed into place
# so that the test never reads half of one.
_PRELUDE = """\
import os
import threading
import time
from pathlib import Path

MARKS = Path({marks!r})


def mark(name):
    part = MARKS / (name + ".part")
    part.write_text(str(os.getpid()))
    part.rename(MARKS / name)
"""

#: The plugin of every plugin fault. The post's message picks the fault.
FAULT_PLUGIN = (
    _PRELUDE
    + """
import mattermost_plugin as mp

#: Seconds after each activation at which the process exits; None: never.
EXIT_AFTER = {exit_after!r}


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Fault(mp.Plugin):
    def on_activate(self):
        if EXIT_AFTER is not None:
            threading.Timer(EXIT_AFTER, os._exit, (1,)).start()

    def message_will_be_posted(self, context, post):
        if post.message == "crash":
            os._exit(3)
        if post.message in ("hang", "block"):
            mark(post.message)
            threading.Event().wait()
        if post.message == "stop-me":
            mark("stop-me")
            while not (MARKS / "go").exists():
                time.sleep(0.01)
        if post.message == "flood":
            # Short lines to stdout (which the SDK points at stderr), then
            # one line of 25 MiB to stderr.
            line = b"o" * 1023 + b"\\n"
            for _ in range({flood_mib}):
                write_all(1, line * 1024)
            for _ in range({flood_mib}):
                write_all(2, b"e" * (1 << 20))
            write_all(2, b"\\n")
        post.message += {hooked!r}
        return post
"""
)

#: A plugin whose module never returns from its import: it never serves.
STUCK_PLUGIN = (
    _PRELUDE
    + """
mark("importing")
time.sleep(3600)
"""
)

#: A plugin that hands the host a wrong handshake line: on the stdout that
#: the SDK keeps for the handshake, before the SDK's own line.
WRONG_HANDSHAKE_PLUGIN = (
    _PRELUDE
    + """
from mattermost_plugin._plugin.runner import claim_stdout

out = claim_stdout()
out.write({line!r} + "\\n")
out.flush()
mark("importing")
time.sleep(3600)
"""
)
#: A line that is no handshake at all, as a stray print makes.
GARBAGE_LINE = "hello from the plugin"
#: go-plugin's handshake of another plugin protocol version (99).
OTHER_VERSION_LINE = "1|99|unix|/nonexistent/plugin.sock|grpc|"


def manifest(plugin_id: str) -> str:
    return json.dumps(
        {
            "id": plugin_id,
            "name": plugin_id,
            "version": "0.0.0",
            "server": {"python": {"entry": "plugin.py"}},
        }
    )


def write_plugin(directory: Path, plugin_id: str, source: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "plugin.json").write_text(manifest(plugin_id))
    (directory / "plugin.py").write_text(source)
    return directory


def bundle(plugin_id: str, source: str) -> bytes:
    """A bundle made by hand: plugin.json and plugin.py at the top, as Mattermost takes one."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as archive:
        for name, text in (("plugin.json", manifest(plugin_id)), ("plugin.py", source)):
            body = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(body))
    return data.getvalue()


# Processes, read from /proc.


def _stat(pid: int) -> tuple[str, int] | None:
    """The state letter and parent pid of a process, or None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Whether pid runs: a zombie has exited, and nobody may be left to reap it."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def state(pid: int) -> str:
    stat = _stat(pid)
    return stat[0] if stat is not None else ""


def plugin_processes(parent: int) -> list[int]:
    """The live plugin processes (``python -m mattermost_plugin.serve``) of the dev server."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat(int(entry))
        if stat is None or stat[1] != parent or stat[0] == "Z":
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mattermost_plugin.serve" in command:
            found.append(int(entry))
    return sorted(found)


def kill_if_alive(pid: int) -> None:
    """Kill a plugin process that a test left behind, whatever its verdict."""
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def wait_until(done: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll done() until it holds, or fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not within {timeout:g} s")
        time.sleep(0.02)


def server_env() -> dict[str, str]:
    """The dev server's environment: the plugins import what this test does."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


# The calls of a test.


@dataclass
class Call:
    """One call of the test and how it ended: a result, or an error."""

    what: str
    result: object = None
    error: BaseException | None = None

    @property
    def post(self) -> Post:
        assert self.error is None, f"{self.what}: {self.error!r}"
        assert isinstance(self.result, Post)
        return self.result


class Background:
    """A call made on a thread, so that a fault can hit it in flight."""

    def __init__(self, make: Callable[[], Call]) -> None:
        self._calls: list[Call] = []
        self._thread = threading.Thread(target=lambda: self._calls.append(make()), daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float = CALL_TIMEOUT + 10) -> Call:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the call did not return"
        return self._calls[0]


@dataclass
class Rig:
    """A dev server with its plugin, a user and a channel, and every post the test made."""

    server: ReferenceServer
    marks: Path
    api: mp.Client = field(init=False)
    user: User = field(init=False)
    channel: Channel = field(init=False)
    posts: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    barriers: int = 0

    def __post_init__(self) -> None:
        self.api = self.server.client(timeout=CALL_TIMEOUT)
        self.user = self.api.create_user(
            User(username="ann", email="ann@example.com", password="pw-s3cret1")
        )
        team = self.api.create_team(Team(name="faults", display_name="Faults", type="O"))
        self.api.create_team_member(team.id, self.user.id)
        self.channel = self.api.create_channel(
            Channel(team_id=team.id, name="faults", display_name="Faults", type="O")
        )

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def post(self, message: str) -> Call:
        call = Call(message)
        try:
            call.result = self.api.create_post(
                Post(user_id=self.user.id, channel_id=self.channel.id, message=message)
            )
        except mp.PluginAPIError as error:
            call.error = error
        with self.lock:
            self.posts.append(call)
        return call

    def post_in_background(self, message: str) -> Background:
        return Background(lambda: self.post(message))

    def wait_mark(self, name: str) -> int:
        """Wait until the plugin marked name; return the pid that did."""
        path = self.marks / name
        wait_until(path.exists, WAIT_MARK, f"the plugin to reach {name!r}")
        return int(path.read_text())

    def plugin_pid(self) -> int:
        """The pid of the dev server's one plugin process."""
        pids = plugin_processes(self.pid)
        assert len(pids) == 1, f"plugin processes of the dev server: {pids}"
        return pids[0]

    def read_log(self) -> None:
        """Wait until the test has read every record that the server logged before now.

        The server writes its records in order, and the test reads them on a
        thread of its own: once a record logged now is read, so are the
        earlier ones (or the server dropped and counted them, when the test
        read too slowly).
        """
        self.barriers += 1
        text = f"the test reads the log ({self.barriers})"
        self.api.log_info(text)
        wait_until(
            lambda: any(r.get("msg") == text for r in self.server.log_records()),
            WAIT_MARK,
            "the server's log to reach the test",
        )

    def plugin_log_records(self, plugin_id: str = PLUGIN_ID) -> list[dict[str, object]]:
        """The server's log records about the plugin."""
        return [r for r in self.server.log_records() if r.get("plugin_id") == plugin_id]

    def plugin_log(self, message: str, plugin_id: str = PLUGIN_ID) -> list[dict[str, object]]:
        return [r for r in self.plugin_log_records(plugin_id) if r.get("msg") == message]

    @contextlib.contextmanager
    def traffic(self) -> Iterator[list[Call]]:
        """Posts "t-N", one after another, until the block ends."""
        stop = threading.Event()
        calls: list[Call] = []

        def run() -> None:
            n = 0
            while not stop.is_set():
                calls.append(self.post(f"t-{n}"))
                n += 1
                stop.wait(TRAFFIC_PAUSE)

        thread = threading.Thread(target=run, name="traffic", daemon=True)
        thread.start()
        try:
            yield calls
        finally:
            stop.set()
            thread.join(CALL_TIMEOUT + 10)
            assert not thread.is_alive(), "the traffic's last post did not return"

    def install_and_enable(self, source: str) -> Call:
        """Install a plugin through the API and enable it, as an admin does."""
        manifest = self.api.install_plugin(bundle(BROKEN_ID, source), False)
        assert manifest.id == BROKEN_ID
        call = Call(f"enable {BROKEN_ID}")
        try:
            self.api.enable_plugin(BROKEN_ID)
        except mp.PluginAPIError as error:
            call.error = error
        return call


# The plugin faults. Each makes its fault happen and returns the call that
# it hit in flight, if any.


def crash_mid_hook(rig: Rig) -> Call | None:
    return rig.post("crash")


def hang_past_the_deadline(rig: Rig) -> Call | None:
    # The traffic's posts run meanwhile on the plugin's other threads.
    hung = rig.post_in_background("hang")
    rig.wait_mark("hang")
    return hung.join()


def stopped_in_the_hook(then: signal.Signals) -> Callable[[Rig], Call | None]:
    def inject(rig: Rig) -> Call | None:
        call = rig.post_in_background("stop-me")
        pid = rig.wait_mark("stop-me")
        os.kill(pid, signal.SIGSTOP)
        wait_until(lambda: state(pid) == "T", WAIT_MARK, "the plugin to stop")
        # The hook returns once it sees this file, which it cannot look
        # for while stopped.
        (rig.marks / "go").touch()
        assert call.running()
        os.kill(pid, then)
        return call.join()

    return inject


def flood(rig: Rig) -> Call | None:
    call = rig.post("flood")
    # The output reached the log, its long line cut in pieces that the
    # test checks, unless the test read too slowly and the server dropped
    # them (saying so), as its log does rather than stall.
    rig.read_log()
    lines = rig.server.log_lines
    assert any(len(line) > MAX_LOG_LINE - 2048 for line in lines) or any(
        "log records dropped" in line for line in lines
    )
    return call


def install(source: str, line: str = "") -> Callable[[Rig], Call | None]:
    def inject(rig: Rig) -> Call | None:
        enable = rig.install_and_enable(source.format(marks=str(rig.marks), line=line))
        # What failed to start is gone: only the first plugin runs.
        assert len(plugin_processes(rig.pid)) == 1, plugin_processes(rig.pid)
        return enable

    return inject


def crash_loop(rig: Rig) -> Call | None:
    def gave_up() -> bool:
        return rig.api.get_plugin_status(PLUGIN_ID).state == FAILED_TO_STAY_RUNNING

    wait_until(gave_up, WAIT_GIVE_UP, "the dev server to stop restarting the plugin")
    return None


# What a call in flight returns, and what the plugin is after the fault.
IN_FLIGHT_HOOKED = "the hook's answer"
IN_FLIGHT_UNCHANGED = "the post as sent (fail open)"
IN_FLIGHT_FAILED = "an error"
SAME = "the same process"
RESTARTED = "a new process"
DISABLED = "no process, and no restart"
#: A hook_error that is not checked: the loop's exits may or may not cut a
#: hook short.
ANY = "any"

RUNNING, FAILED_TO_START, FAILED_TO_STAY_RUNNING = 2, 3, 4


@dataclass(frozen=True)
class PluginFault:
    name: str
    inject: Callable[[Rig], Call | None]
    #: What the call in flight returns; None when the fault hits no call
    #: of its own (only the traffic's).
    in_flight: str | None
    #: A text of the error that the hooks client logged ("plugin hook
    #: failed"), or None when no hook call may fail.
    hook_error: str | None
    #: The plugin whose status is checked, and its state.
    status: tuple[str, int]
    after: str
    #: Whether every post of the traffic went through the hook.
    traffic_hooked: bool
    #: Seconds after each activation at which the plugin exits.
    exit_after: float | None = None
    #: A text of the failed call's error and of the failed plugin's status:
    #: the reason, named.
    reason: str = ""


PLUGIN_FAULTS = [
    PluginFault(
        "crash mid-hook", crash_mid_hook, IN_FLIGHT_UNCHANGED, "Unavailable",
        (PLUGIN_ID, RUNNING), RESTARTED, traffic_hooked=False,
    ),
    PluginFault(
        "hang past the deadline", hang_past_the_deadline, IN_FLIGHT_UNCHANGED, "DeadlineExceeded",
        (PLUGIN_ID, RUNNING), SAME, traffic_hooked=True,
    ),
    PluginFault(
        "SIGSTOP then SIGCONT", stopped_in_the_hook(signal.SIGCONT), IN_FLIGHT_HOOKED, None,
        (PLUGIN_ID, RUNNING), SAME, traffic_hooked=True,
    ),
    PluginFault(
        "SIGSTOP then SIGKILL", stopped_in_the_hook(signal.SIGKILL), IN_FLIGHT_UNCHANGED,
        "Unavailable", (PLUGIN_ID, RUNNING), RESTARTED, traffic_hooked=False,
    ),
    PluginFault(
        "50 MiB of output", flood, IN_FLIGHT_HOOKED, None,
        (PLUGIN_ID, RUNNING), SAME, traffic_hooked=True,
    ),
    PluginFault(
        "no handshake", install(STUCK_PLUGIN), IN_FLIGHT_FAILED, None,
        (BROKEN_ID, FAILED_TO_START), SAME, traffic_hooked=True,
        reason=f"did not complete the handshake within {START_TIMEOUT}",
    ),
    PluginFault(
        "wrong handshake line", install(WRONG_HANDSHAKE_PLUGIN, GARBAGE_LINE), IN_FLIGHT_FAILED,
        None, (BROKEN_ID, FAILED_TO_START), SAME, traffic_hooked=True,
        reason=f'the plugin wrote "{GARBAGE_LINE}" to stdout before the handshake',
    ),
    PluginFault(
        "handshake of another version", install(WRONG_HANDSHAKE_PLUGIN, OTHER_VERSION_LINE),
        IN_FLIGHT_FAILED, None, (BROKEN_ID, FAILED_TO_START), SAME, traffic_hooked=True,
        reason="the plugin's handshake speaks app protocol version",
    ),
    PluginFault(
        "crash loop", crash_loop, None, ANY,
        (PLUGIN_ID, FAILED_TO_STAY_RUNNING), DISABLED, traffic_hooked=False, exit_after=0.5,
        reason="exited with status 1",
    ),
]  # fmt: skip


def start_dev_server(tmp_path: Path, plugin: Path) -> ReferenceServer:
    return start_plugin_server(
        str(plugin), *FAST_DRAIN, "-plugins-dir", str(tmp_path / "plugins"),
        "-hook-timeout", HOOK_TIMEOUT, "-start-timeout", START_TIMEOUT,
        binary=server_binary(), env=server_env(),
    )  # fmt: skip


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    path = tmp_path / "marks"
    path.mkdir()
    return path


def fault_id(fault: PluginFault | HostFault) -> str:
    return fault.name.replace(" ", "-")


@pytest.mark.parametrize("fault", PLUGIN_FAULTS, ids=fault_id)
def test_plugin_fault(fault: PluginFault, tmp_path: Path, marks: Path) -> None:
    source = FAULT_PLUGIN.format(
        marks=str(marks), exit_after=fault.exit_after, flood_mib=FLOOD_MIB, hooked=HOOKED
    )
    server = start_dev_server(tmp_path, write_plugin(tmp_path / "fault", PLUGIN_ID, source))
    rig: Rig | None = None
    try:
        rig = Rig(server, marks)
        before = rig.plugin_pid()
        with rig.traffic() as traffic:
            in_flight = fault.inject(rig)

        # The call in flight.
        if fault.in_flight is None:
            assert in_flight is None
        else:
            assert in_flight is not None
            if fault.in_flight == IN_FLIGHT_FAILED:
                assert in_flight.error is not None, f"{in_flight.what} succeeded"
                assert fault.reason in str(in_flight.error)
            else:
                suffix = HOOKED if fault.in_flight == IN_FLIGHT_HOOKED else ""
                assert in_flight.post.message == in_flight.what + suffix

        # The posts of the traffic: every one succeeds (the hooks fail
        # open), and through the hook when the plugin kept serving.
        assert traffic, "the traffic made no post"
        for call in traffic:
            hooked = call.what + HOOKED
            allowed = {hooked} if fault.traffic_hooked else {hooked, call.what}
            assert call.post.message in allowed

        # What the hooks client logged.
        rig.read_log()
        failed = rig.plugin_log("plugin hook failed")
        if fault.hook_error is None:
            assert failed == []
        elif fault.hook_error != ANY:
            errors = [str(r.get("error")) for r in failed if r.get("hook") == "MessageWillBePosted"]
            assert any(fault.hook_error in e for e in errors), failed

        # The plugin's status and process.
        plugin_id, want = fault.status
        status = rig.api.get_plugin_status(plugin_id)
        assert status.state == want, status
        assert bool(status.error) == (want != RUNNING), status
        assert fault.reason in status.error
        if fault.after == SAME:
            assert rig.plugin_pid() == before
            assert rig.post("after").post.message == "after" + HOOKED
        elif fault.after == RESTARTED:
            n = 0

            def hooked_again() -> bool:
                nonlocal n
                n += 1
                return rig.post(f"after-{n}").post.message.endswith(HOOKED)

            wait_until(hooked_again, WAIT_RESTART, "the restarted plugin to filter posts")
            assert rig.plugin_pid() != before
        else:
            assert fault.after == DISABLED
            wait_until(lambda: not plugin_processes(rig.pid), WAIT_EXIT, "the plugin to be gone")
            assert len(rig.plugin_log("plugin activated")) >= 2, "the plugin never restarted"
            # An error line of the log says why, as the status does.
            assert any(
                r.get("level") == "ERROR" and status.error in r.values()
                for r in rig.plugin_log_records()
            ), f"no error line of the log says {status.error!r}"
            assert rig.post("after").post.message == "after"

        # No post is lost or duplicated: the channel holds exactly the posts
        # whose calls returned, as they returned.
        returned = {c.post.id: c.post.message for c in rig.posts if c.error is None}
        assert len(returned) == len(rig.posts), [c for c in rig.posts if c.error is not None]
        # One page holds them all: upstream allows at most 1000 a page.
        stored = rig.api.get_posts_for_channel(rig.channel.id, 0, 1000).posts
        assert {i: p.message for i, p in stored.items()} == returned

        # The server is healthy: alive, answering, and its log lines bounded.
        assert server.process.poll() is None
        assert rig.api.get_server_version()
        longest = max(len(line) for line in server.log_lines)
        assert longest <= MAX_LOG_LINE
    finally:
        if rig is not None:
            rig.api.close()
        server.stop()


# The host faults.


@dataclass(frozen=True)
class HostFault:
    name: str
    #: Whether the plugin is stuck at import, before the handshake, when
    #: the dev server is killed.
    before_handshake: bool = False
    #: Whether the dev server is killed while a hook runs.
    mid_hook: bool = False


HOST_FAULTS = [
    HostFault("killed before the handshake", before_handshake=True),
    HostFault("killed after the handshake"),
    HostFault("killed mid-hook", mid_hook=True),
]


@pytest.mark.parametrize("fault", HOST_FAULTS, ids=fault_id)
def test_host_fault(fault: HostFault, tmp_path: Path, marks: Path) -> None:
    template = STUCK_PLUGIN if fault.before_handshake else FAULT_PLUGIN
    source = template.format(marks=str(marks), exit_after=None, flood_mib=FLOOD_MIB, hooked=HOOKED)
    plugin = write_plugin(tmp_path / "fault", PLUGIN_ID, source)
    with contextlib.ExitStack() as cleanup:
        in_flight: Background | None = None
        if fault.before_handshake:
            # No ready line comes before the plugin's handshake: start the
            # server by hand, and find the plugin by its mark.
            log = cleanup.enter_context(open(tmp_path / "server.log", "w"))
            command = [
                str(server_binary()), "-log-format", "json", "-plugin", str(plugin),
                "-python", sys.executable, "-plugins-dir", str(tmp_path / "plugins"),
            ]  # fmt: skip
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                env=server_env(), close_fds=False, text=True,
            )  # fmt: skip
            cleanup.callback(process.wait)
            cleanup.callback(process.kill)
            path = marks / "importing"
            wait_until(path.exists, WAIT_MARK, "the plugin to reach its import")
            pid = int(path.read_text())
        else:
            server = start_dev_server(tmp_path, plugin)
            cleanup.callback(server.stop)
            rig = Rig(server, marks)
            cleanup.callback(rig.api.close)
            process = server.process
            pid = rig.plugin_pid()
            if fault.mid_hook:
                in_flight = rig.post_in_background("block")
                assert rig.wait_mark("block") == pid
        cleanup.callback(kill_if_alive, pid)
        stat = _stat(pid)
        assert stat is not None and stat[1] == process.pid, "the plugin is not the server's child"

        process.kill()
        process.wait()

        if in_flight is not None:
            call = in_flight.join()
            assert isinstance(call.error, mp.UnavailableError), call
        wait_until(lambda: not alive(pid), WAIT_EXIT, "the plugin to exit after its host died")
