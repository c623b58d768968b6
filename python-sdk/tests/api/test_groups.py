"""End to end: the groups area, through both clients against the Go server."""

from __future__ import annotations

from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import (
    Channel,
    CreateDefaultMembershipParams,
    Group,
    GroupSearchOpts,
    GroupSyncable,
    Team,
    ViewUsersRestrictions,
)

from conftest import new_user

UNKNOWN_ID = "a" * 26


def custom(api: Any, name: str, **fields: Any) -> Group:
    group = Group(name=name, display_name=name.title(), source="custom", **fields)
    return api.create_group(group)  # type: ignore[no-any-return]


def make_team(api: Any, name: str) -> Team:
    return api.create_team(Team(name=name, display_name=name.title(), type="O"))  # type: ignore[no-any-return]


def test_group_lifecycle(api: Any) -> None:
    group = custom(api, "developers", description="Writes code")
    assert len(group.id) == 26 and group.create_at == group.update_at > 0
    assert api.get_group(group.id) == group
    assert api.get_group_by_name("developers") == group
    ldap = api.create_group(Group(display_name="Ops", source="ldap", remote_id="cn=ops,dc=example"))
    assert api.get_group_by_remote_id("cn=ops,dc=example", "ldap") == ldap
    assert [g.id for g in api.get_groups_by_source("ldap")] == [ldap.id]

    group.display_name, group.allow_reference, group.source = "Developers", True, "ldap"
    group.remote_id = "cn=developers"
    updated = api.update_group(group)
    assert updated.display_name == "Developers" and updated.allow_reference
    # SqlGroupStore.Update (group_store.go@02fd7885) writes the source too.
    assert updated.source == "ldap" and updated.member_count == 0

    deleted = api.delete_group(group.id)
    assert deleted.delete_at > 0
    assert api.get_groups_by_source("ldap") == [ldap]
    restored = api.restore_group(group.id)
    assert restored.delete_at == 0
    assert {g.id for g in api.get_groups_by_source("ldap")} == {ldap.id, group.id}


def test_group_failures(api: Any) -> None:
    with pytest.raises(mp.ValidationError) as invalid:
        api.create_group(Group(display_name="No name", source="custom", allow_reference=True))
    assert invalid.value.where == "Group.IsValid"
    with pytest.raises(mp.ValidationError):
        api.create_group(Group(display_name="X", source="ldap"))
    group = custom(api, "developers")
    # App.CreateGroup (group.go@0a29d834): a taken name fails the insert, 500.
    with pytest.raises(mp.InternalError) as taken:
        custom(api, "developers")
    assert taken.value.error_id == "app.insert_error"
    with pytest.raises(mp.NotFoundError):
        api.get_group(UNKNOWN_ID)
    with pytest.raises(mp.NotFoundError):
        api.get_group("not-an-id")
    with pytest.raises(mp.NotFoundError):
        api.get_group_by_name("nobody")
    with pytest.raises(mp.NotFoundError):
        api.get_group_by_remote_id("cn=x", "ldap")
    assert api.get_groups_by_source("github") == []
    assert api.get_groups_for_user("not-an-id") == []
    with pytest.raises(mp.NotFoundError):
        api.update_group(Group(id=UNKNOWN_ID, name="x", display_name="X", source="custom"))
    with pytest.raises(mp.ValidationError):
        api.update_group(Group(id=group.id, name="Bad Name", display_name="X"))
    with pytest.raises(mp.NotFoundError):
        api.restore_group(group.id)
    api.delete_group(group.id)
    with pytest.raises(mp.NotFoundError):
        api.delete_group(group.id)


