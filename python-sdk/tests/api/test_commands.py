"""End to end: the commands area, through both clients against the Go server.

The reference server has no plugin behind it, so a registered command
answers with an empty response, as a plugin that does nothing would; the
hooks client drives real answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from worlds import make_room

import mattermost_plugin as mp
from mattermost_plugin.models import Command, CommandArgs

from conftest import GoServer

UNKNOWN_ID = "a" * 26


def run(api: Any, room: Any, text: str) -> Any:
    args = CommandArgs(
        user_id=room.alice.id, channel_id=room.town.id, team_id=room.team.id, command=text
    )
    return api.execute_slash_command(args)


def test_built_in_commands(api: Any, go_server: GoServer) -> None:
    room = make_room(api)
    response = run(api, room, "/echo hello there")
    assert response.response_type == "in_channel" and response.text == "hello there"
    assert len(response.trigger_id) == 26
    [post_id] = api.get_posts_for_channel(room.town.id, 0, 10).order
    assert api.get_post(post_id).message == "hello there"
    run(api, room, "/header Ship it")
    assert api.get_channel(room.town.id).header == "Ship it"
    away = run(api, room, "/away")
    assert away.response_type == "ephemeral"
    assert api.get_user_status(room.alice.id).status == "away"
    [shown] = go_server.events("ephemeral_post", at_least=1)
    assert shown["data"]["post"]["message"] == "You are now away."
    triggers = [c.trigger for c in api.list_built_in_commands()]
    assert {"echo", "me", "shrug", "away", "header"} <= set(triggers)


def test_execute_slash_command_failures(api: Any) -> None:
    room = make_room(api)
    with pytest.raises(mp.ValidationError):
        run(api, room, "echo without a slash")
    with pytest.raises(mp.NotFoundError) as unknown:
        run(api, room, "/nope")
    assert unknown.value.error_id == "api.command.execute_command.not_found.app_error"
    with pytest.raises(mp.NotFoundError):
        api.execute_slash_command(
            CommandArgs(user_id=UNKNOWN_ID, channel_id=room.town.id, command="/echo x")
        )


def test_execute_slash_command_leaves_the_team_as_given(api: Any) -> None:
    # App.ExecuteCommand (command.go@86b60aad) does not fill in an empty
    # team id: App.tryExecuteCustomCommand looks it up for anything but a
    # plugin command, before the user and the channel.
    room = make_room(api)
    no_team = CommandArgs(user_id=room.alice.id, channel_id=room.town.id, command="/echo x")
    with pytest.raises(mp.NotFoundError) as team:
        api.execute_slash_command(no_team)
    assert team.value.error_id == "app.team.get.find.app_error"
    nowhere = CommandArgs(
        user_id=room.alice.id, channel_id=UNKNOWN_ID, team_id=room.team.id, command="/echo x"
    )
    with pytest.raises(mp.NotFoundError) as channel:
        api.execute_slash_command(nowhere)
    assert channel.value.error_id == "app.channel.get.existing.app_error"
    # A plugin command needs neither (plugin_commands.go@030e24f3).
    api.register_command(Command(trigger="deploy"))
    anywhere = CommandArgs(user_id=room.alice.id, channel_id=UNKNOWN_ID, command="/deploy")
    assert api.execute_slash_command(anywhere).text == ""


def test_plugin_commands(api: Any) -> None:
    room = make_room(api)
    api.register_command(Command(trigger="Deploy", auto_complete=True, display_name="Deploy"))
    api.register_command(Command(trigger="only-here", team_id=room.team.id))
    triggers = [c.trigger for c in api.list_plugin_commands(room.team.id)]
    assert triggers == ["deploy", "only-here"]
    assert all(c.plugin_id == "com.example.plugin" for c in api.list_plugin_commands(room.team.id))
    response = run(api, room, "/deploy now")
    assert response.text == "" and len(response.trigger_id) == 26
    api.unregister_command(room.team.id, "only-here")
    assert [c.trigger for c in api.list_plugin_commands(room.team.id)] == ["deploy"]
    # App.RegisterPluginCommand (plugin_commands.go@03138b54) refuses only an
    # empty trigger; unregistering never fails.
    api.register_command(Command(trigger="/slashed"))
    with pytest.raises(mp.ValidationError):
        api.register_command(Command(trigger=""))
    api.unregister_command(room.team.id, "has space")


def test_custom_commands(api: Any) -> None:
    room = make_room(api)
    build = Command(
        team_id=room.team.id, trigger="build", method="P", url="https://ci.example.com/b"
    )
    created = api.create_command(build)
    assert len(created.id) == 26 and created.token and created.plugin_id == "com.example.plugin"
    assert api.get_command(created.id) == created
    assert [c.trigger for c in api.list_custom_commands(room.team.id)] == ["build"]
    assert "build" in [c.trigger for c in api.list_commands(room.team.id)]
    created.description = "Builds the project"
    created.token = "forged"
    updated = api.update_command(created.id, created)
    assert updated.description == "Builds the project" and updated.token != "forged"
    with pytest.raises(mp.UnimplementedError):
        run(api, room, "/build")
    # App.ExecuteCommand (command.go@86b60aad) runs a plugin's command
    # before a custom one of the same trigger.
    api.register_command(Command(trigger="build"))
    assert run(api, room, "/build").text == ""
    api.unregister_command("", "build")
    api.delete_command(created.id)
    with pytest.raises(mp.NotFoundError):
        api.get_command(created.id)


def test_custom_command_failures(api: Any) -> None:
    room = make_room(api)
    with pytest.raises(mp.ValidationError) as duplicate:
        api.create_command(
            Command(team_id=room.team.id, trigger="echo", method="P", url="https://x.example.com")
        )
    assert duplicate.value.error_id == "api.command.duplicate_trigger.app_error"
    with pytest.raises(mp.ValidationError):
        api.create_command(Command(team_id=room.team.id, trigger="ftp", method="P", url="ftp://x"))
    # Command.IsValid (command.go@1140b87e): a URL is required of a plugin's
    # command too; App.createCommand answers a given id with a 500.
    with pytest.raises(mp.ValidationError) as no_url:
        api.create_command(Command(team_id=room.team.id, trigger="nourl", method="P"))
    assert no_url.value.error_id == "model.command.is_valid.url.app_error"
    with pytest.raises(mp.InternalError) as given_id:
        api.create_command(
            Command(
                id=UNKNOWN_ID,
                team_id=room.team.id,
                trigger="new",
                method="P",
                url="https://x.example.com",
            )
        )
    assert given_id.value.error_id == "app.command.createcommand.internal_error"
    with pytest.raises(mp.NotFoundError):
        api.update_command(UNKNOWN_ID, Command(trigger="x"))
    # The store's Delete and GetByTeam fail on nothing.
    api.delete_command(UNKNOWN_ID)
    assert api.list_custom_commands("bad") == []
    assert api.list_plugin_commands("bad") == [] or all(
        c.team_id == "" for c in api.list_plugin_commands("bad")
    )
    assert {c.trigger for c in api.list_commands("bad")} >= {"echo"}
