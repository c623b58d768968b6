"""End to end: methods whose effect leaves the server, seen in the event log.

Email, push notifications, websocket events, dialogs, toasts, typing,
cluster events and audit records go to the reference server's event log,
which ``ReferenceServer.events`` reads. Covers the notifications,
frontend/websocket and cluster areas and the audit half of logging/audit.
"""

from __future__ import annotations

from typing import Any

import pytest
from worlds import make_room

import mattermost_plugin as mp
from mattermost_plugin.models import (
    AuditEventActor,
    AuditRecord,
    CommandArgs,
    Dialog,
    OpenDialogRequest,
    PluginClusterEvent,
    PluginClusterEventSendOptions,
    PushNotification,
    SendToastMessageOptions,
    Session,
    WebsocketBroadcast,
)

from conftest import GoServer

UNKNOWN_ID = "a" * 26


def test_send_mail(api: Any, go_server: GoServer) -> None:
    api.send_mail("alice@example.com", "Hello", "<p>Hi</p>")
    [mail] = go_server.events("email", at_least=1)
    assert mail["data"] == {"to": "alice@example.com", "subject": "Hello", "html_body": "<p>Hi</p>"}
    with pytest.raises(mp.ValidationError) as missing:
        api.send_mail("alice@example.com", "", "<p>Hi</p>")
    assert missing.value.error_id == "plugin_api.send_mail.missing_subject"


def test_send_push_notification(api: Any, go_server: GoServer) -> None:
    room = make_room(api)
    api.create_session(Session(user_id=room.bob.id, device_id="android_rn:abc"))
    api.send_push_notification(PushNotification(message="Ping", type="message"), room.bob.id)
    [push] = go_server.events("push_notification", at_least=1)
    assert push["data"]["notification"]["device_id"] == "android_rn:abc"
    # Upstream looks no user up: an unknown one has no session and gets nothing.
    api.send_push_notification(PushNotification(message="x"), UNKNOWN_ID)
    assert len(go_server.events("push_notification", at_least=1)) == 1


def test_publish_websocket_event(api: Any, go_server: GoServer) -> None:
    payload = {"count": 3, "tags": ["a", "b"], "nested": {"ok": True}, "none": None}
    api.publish_websocket_event("refresh", payload, WebsocketBroadcast(user_id=UNKNOWN_ID))
    [event] = go_server.events("websocket_event", at_least=1)
    assert event["data"]["event"] == "refresh"
    assert event["data"]["payload"] == payload
    assert event["data"]["broadcast"]["user_id"] == UNKNOWN_ID
    # PluginAPI.PublishWebSocketEvent checks nothing: an empty event is published.
    api.publish_websocket_event("", {}, WebsocketBroadcast())
    assert go_server.events("websocket_event", at_least=2)[1]["data"].get("event", "") == ""
    # The SDK refuses a payload it cannot send.
    with pytest.raises(TypeError):
        api.publish_websocket_event("bad", {"x": object()}, WebsocketBroadcast())


def test_open_interactive_dialog(api: Any, go_server: GoServer) -> None:
    room = make_room(api)
    args = CommandArgs(
        user_id=room.alice.id, channel_id=room.town.id, team_id=room.team.id, command="/echo hi"
    )
    trigger = api.execute_slash_command(args).trigger_id
    dialog = OpenDialogRequest(
        trigger_id=trigger, url="http://localhost/submit", dialog=Dialog(title="Deploy")
    )
    api.open_interactive_dialog(dialog)
    [opened] = go_server.events("interactive_dialog", at_least=1)
    assert opened["data"]["dialog"]["dialog"]["title"] == "Deploy"
    dialog.trigger_id = UNKNOWN_ID
    with pytest.raises(mp.ValidationError):
        api.open_interactive_dialog(dialog)


def test_send_toast_message(api: Any, go_server: GoServer) -> None:
    room = make_room(api)
    api.send_toast_message(room.bob.id, "", "Saved", SendToastMessageOptions(position="top-right"))
    [toast] = go_server.events("toast", at_least=1)
    assert toast["data"]["message"] == "Saved"
    with pytest.raises(mp.ValidationError):
        api.send_toast_message(room.bob.id, "", "", SendToastMessageOptions())
    # App.SendToastMessage passes any position on.
    api.send_toast_message(room.bob.id, "", "x", SendToastMessageOptions(position="middle"))
    assert go_server.events("toast", at_least=2)[1]["data"]["options"]["position"] == "middle"


def test_publish_user_typing(api: Any, go_server: GoServer) -> None:
    room = make_room(api)
    api.publish_user_typing(room.bob.id, room.town.id, "")
    assert go_server.events("user_typing", at_least=1)[0]["data"]["user_id"] == room.bob.id
    # App.PublishUserTyping looks nothing up and never fails.
    api.publish_user_typing(UNKNOWN_ID, UNKNOWN_ID, "not an id")
    assert go_server.events("user_typing", at_least=2)[1]["data"]["channel_id"] == UNKNOWN_ID


def test_publish_plugin_cluster_event(api: Any, go_server: GoServer) -> None:
    event = PluginClusterEvent(id="cache-flush", data=b"\x00\x01")
    api.publish_plugin_cluster_event(event, PluginClusterEventSendOptions(send_type="reliable"))
    [sent] = go_server.events("cluster_event", at_least=1)
    assert sent["data"]["ev"]["id"] == "cache-flush"


def test_audit_records(api: Any, go_server: GoServer) -> None:
    record = AuditRecord(
        event_name="deploy",
        status="success",
        actor=AuditEventActor(user_id=UNKNOWN_ID, ip_address="127.0.0.1"),
    )
    record.meta.update({"version": "1.2.3", "dry_run": False})
    api.log_audit_rec(record)
    api.log_audit_rec_with_level(record, "audit-perms")
    first, second = go_server.events("audit", at_least=2)
    assert first["data"]["level"] == "audit-api" and second["data"]["level"] == "audit-perms"
    assert first["data"]["rec"]["meta"] == {"version": "1.2.3", "dry_run": False}
    assert first["data"]["rec"]["actor"]["ip_address"] == "127.0.0.1"