def test_group_members(api: Any) -> None:
    group = custom(api, "developers")
    zed = api.create_user(new_user("zed"))
    amy = api.create_user(new_user("amy"))
    member = api.upsert_group_member(group.id, zed.id)
    assert member.group_id == group.id and member.user_id == zed.id and member.delete_at == 0
    again = api.upsert_group_member(group.id, zed.id)
    assert again.user_id == zed.id and again.create_at >= member.create_at
    both = api.upsert_group_members(group.id, [amy.id, zed.id])
    assert [m.user_id for m in both] == [amy.id, zed.id]
    assert [u.username for u in api.get_group_member_users(group.id, 0, 10)] == ["amy", "zed"]
    assert [u.username for u in api.get_group_member_users(group.id, 1, 1)] == ["zed"]
    assert [g.id for g in api.get_groups_for_user(amy.id)] == [group.id]

    left = api.delete_group_member(group.id, amy.id)
    assert left.delete_at > 0
    assert api.get_groups_for_user(amy.id) == []
    with pytest.raises(mp.NotFoundError):
        api.delete_group_member(group.id, amy.id)
    # SqlGroupStore.UpsertMembers: an unknown user is app.update_error, 500.
    with pytest.raises(mp.InternalError) as unknown:
        api.upsert_group_member(group.id, UNKNOWN_ID)
    assert unknown.value.error_id == "app.update_error"
    with pytest.raises(mp.InternalError):
        api.upsert_group_members(group.id, [amy.id, UNKNOWN_ID])
    assert [u.username for u in api.get_group_member_users(group.id, 0, 10)] == ["zed"]
    assert api.get_group_member_users(UNKNOWN_ID, 0, 10) == []
    with pytest.raises(mp.ValidationError):
        api.get_group_member_users(group.id, -1, 10)


def test_group_syncables(api: Any) -> None:
    team = make_team(api, "core")
    channel = api.create_channel(Channel(team_id=team.id, name="dev", display_name="Dev", type="O"))
    group = custom(api, "developers")
    link = api.upsert_group_syncable(
        GroupSyncable(group_id=group.id, syncable_id=channel.id, type="Channel", auto_add=True)
    )
    assert link.team_id == team.id and link.channel_display_name == "Dev"
    # The channel link brought its team's link.
    teams = api.get_group_syncables(group.id, "Team")
    assert [(s.syncable_id, s.auto_add) for s in teams] == [(team.id, True)]
    assert api.get_group(group.id).has_syncables
    # getGroupSyncable (group_store.go@02fd7885) reads the link's own columns.
    one = api.get_group_syncable(group.id, channel.id, "Channel")
    assert one.auto_add and one.channel_display_name == "" and not one.scheme_admin

    link.scheme_admin = True
    updated = api.update_group_syncable(link)
    assert updated.scheme_admin and updated.auto_add

    # Deleting the team link deletes the channel link too.
    gone = api.delete_group_syncable(group.id, team.id, "Team")
    assert gone.delete_at > 0
    assert api.get_group_syncable(group.id, channel.id, "Channel").delete_at > 0
    assert api.get_group_syncables(group.id, "Channel") == []
    assert not api.get_group(group.id).has_syncables


def test_group_syncable_failures(api: Any) -> None:
    team = make_team(api, "core")
    group = custom(api, "developers")
    with pytest.raises(mp.InternalError) as board:
        api.upsert_group_syncable(
            GroupSyncable(group_id=group.id, syncable_id=team.id, type="Board")
        )
    assert board.value.error_id == "app.insert_error"
    with pytest.raises(mp.NotFoundError):
        api.upsert_group_syncable(
            GroupSyncable(group_id=group.id, syncable_id=UNKNOWN_ID, type="Team")
        )
    with pytest.raises(mp.NotFoundError):
        api.get_group_syncable(group.id, team.id, "Team")
    assert api.get_group_syncables(UNKNOWN_ID, "Team") == []
    with pytest.raises(mp.InternalError):
        api.update_group_syncable(
            GroupSyncable(group_id=group.id, syncable_id=team.id, type="Team")
        )
    with pytest.raises(mp.NotFoundError):
        api.delete_group_syncable(group.id, team.id, "Team")
    api.upsert_group_syncable(GroupSyncable(group_id=group.id, syncable_id=team.id, type="Team"))
    api.delete_group_syncable(group.id, team.id, "Team")
    with pytest.raises(mp.ValidationError) as twice:
        api.delete_group_syncable(group.id, team.id, "Team")
    assert twice.value.error_id == "app.group.group_syncable_already_deleted"

    # A group-constrained team takes channel links only of its own groups.
    team.group_constrained = True
    api.update_team(team)
    channel = api.create_channel(Channel(team_id=team.id, name="dev", display_name="Dev", type="O"))
    with pytest.raises(mp.ValidationError) as constrained:
        api.upsert_group_syncable(
            GroupSyncable(group_id=group.id, syncable_id=channel.id, type="Channel")
        )
    assert constrained.value.error_id == "group_not_associated_to_synced_team"


