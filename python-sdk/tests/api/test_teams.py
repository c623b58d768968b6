"""End to end: the teams area, through both clients against the Go server."""

from __future__ import annotations

import struct
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Group, GroupSyncable, Team, TeamMember

from conftest import new_user, png

UNKNOWN_ID = "a" * 26


def make_team(api: Any, name: str, **fields: Any) -> Team:
    fields.setdefault("type", "O")
    fields.setdefault("allow_open_invite", True)
    return api.create_team(Team(name=name, display_name=name.title(), **fields))  # type: ignore[no-any-return]


def test_create_and_get_team(api: Any) -> None:
    team = make_team(api, "core", description="The core team")
    assert len(team.id) == 26 and len(team.invite_id) == 26
    assert team.create_at == team.update_at > 0
    assert team.allow_open_invite and team.delete_at == 0
    assert api.get_team(team.id) == team
    assert api.get_team_by_name("core") == team


def test_create_team_rejects_invalid_and_duplicate(api: Any) -> None:
    with pytest.raises(mp.ValidationError) as reserved:
        make_team(api, "signup-team")
    assert reserved.value.error_id == "model.team.is_valid.reserved.app_error"
    assert reserved.value.where == "Team.IsValid"
    with pytest.raises(mp.ValidationError):
        api.create_team(Team(name="x", display_name="X", type="O"))
    make_team(api, "core")
    with pytest.raises(mp.ValidationError) as duplicate:
        make_team(api, "core")
    assert duplicate.value.error_id == "app.team.save.existing.app_error"


def test_get_team_not_found(api: Any) -> None:
    with pytest.raises(mp.NotFoundError):
        api.get_team(UNKNOWN_ID)
    with pytest.raises(mp.NotFoundError):
        api.get_team_by_name("nowhere")
    # The store's Get checks no id form: a malformed id is not found
    # (server/channels/store/sqlstore/team_store.go@009fc71d:SqlTeamStore.Get).
    with pytest.raises(mp.NotFoundError) as malformed:
        api.get_team("not-an-id")
    assert malformed.value.error_id == "app.team.get.find.app_error"


def test_team_type_follows_allow_open_invite(api: Any) -> None:
    # Team.syncTypeAndAllowOpenInvite (server/public/model/team.go@2307ab17):
    # an "I" team allows no open invites, then allow_open_invite decides.
    closed = make_team(api, "closed", allow_open_invite=False)
    assert (closed.type, closed.allow_open_invite) == ("I", False)
    private = make_team(api, "private", type="I", allow_open_invite=True)
    assert (private.type, private.allow_open_invite) == ("I", False)
    private.allow_open_invite = True
    assert api.update_team(private).type == "I"
    with pytest.raises(mp.ValidationError) as long:
        make_team(api, "long", description="é" * 128)
    assert long.value.error_id == "model.team.is_valid.description.app_error"


def test_team_joins_follow_upstream(api: Any) -> None:
    # App.JoinUserToTeam and App.UpdateTeamMemberRoles
    # (server/channels/app/team.go@00e25d39).
    team = make_team(api, "core")
    alice = api.create_user(new_user("alice"))
    # App.CreateUser sets a new user's roles itself: the guest role comes after.
    guest = api.update_user_roles(api.create_user(new_user("gus")).id, "system_guest")
    assert api.create_team_member(team.id, guest.id).scheme_guest
    town = api.get_channel_by_name(team.id, "town-square", False)
    with pytest.raises(mp.NotFoundError):
        api.get_channel_member(town.id, guest.id)
    api.create_team_member(team.id, alice.id)
    api.delete_team_member(team.id, alice.id, "")
    past = api.update_team_member_roles(team.id, alice.id, "team_user team_admin")
    assert past.scheme_admin and past.delete_at > 0
    with pytest.raises(mp.NotFoundError) as missing:
        api.update_team_member_roles(UNKNOWN_ID, alice.id, "team_user")
    assert missing.value.error_id == "app.team.get_member.missing.app_error"


