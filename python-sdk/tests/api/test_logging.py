"""End to end: the logging methods, through both clients, into the Go server's log."""

from __future__ import annotations

import time
from typing import Any

from conftest import GoServer


def test_logging_reaches_the_server_log(go_server: GoServer, api: Any) -> None:
    api.log_debug("debug line", {"a": "1"})
    api.log_info("info line")
    api.log_warn("warn line", {"b": "2"})
    api.log_error("error line", {"user_id": "u1", "attempt": "3"})
    deadline = time.monotonic() + 5
    wanted = {"debug line", "info line", "warn line", "error line"}
    while time.monotonic() < deadline:
        records = {r["msg"]: r for r in go_server.log_records() if r.get("source") == "plugin"}
        if wanted <= set(records):
            break
        time.sleep(0.05)
    assert records["debug line"]["level"] == "DEBUG" and records["debug line"]["plugin"] == {
        "a": "1"
    }
    assert records["info line"]["level"] == "INFO"
    assert records["warn line"]["level"] == "WARN" and records["warn line"]["plugin"] == {"b": "2"}
    assert records["error line"]["level"] == "ERROR"
    assert records["error line"]["plugin"] == {"user_id": "u1", "attempt": "3"}


def test_log_fields_cannot_forge_the_record(go_server: GoServer, api: Any) -> None:
    forged = {"level": "ERROR", "source": "server", "msg": "other", "time": "0"}
    api.log_info("forged line", forged)
    deadline = time.monotonic() + 5
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        found = [r for r in go_server.log_records() if r.get("msg") == "forged line"]
        time.sleep(0.05)
    (record,) = found
    assert record["level"] == "INFO" and record["source"] == "plugin"
    assert record["plugin"] == forged