def test_get_groups(api: Any) -> None:
    team = make_team(api, "core")
    alice = api.create_user(new_user("alice"))
    api.create_team_member(team.id, alice.id)
    alpha = custom(api, "alpha", allow_reference=True)
    beta = custom(api, "beta")
    api.upsert_group_member(alpha.id, alice.id)
    api.upsert_group_syncable(GroupSyncable(group_id=beta.id, syncable_id=team.id, type="Team"))

    def names(opts: GroupSearchOpts, **kwargs: Any) -> list[str]:
        return [g.name for g in api.get_groups(0, 10, opts, **kwargs)]

    assert names(GroupSearchOpts()) == ["alpha", "beta"]
    assert names(GroupSearchOpts(q="ALP")) == ["alpha"]
    assert names(GroupSearchOpts(filter_allow_reference=True)) == ["alpha"]
    assert names(GroupSearchOpts(not_associated_to_team=team.id)) == ["alpha"]
    assert names(GroupSearchOpts(filter_has_member=alice.id)) == ["alpha"]
    # The view restrictions limit the member count only (SqlGroupStore.GetGroups).
    seen = ViewUsersRestrictions(teams=[team.id])
    assert names(GroupSearchOpts(), view_restrictions=seen) == ["alpha", "beta"]
    [counted] = api.get_groups(
        0, 10, GroupSearchOpts(q="alpha", include_member_count=True, include_member_ids=True)
    )
    assert counted.member_count == 1 and list(counted.member_ids) == [alice.id]
    assert [g.name for g in api.get_groups(1, 1, GroupSearchOpts())] == ["beta"]
    with pytest.raises(mp.ValidationError):
        api.get_groups(0, -1, GroupSearchOpts())


def test_create_default_syncable_memberships(api: Any) -> None:
    team = make_team(api, "core")
    channel = api.create_channel(Channel(team_id=team.id, name="dev", display_name="Dev", type="P"))
    group = custom(api, "developers")
    alice = api.create_user(new_user("alice"))
    bob = api.create_user(new_user("bob"))
    api.upsert_group_members(group.id, [alice.id, bob.id])
    api.upsert_group_syncable(
        GroupSyncable(group_id=group.id, syncable_id=channel.id, type="Channel", auto_add=True)
    )
    api.create_default_syncable_memberships(CreateDefaultMembershipParams(scoped_user_id=alice.id))
    assert api.get_team_member(team.id, alice.id).delete_at == 0
    assert api.get_channel_member(channel.id, alice.id).user_id == alice.id
    with pytest.raises(mp.NotFoundError):
        api.get_channel_member(channel.id, bob.id)
    api.create_default_syncable_memberships(CreateDefaultMembershipParams())
    assert api.get_channel_member(channel.id, bob.id).user_id == bob.id


def test_create_default_syncable_memberships_stops_at_a_full_team(api: Any) -> None:
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["TeamSettings"]["MaxUsersPerTeam"] = 1
    api.save_config(cfg.to_model())
    team = make_team(api, "core")
    group = custom(api, "developers")
    users = [api.create_user(new_user(n)) for n in ("alice", "bob")]
    api.upsert_group_members(group.id, [u.id for u in users])
    api.upsert_group_syncable(
        GroupSyncable(group_id=group.id, syncable_id=team.id, type="Team", auto_add=True)
    )
    with pytest.raises(mp.ValidationError) as full:
        api.create_default_syncable_memberships(CreateDefaultMembershipParams())
    # The join's refusal, as the teams domain answers it (the store's id).
    assert full.value.error_id == "app.team.join_user_to_team.save_member.max_accounts.app_error"


def test_delete_group_constrained_memberships(api: Any) -> None:
    team = make_team(api, "core")
    group = custom(api, "developers")
    alice = api.create_user(new_user("alice"))
    bob = api.create_user(new_user("bob"))
    for user in (alice, bob):
        api.create_team_member(team.id, user.id)
    api.upsert_group_member(group.id, alice.id)
    api.upsert_group_syncable(GroupSyncable(group_id=group.id, syncable_id=team.id, type="Team"))
    api.delete_group_constrained_memberships()
    assert api.get_team_member(team.id, bob.id).delete_at == 0, "the team is not constrained yet"
    team.group_constrained = True
    api.update_team(team)
    api.delete_group_constrained_memberships()
    assert api.get_team_member(team.id, bob.id).delete_at > 0
    assert api.get_team_member(team.id, alice.id).delete_at == 0
