"""Audit records through the SDK, as upstream's App.LogAuditRecWithLevel takes them.

Upstream's API.LogAuditRec and LogAuditRecWithLevel return nothing: a
missing record is ignored (server/channels/app/audit.go@0d45f357; the SDK
cannot send one, the Go tests cover it), and any other record and level
are written as they are.
"""

from __future__ import annotations

from typing import Any

from mattermost_plugin.models import AuditRecord

from conftest import GoServer


def test_audit_records_never_fail(api: Any, go_server: GoServer) -> None:
    api.log_audit_rec(AuditRecord(status="success"))
    api.log_audit_rec_with_level(AuditRecord(event_name="deploy"), "loud")
    first, second = go_server.events("audit", at_least=2)
    assert first["data"]["rec"].get("event_name", "") == ""
    assert (second["data"]["level"], second["data"]["rec"]["event_name"]) == ("loud", "deploy")