def test_team_joins_make_admin_group_members_admins(api: Any) -> None:
    # TeamService.JoinUserToTeam (server/channels/app/teams/teams.go@0985ce2c)
    # asks SqlGroupStore.AdminRoleGroupsForSyncableMember
    # (server/channels/store/sqlstore/group_store.go@02fd7885): a member of a
    # group linked to the team with scheme_admin joins as a team admin; the
    # default channels keep the email rule (App.JoinUserToTeam, team.go@00e25d39).
    team = make_team(api, "core")
    group = api.create_group(Group(name="admins", display_name="Admins", source="custom"))
    alice = api.create_user(new_user("alice"))
    bob = api.create_user(new_user("bob"))
    api.upsert_group_member(group.id, alice.id)
    api.upsert_group_syncable(
        GroupSyncable(group_id=group.id, syncable_id=team.id, type="Team", scheme_admin=True)
    )
    member = api.create_team_member(team.id, alice.id)
    assert member.scheme_admin and "team_admin" in member.roles
    town = api.get_channel_by_name(team.id, "town-square", False)
    assert not api.get_channel_member(town.id, alice.id).scheme_admin
    assert not api.create_team_member(team.id, bob.id).scheme_admin


def test_get_teams_and_search(api: Any) -> None:
    assert api.get_teams() == []
    beta = make_team(api, "beta")
    alpha = make_team(api, "alpha")
    assert [t.id for t in api.get_teams()] == [alpha.id, beta.id]
    assert [t.id for t in api.search_teams("AL")] == [alpha.id]
    assert api.search_teams("zzz") == []


def test_delete_team_archives_it(api: Any) -> None:
    team = make_team(api, "core")
    api.delete_team(team.id)
    archived = api.get_team(team.id)
    assert archived.delete_at > 0 and archived.name == "core"
    assert [t.id for t in api.get_teams()] == [team.id]
    # SqlTeamStore.SearchAll has no delete_at filter
    # (server/channels/store/sqlstore/team_store.go@009fc71d).
    assert [t.id for t in api.search_teams("ORE")] == [team.id]
    with pytest.raises(mp.NotFoundError):
        api.delete_team(UNKNOWN_ID)


def test_update_team(api: Any) -> None:
    team = make_team(api, "core")
    team.display_name = "Core Team"
    team.allow_open_invite = False
    team.name = "ignored"
    updated = api.update_team(team)
    assert updated.display_name == "Core Team"
    assert updated.type == "I" and updated.name == "core"
    assert updated.update_at >= team.update_at
    team.display_name = ""
    with pytest.raises(mp.ValidationError):
        api.update_team(team)
    with pytest.raises(mp.NotFoundError):
        api.update_team(Team(id=UNKNOWN_ID, display_name="X"))


def test_team_membership(api: Any) -> None:
    team = make_team(api, "core")
    alice = api.create_user(new_user("alice"))
    bob = api.create_user(new_user("bob"))
    member = api.create_team_member(team.id, alice.id)
    assert member == TeamMember(
        team_id=team.id,
        user_id=alice.id,
        roles="team_user",
        scheme_user=True,
        create_at=member.create_at,
    )
    assert api.create_team_member(team.id, alice.id) == member
    assert api.get_team_member(team.id, alice.id) == member
    added = api.create_team_members(team.id, [bob.id], alice.id)
    assert [m.user_id for m in added] == [bob.id]
    assert [t.id for t in api.get_teams_for_user(bob.id)] == [team.id]
    everyone = sorted([alice.id, bob.id])
    assert [m.user_id for m in api.get_team_members(team.id, 0, 10)] == everyone
    assert [m.user_id for m in api.get_team_members(team.id, 1, 1)] == everyone[1:]
    assert [m.team_id for m in api.get_team_members_for_user(alice.id, 0, 10)] == [team.id]
    assert api.get_team_stats(team.id).total_member_count == 2

    api.delete_team_member(team.id, bob.id, alice.id)
    assert api.get_team_member(team.id, bob.id).delete_at > 0
    assert api.get_teams_for_user(bob.id) == []
    stats = api.get_team_stats(team.id)
    assert (stats.total_member_count, stats.active_member_count) == (1, 1)


