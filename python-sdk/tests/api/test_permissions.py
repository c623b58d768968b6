"""End to end: the permissions area, through both clients against the Go server."""

from __future__ import annotations

from typing import Any

from mattermost_plugin.models import Permission, Team

from conftest import new_user

CREATE_POST = Permission(id="create_post")


def test_permissions_follow_roles(api: Any) -> None:
    alice, bob, carol = (api.create_user(new_user(n)) for n in ("alice", "bob", "carol"))
    team = api.create_team(Team(name="core", display_name="Core", type="O"))
    api.create_team_members(team.id, [alice.id, bob.id], "")
    api.update_team_member_roles(team.id, alice.id, "team_user team_admin")
    town = api.get_channel_by_name(team.id, "town-square", False)

    assert api.has_permission_to(bob.id, Permission(id="create_team"))
    assert not api.has_permission_to(bob.id, Permission(id="manage_system"))
    api.update_user_roles(carol.id, "system_user system_admin")
    assert api.has_permission_to(carol.id, Permission(id="manage_system"))

    assert api.has_permission_to_team(alice.id, team.id, Permission(id="manage_team"))
    assert not api.has_permission_to_team(bob.id, team.id, Permission(id="manage_team"))

    assert api.has_permission_to_channel(bob.id, town.id, CREATE_POST)
    outsider = api.create_user(new_user("dave"))
    assert not api.has_permission_to_channel(outsider.id, town.id, CREATE_POST)

    assert api.roles_grant_permission(["channel_user"], "create_post")
    assert api.roles_grant_permission(["team_admin"], "view_team")
    assert not api.roles_grant_permission(["team_guest"], "create_public_channel")


def test_permission_checks_without_a_permission_answer_false(api: Any) -> None:
    # No role lists an empty permission id: App.RolesGrantPermission answers
    # false (authorization.go@01357633), never an error.
    alice = api.create_user(new_user("alice"))
    api.update_user_roles(alice.id, "system_user system_admin")
    assert api.has_permission_to(alice.id, Permission()) is False
    assert api.has_permission_to_team(alice.id, "a" * 26, Permission(name="no id")) is False
    assert api.has_permission_to_channel(alice.id, "a" * 26, Permission()) is False
    assert api.roles_grant_permission(["system_admin"], "") is False
