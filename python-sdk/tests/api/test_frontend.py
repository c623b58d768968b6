"""End to end: the frontend area's checks, as upstream's app layer makes them.

App.SendToastMessage refuses an empty user id or message and looks no user
up; App.OpenInteractiveDialog refuses an unknown or expired trigger id and
only logs what is wrong with the dialog itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from worlds import make_room

import mattermost_plugin as mp
from mattermost_plugin.models import (
    CommandArgs,
    OpenDialogRequest,
    SendToastMessageOptions,
)

from conftest import GoServer

UNKNOWN_ID = "a" * 26


def test_a_toast_needs_a_user_id_and_a_message(api: Any, go_server: GoServer) -> None:
    # The user is not looked up: a toast to an unknown user is published.
    api.send_toast_message(UNKNOWN_ID, "", "Saved", SendToastMessageOptions())
    [toast] = go_server.events("toast", at_least=1)
    assert toast["data"]["user_id"] == UNKNOWN_ID
    with pytest.raises(mp.ValidationError) as no_user:
        api.send_toast_message("", "", "", SendToastMessageOptions())
    assert no_user.value.error_id == "app.toast.send_toast_message.user_id.app_error"
    with pytest.raises(mp.ValidationError) as no_message:
        api.send_toast_message(UNKNOWN_ID, "", "", SendToastMessageOptions())
    assert no_message.value.error_id == "app.toast.send_toast_message.message.app_error"


def test_a_dialog_is_opened_whatever_it_holds(api: Any, go_server: GoServer) -> None:
    room = make_room(api)
    args = CommandArgs(
        user_id=room.alice.id, channel_id=room.town.id, team_id=room.team.id, command="/echo hi"
    )
    trigger = api.execute_slash_command(args).trigger_id
    # No URL and no title: upstream logs the invalid dialog and opens it.
    api.open_interactive_dialog(OpenDialogRequest(trigger_id=trigger))
    [opened] = go_server.events("interactive_dialog", at_least=1)
    assert opened["data"]["dialog"]["trigger_id"] == trigger
    with pytest.raises(mp.ValidationError) as unknown:
        api.open_interactive_dialog(OpenDialogRequest(trigger_id=UNKNOWN_ID))
    assert unknown.value.error_id == "interactive_message.decode_trigger_id.base64_decode_failed"