def test_team_membership_failures(api: Any) -> None:
    team = make_team(api, "core", allowed_domains="corp.example")
    alice = api.create_user(new_user("alice"))
    with pytest.raises(mp.ValidationError) as domain:
        api.create_team_member(team.id, alice.id)
    assert domain.value.error_id == "api.team.join_user_to_team.allowed_domains.app_error"
    with pytest.raises(mp.NotFoundError):
        api.create_team_member(UNKNOWN_ID, alice.id)
    with pytest.raises(mp.NotFoundError):
        api.create_team_members(team.id, [UNKNOWN_ID], "")
    with pytest.raises(mp.NotFoundError):
        api.get_team_member(team.id, alice.id)
    # App.LeaveTeam refuses a user who was never a member with a 400
    # (server/channels/app/team.go@00e25d39:App.LeaveTeam).
    with pytest.raises(mp.ValidationError) as never:
        api.delete_team_member(team.id, alice.id, "")
    assert never.value.error_id == "api.team.remove_user_from_team.missing.app_error"
    with pytest.raises(mp.ValidationError):
        api.get_team_members_for_user(alice.id, -1, 10)
    with pytest.raises(mp.ValidationError):
        api.get_team_members(team.id, -1, 10)
    # The store answers these with no lookup and no id check
    # (server/channels/store/sqlstore/team_store.go@009fc71d): nothing
    # found, zero counts.
    assert api.get_team_members(UNKNOWN_ID, 0, 10) == []
    assert api.get_teams_for_user("bad") == []
    stats = api.get_team_stats(UNKNOWN_ID)
    assert (stats.total_member_count, stats.active_member_count) == (0, 0)


def test_create_team_members_gracefully(api: Any) -> None:
    team = make_team(api, "core")
    alice = api.create_user(new_user("alice"))
    results = api.create_team_members_gracefully(team.id, [alice.id, UNKNOWN_ID], "")
    assert [r.user_id for r in results] == [alice.id, UNKNOWN_ID]
    # Unset message fields read as empty messages; HasField tells them apart.
    assert results[0].member.user_id == alice.id and not results[0].HasField("error")
    assert not results[1].HasField("member")
    assert results[1].error.status_code == 404
    # App.AddTeamMembers looks the team up for each user: a missing team is
    # each user's error (server/channels/app/team.go@00e25d39).
    [missing] = api.create_team_members_gracefully(UNKNOWN_ID, [alice.id], "")
    assert missing.error.id == "app.team.get.find.app_error"


def test_update_team_member_roles(api: Any) -> None:
    team = make_team(api, "core")
    alice = api.create_user(new_user("alice"))
    api.create_team_member(team.id, alice.id)
    admin = api.update_team_member_roles(team.id, alice.id, "team_user team_admin")
    assert admin.roles == "team_user team_admin" and admin.scheme_admin
    with pytest.raises(mp.ValidationError):
        api.update_team_member_roles(team.id, alice.id, "team_user no_such_role")
    with pytest.raises(mp.ValidationError):
        api.update_team_member_roles(team.id, alice.id, "team_guest")
    assert api.get_team_member(team.id, alice.id).roles == "team_user team_admin"


def test_teams_unread_for_user(api: Any) -> None:
    team = make_team(api, "core")
    alice = api.create_user(new_user("alice"))
    assert api.get_teams_unread_for_user(alice.id) == []
    api.create_team_member(team.id, alice.id)
    [unread] = api.get_teams_unread_for_user(alice.id)
    assert unread.team_id == team.id and unread.msg_count == 0
    # No user lookup (server/channels/app/team.go@00e25d39).
    assert api.get_teams_unread_for_user(UNKNOWN_ID) == []


def test_team_icon(api: Any) -> None:
    team = make_team(api, "core")
    api.set_team_icon(team.id, png(300, 200))
    icon = api.get_team_icon(team.id)
    assert icon[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", icon[16:24]) == (128, 128)
    assert api.get_team(team.id).last_team_icon_update > 0
    api.remove_team_icon(team.id)
    removed = api.get_team(team.id)
    # SqlTeamStore.UpdateLastTeamIconUpdate writes the same 0 into update_at
    # (server/channels/store/sqlstore/team_store.go@009fc71d).
    assert removed.last_team_icon_update == 0 and removed.update_at == 0
    # App.RemoveTeamIcon keeps the stored icon
    # (server/channels/app/team.go@00e25d39).
    assert api.get_team_icon(team.id) == icon


def test_team_icon_failures(api: Any) -> None:
    team = make_team(api, "core")
    with pytest.raises(mp.NotFoundError) as none:
        api.get_team_icon(team.id)
    assert none.value.error_id == "api.team.get_team_icon.read_file.app_error"
    with pytest.raises(mp.ValidationError) as garbage:
        api.set_team_icon(team.id, b"\x00garbage")
    assert garbage.value.error_id == "api.team.set_team_icon.decode.app_error"
    with pytest.raises(mp.NotFoundError):
        api.set_team_icon(UNKNOWN_ID, png(4, 4))
    with pytest.raises(mp.NotFoundError):
        api.remove_team_icon(UNKNOWN_ID)
    with pytest.raises(TypeError):
        api.set_team_icon(team.id, "not bytes")
