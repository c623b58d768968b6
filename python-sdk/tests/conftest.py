"""Shared fixtures: a scrubbed environment and the real Go server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from runfiles import Runfiles

from mattermost_plugin.config import ENV_TARGET, ENV_TOKEN

#: Environment variable that names the pluginapi-server binary. `make test`
#: sets it to the binary it built; a Bazel py_test sets it to the binary's
#: $(rlocationpath), which resolves through the test's runfiles.
SERVER_ENV = "MATTERMOST_PLUGINAPI_SERVER"
START_TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def _scrub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the SDK's discovery variables unless it sets them."""
    monkeypatch.delenv(ENV_TARGET, raising=False)
    monkeypatch.delenv(ENV_TOKEN, raising=False)


def server_binary() -> Path:
    """Find the server binary: a runfiles location under Bazel, else a path.

    Runfiles.Create() finds nothing outside Bazel, and under Bazel an
    absolute path resolves to itself, so one lookup serves both runs.
    """
    path = os.environ.get(SERVER_ENV, "")
    if not path:
        raise RuntimeError(
            f"{SERVER_ENV} is not set: build the server (make build) and point it at "
            "bin/pluginapi-server, or run the tests with `make test`"
        )
    runfiles = Runfiles.Create()
    if runfiles is not None:
        path = runfiles.Rlocation(path) or path
    binary = Path(path)
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"{SERVER_ENV}={path} is not an executable file")
    return binary


@dataclass
class GoServer:
    """A running pluginapi-server process."""

    process: subprocess.Popen[str]
    target: str
    token: str
    stderr_lines: list[str] = field(default_factory=list)
    drain: threading.Thread | None = None
    ready: dict[str, object] = field(default_factory=dict)

    def log_records(self) -> list[dict[str, object]]:
        """Return the JSON log lines the server has written so far."""
        records = []
        for line in list(self.stderr_lines):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def stop(self) -> int:
        """Stop the server with SIGTERM and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=START_TIMEOUT)
        if self.drain is not None:
            self.drain.join(timeout=START_TIMEOUT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


def start_server(*args: str) -> GoServer:
    """Start the Go server and wait for its ready line."""
    process = subprocess.Popen(
        [str(server_binary()), "-log-format", "json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    lines: list[str] = []
    stderr = process.stderr

    def drain() -> None:
        for line in stderr:
            lines.append(line)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    ready_line: list[str] = []
    reader = threading.Thread(target=lambda: ready_line.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT)
    if not ready_line or not ready_line[0]:
        process.kill()
        GoServer(process, "", "", lines, drainer).stop()
        raise RuntimeError(f"pluginapi-server did not start: {''.join(lines)}")
    ready = json.loads(ready_line[0])
    return GoServer(process, ready["target"], ready["token"], lines, drainer, ready)


@pytest.fixture
def go_server() -> Iterator[GoServer]:
    """A fresh Go server with the in-memory backend, on a unix socket."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
