"""``mattermost-plugin dev --store URL --node-id ID``: a dev server as a cluster node.

The options pass through to pluginapi-server as ``-store`` and
``-node-id``; a stand-in server records its command line, so these tests
need no database. A value that cannot be right is refused before any
server starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mattermost_plugin._cli._dev import server_argv

#: The line that ends what ``dev`` prints once the server is ready.
READY_END = "Press Ctrl-C to stop."

URL = "postgres://mm@localhost/plugins?host=/tmp/pg&sslmode=disable"

# A stand-in for pluginapi-server: it records its arguments, prints a
# ready line, and exits 0 on SIGTERM.
FAKE_SERVER = """\
import json, os, signal, sys, time
with open(os.environ["FAKE_ARGV"], "w") as f:
    json.dump(sys.argv, f)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(json.dumps({"target": "unix:///tmp/x.sock", "token": "t", "pid": os.getpid(),
                  "max_message_size": 1, "keepalive_min_time_ms": 1,
                  "http_url": "http://127.0.0.1:8099"}), flush=True)
while True:
    time.sleep(1)
"""


def environ(**extra: str) -> dict[str, str]:
    """This environment, with this process's import path for the children."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), **extra}


def plugin(directory: Path) -> None:
    directory.mkdir()
    (directory / "plugin.json").write_text(
        json.dumps({"id": "com.example.node", "server": {"executable": "plugin.py"}})
    )
    (directory / "plugin.py").write_text("import mattermost_plugin\n")


def test_server_argv_passes_store_and_node_id() -> None:
    argv = server_argv(Path("/bin/server"), [Path("/p")], python="/py", store=URL, node_id="node-a")
    assert argv[-4:] == ["-store", URL, "-node-id", "node-a"]
    assert "-store" not in server_argv(Path("/bin/server"), [Path("/p")], python="/py")


def test_dev_runs_the_server_as_a_node(tmp_path: Path) -> None:
    fake = tmp_path / "fake-server"
    fake.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE_SERVER))
    fake.chmod(0o755)
    plugin(tmp_path / "node")
    argv_file = tmp_path / "argv.json"
    command = [sys.executable, "-m", "mattermost_plugin", "dev", "node"]
    command += ["--store", URL, "--node-id", "node-a", "--server", str(fake)]
    dev = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=environ(FAKE_ARGV=str(argv_file)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert dev.stdout is not None
        deadline = time.monotonic() + 60
        for line in dev.stdout:
            if line.strip() == READY_END or time.monotonic() > deadline:
                break
        dev.send_signal(signal.SIGINT)
        _, err = dev.communicate(timeout=30)
    finally:
        if dev.poll() is None:
            dev.kill()
            dev.wait()
    assert dev.returncode == 0, err
    argv = json.loads(argv_file.read_text())
    assert argv[argv.index("-store") + 1] == URL
    assert argv[argv.index("-node-id") + 1] == "node-a"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "mysql://x"], "argument --store: not a PostgreSQL URL: 'mysql://x'"),
        (["--store", ""], "argument --store: not a PostgreSQL URL: ''"),
        (["--node-id", "a b"], "argument --node-id: not a node id: 'a b'"),
    ],
    ids=["mysql", "empty", "spaces"],
)
def test_dev_refuses_a_bad_store_or_node_id(tmp_path: Path, args: list[str], message: str) -> None:
    plugin(tmp_path / "node")
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin", "dev", "node", *args],
        cwd=tmp_path,
        env=environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
