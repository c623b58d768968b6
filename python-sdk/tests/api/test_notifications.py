"""The notifications area against upstream's plugin path.

SendMail follows PluginAPI.SendMail (plugin_api.go@f56166d6): an empty
recipient, subject or body is refused, in that order, with upstream's ids;
nothing is trimmed and the address is left to the mailer.
SendPushNotification follows App.sendPushNotificationToAllSessions
(notification_push.go@0d981135): the user is not looked up, so a user
without devices, unknown or not, gets nothing and the call succeeds.
"""

from __future__ import annotations

from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import PushNotification, Session

from conftest import GoServer, new_user

UNKNOWN_ID = "a" * 26


@pytest.mark.parametrize(
    ("to", "subject", "body", "error_id"),
    [
        ("", "", "", "plugin_api.send_mail.missing_to"),
        ("alice@example.com", "", "<p>Hi</p>", "plugin_api.send_mail.missing_subject"),
        ("alice@example.com", "Hello", "", "plugin_api.send_mail.missing_htmlbody"),
    ],
)
def test_send_mail_refusals(api: Any, to: str, subject: str, body: str, error_id: str) -> None:
    with pytest.raises(mp.ValidationError) as refused:
        api.send_mail(to, subject, body)
    assert refused.value.error_id == error_id


def test_send_mail_leaves_the_address_to_the_mailer(api: Any, go_server: GoServer) -> None:
    api.send_mail("not an address", " ", " ")
    [mail] = go_server.events("email", at_least=1)
    assert mail["data"] == {"to": "not an address", "subject": " ", "html_body": " "}


def test_send_push_notification_to_a_user_without_devices(api: Any, go_server: GoServer) -> None:
    api.send_push_notification(PushNotification(message="unknown"), UNKNOWN_ID)
    bob = api.create_user(new_user("bob"))
    api.send_push_notification(PushNotification(message="no devices"), bob.id)
    api.create_session(Session(user_id=bob.id, device_id="android_rn:abc"))
    api.send_push_notification(PushNotification(message="ping"), bob.id)
    [push] = go_server.events("push_notification", at_least=1)
    assert push["data"]["user_id"] == bob.id
    assert push["data"]["notification"]["message"] == "ping"
