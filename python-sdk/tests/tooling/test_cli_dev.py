"""The ``mattermost-plugin`` commands that run the dev server, with real processes.

A plugin that ``new`` wrote passes its own tests; ``dev`` runs plugins,
says where to reach them, restarts an edited one with ``--watch``, keeps
the data with ``--state``, reports a plugin that cannot start, and stops
gracefully on SIGINT and SIGTERM. The server is the built pluginapi-server
that ``$MATTERMOST_PLUGINAPI_SERVER`` names (``make test-py`` sets it).
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import mattermost_plugin as mp
from mattermost_plugin._cli import main
from mattermost_plugin.models import User

from conftest import server_binary

#: How long a dev server may take to start its plugins.
READY_TIMEOUT = 60.0

#: The line that ends what ``dev`` prints once the server is ready.
READY_END = "Press Ctrl-C to stop."


def environ(**extra: str) -> dict[str, str]:
    """This environment, with this process's import path for the children."""
    paths = os.pathsep.join(p for p in sys.path if p)
    return {**os.environ, "PYTHONPATH": paths, **extra}


class Dev:
    """A running ``python -m mattermost_plugin dev ...`` and its output so far."""

    def __init__(
        self, *args: str, cwd: Path, server: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        command = [sys.executable, "-m", "mattermost_plugin", "dev", *args]
        command += ["--server", str(server or server_binary())]
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environ(**(env or {})),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._new_out: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._threads = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.out, True)),
            threading.Thread(target=self._read, args=(self.process.stderr, self.err, False)),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def _read(self, stream: object, lines: list[str], signal_new: bool) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))
            if signal_new:
                self._new_out.put(line)
        if signal_new:
            self._new_out.put("")

    def wait_ready(self) -> dict[str, str]:
        """Wait for the block that ``dev`` prints when ready; its fields."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._new_out.get(timeout=0.5)
            except queue.Empty:
                continue
            if not line:
                break
            if line.strip() == READY_END:
                return self.fields()
        self.stop(signal.SIGKILL)
        raise AssertionError(
            "dev did not get ready:\n"
            + "\n".join(self.out)
            + "\n--- stderr\n"
            + "\n".join(self.err)
        )

    def fields(self) -> dict[str, str]:
        """The ``  name  value`` lines of the ready block, by name."""
        found = {}
        for line in self.out:
            match = re.fullmatch(r"  (\S+(?: \S+)?)  +(\S+)", line)
            if match:
                found[match.group(1)] = match.group(2)
        return found

    def stop(self, number: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Send ``number`` to the command and wait for it to exit; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(number)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        self._close()
        return code

    def _close(self) -> None:
        for thread in self._threads:
            thread.join(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def wait(self, timeout: float = READY_TIMEOUT) -> int:
        """Wait for the command to exit by itself; its exit status."""
        code = self.process.wait(timeout)
        self._close()
        return code


@pytest.fixture
def devs() -> Iterator[list[Dev]]:
    """The dev commands a test starts; any still running at its end is killed."""
    started: list[Dev] = []
    yield started
    for dev in started:
        if dev.process.poll() is None:
            dev.process.kill()
            dev.process.wait()
        dev._close()


def new_plugin(parent: Path, name: str, *flags: str) -> Path:
    """``mattermost-plugin new NAME`` in ``parent``, in this process."""
    assert main(["new", name, "--dir", str(parent), *flags]) == 0
    return parent / name


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


# A plugin whose HTTP answer is a constant, to edit under --watch, and that
# leaves a mark when it is deactivated.
ANSWER_PLUGIN = """\
import pathlib

import mattermost_plugin as mp

ANSWER = "one"


class Answer(mp.Plugin):
    def on_deactivate(self):
        pathlib.Path("deactivated").write_text(ANSWER)

    def serve_http(self, context, request):
        return mp.HTTPResponse(200, {"Content-Type": "text/plain"}, ANSWER)
"""


def answer_plugin(directory: Path) -> Path:
    directory.mkdir()
    manifest = {
        "id": "com.example.answer",
        "name": "Answer",
        "version": "0.1.0",
        "server": {"python": {"entry": "plugin.py"}},
    }
    (directory / "plugin.json").write_text(json.dumps(manifest))
    (directory / "plugin.py").write_text(ANSWER_PLUGIN)
    return directory


# -- the tests of a new plugin -----------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_new_plugins_own_tests_pass(tmp_path: Path, flavour: str) -> None:
    plugin = new_plugin(tmp_path, "my-plugin", *(["--async"] if flavour == "async" else []))
    # -p loads the test kit's fixtures where the SDK's pytest11 entry point
    # is not installed (a source checkout); where it is, the entry point has
    # the same name, and pytest loads them once.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "mattermost_plugin.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests",
        ],
        cwd=plugin,
        env=environ(MATTERMOST_PLUGINAPI_SERVER=str(server_binary())),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout


# -- dev ---------------------------------------------------------------------


def test_dev_says_where_to_reach_the_plugin_and_stops_on_ctrl_c(
    tmp_path: Path, devs: list[Dev]
) -> None:
    new_plugin(tmp_path, "my-plugin")
    dev = Dev("my-plugin", cwd=tmp_path)
    devs.append(dev)
    fields = dev.wait_ready()
    target, token, http_url = fields["gRPC target"], fields["token"], fields["HTTP"]
    assert target.startswith("unix://")
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", http_url)
    plugin_url = fields["com.example.my-plugin"]
    assert plugin_url == f"{http_url}/plugins/com.example.my-plugin/"
    assert f'  api = Client("{target}", token="{token}")' in dev.out
    assert f"  export MATTERMOST_PLUGIN_API_TARGET={target}" in dev.out
    assert f"  export MATTERMOST_PLUGIN_API_TOKEN={token}" in dev.out

    assert get(plugin_url + "hello") == "Hello from my-plugin!\n"
    with mp.Client(target, token=token) as api:
        assert api.get_server_version()

    assert dev.stop(signal.SIGINT) == 0
    log = "\n".join(dev.err)
    assert re.search(
        r"^\d\d:\d\d:\d\d INFO  com\.example\.my-plugin my-plugin is active$", log, re.M
    )
    assert "mattermost-plugin dev: stopping the dev server" in log
    assert '{"time"' not in log  # the JSON records were made readable


def test_dev_stops_gracefully_on_sigterm(tmp_path: Path, devs: list[Dev]) -> None:
    plugin = answer_plugin(tmp_path / "answer")
    dev = Dev(str(plugin), cwd=tmp_path)
    devs.append(dev)
    fields = dev.wait_ready()
    assert get(fields["com.example.answer"]) == "one"
    assert dev.stop(signal.SIGTERM) == 0
    # The server ran the plugin's on_deactivate before it exited.
    assert (plugin / "deactivated").read_text() == "one"


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_the_server_stops_when_dev_is_killed(tmp_path: Path, devs: list[Dev]) -> None:
    plugin = answer_plugin(tmp_path / "answer")
    dev = Dev("answer", cwd=tmp_path)
    devs.append(dev)
    dev.wait_ready()
    match = re.match(r"Dev server ready \(pid (\d+)\)", dev.out[0])
    assert match, dev.out
    pid = int(match.group(1))
    assert dev.stop(signal.SIGKILL) == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the dev server outlived the killed dev command")
    # It stopped gracefully: the plugin's on_deactivate ran.
    assert (plugin / "deactivated").read_text() == "one"


def test_dev_watch_restarts_an_edited_plugin(tmp_path: Path, devs: list[Dev]) -> None:
    plugin = answer_plugin(tmp_path / "answer")
    dev = Dev("answer", "--watch", cwd=tmp_path)
    devs.append(dev)
    url = dev.wait_ready()["com.example.answer"]
    assert "Watching: an edit of a .py file or plugin.json restarts its plugin." in dev.out
    assert get(url) == "one"
    source = plugin / "plugin.py"
    source.write_text(source.read_text().replace('ANSWER = "one"', 'ANSWER = "two"'))
    deadline = time.monotonic() + 30
    answer = "one"
    while answer != "two" and time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            answer = get(url)
        except (urllib.error.URLError, ConnectionError):
            continue  # the plugin is restarting
    assert answer == "two", "\n".join(dev.err)
    assert dev.stop() == 0


def test_dev_state_keeps_the_data_between_runs(tmp_path: Path, devs: list[Dev]) -> None:
    answer_plugin(tmp_path / "answer")
    (tmp_path / "data").mkdir()
    first = Dev("answer", "--state", "data/state.json", cwd=tmp_path)
    devs.append(first)
    fields = first.wait_ready()
    with mp.Client(fields["gRPC target"], token=fields["token"]) as api:
        api.create_user(User(username="kept", email="kept@example.com", password="s3cret-pw"))
    assert first.stop() == 0
    assert (tmp_path / "data" / "state.json").is_file()

    second = Dev("answer", "--state", "data/state.json", cwd=tmp_path)
    devs.append(second)
    fields = second.wait_ready()
    with mp.Client(fields["gRPC target"], token=fields["token"]) as api:
        assert api.get_user_by_username("kept").email == "kept@example.com"
    assert second.stop() == 0


def test_dev_reports_a_plugin_that_cannot_start(tmp_path: Path, devs: list[Dev]) -> None:
    plugin = new_plugin(tmp_path, "broken")
    source = plugin / "plugin.py"
    text = source.read_text()
    source.write_text(
        text.replace('self.logger.info("broken is active")', 'raise RuntimeError("no database")')
    )
    dev = Dev("broken", cwd=tmp_path)
    devs.append(dev)
    assert dev.wait() == 1
    last = dev.err[-1]
    assert last.startswith("mattermost-plugin dev: the dev server did not start: "), dev.err
    assert "RuntimeError: no database" in last
    assert "\\n" not in last and '\\"' not in last and '{"' not in last
    assert not any(line.startswith("Dev server ready") for line in dev.out)


def test_dev_passes_absolute_paths_and_its_options_to_the_server(
    tmp_path: Path, devs: list[Dev]
) -> None:
    # A stand-in for pluginapi-server: it records its arguments, logs a
    # record, prints a ready line, and exits 0 on SIGTERM.
    fake = tmp_path / "fake-server"
    fake.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """\
            import json, os, signal, sys, time
            with open(os.environ["FAKE_ARGV"], "w") as f:
                json.dump(sys.argv, f)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            ready = {"target": "unix:///tmp/x.sock", "token": "t0k3n", "pid": os.getpid(),
                     "max_message_size": 1, "keepalive_min_time_ms": 1,
                     "http_url": "http://127.0.0.1:8099"}
            print(json.dumps({"time": "2026-01-02T03:04:05.6Z", "level": "INFO",
                              "msg": "plugin activated", "plugin_id": "com.example.answer",
                              "hooks": ["ServeHTTP"]}), file=sys.stderr, flush=True)
            print(json.dumps(ready), flush=True)
            while True:
                time.sleep(1)
            """
        )
    )
    fake.chmod(0o755)
    answer_plugin(tmp_path / "answer")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    dev = Dev(
        "answer",
        "--watch",
        "--state",
        "state.json",
        "--port",
        "8099",
        "--python",
        "bin/python",
        "--log-level",
        "debug",
        cwd=tmp_path,
        server=fake,
        env={"FAKE_ARGV": str(tmp_path / "argv.json")},
    )
    devs.append(dev)
    fields = dev.wait_ready()
    assert fields["com.example.answer"] == "http://127.0.0.1:8099/plugins/com.example.answer/"
    assert dev.stop() == 0
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        str(fake),
        "-log-format",
        "json",
        "-log-level",
        "debug",
        "-plugin",
        str(tmp_path / "answer"),
        "-python",
        str(tmp_path / "bin" / "python"),  # the link itself: a venv's python stays the venv's
        "-http-addr",
        "127.0.0.1:8099",
        "-watch",
        "-state",
        str(tmp_path / "state.json"),
    ]
    assert 'INFO  com.example.answer plugin activated hooks=["ServeHTTP"]' in "\n".join(dev.err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "nowhere does not exist"),
        (["empty"], "empty has no plugin.json; is it a plugin directory?"),
        (["answer", "--python", "no/such/python"], "--python no/such/python: not an executable"),
        (["answer", "--server", "no/such/server"], "is not an executable file"),
    ],
    ids=["no-dir", "no-manifest", "no-python", "no-server"],
)
def test_dev_fails_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    answer_plugin(tmp_path / "answer")
    (tmp_path / "empty").mkdir()
    command = [sys.executable, "-m", "mattermost_plugin", "dev", *args]
    if "--server" not in args:
        command += ["--server", str(server_binary())]
    result = subprocess.run(
        command, cwd=tmp_path, env=environ(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("mattermost-plugin dev: ")
    assert message in result.stderr


#: tgkill(2)'s number, by machine: a signal to one thread of another process.
_TGKILL = {"x86_64": 234, "aarch64": 131}


@pytest.mark.skipif(
    sys.platform != "linux" or os.uname().machine not in _TGKILL, reason="tgkill is Linux's"
)
def test_dev_stops_when_another_thread_takes_the_signal(tmp_path: Path, devs: list[Dev]) -> None:
    """The kernel may hand a process's SIGINT to any of its threads; CPython runs the
    handler in the main thread, which must not be blocked in waitpid until the
    server exits. (A fresh-clone CI run once hung here for 30 s.)"""
    import ctypes

    fake = tmp_path / "fake-server"
    fake.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """\
            import json, os, signal, sys, time
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            print(json.dumps({"target": "unix:///tmp/x.sock", "token": "t", "pid": os.getpid(),
                              "http_url": "http://127.0.0.1:1"}), flush=True)
            while True:
                time.sleep(1)
            """
        )
    )
    fake.chmod(0o755)
    answer_plugin(tmp_path / "answer")
    dev = Dev("answer", cwd=tmp_path, server=fake)
    devs.append(dev)
    dev.wait_ready()
    pid = dev.process.pid
    others = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid]
    assert others, "dev runs threads that read the server's output"
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(_TGKILL[os.uname().machine], pid, others[0], signal.SIGINT) == 0
    try:
        code = dev.process.wait(10)
    except subprocess.TimeoutExpired:
        dev.stop(signal.SIGKILL)
        raise AssertionError("dev did not stop on a SIGINT that a reader thread took") from None
    assert code == 0
