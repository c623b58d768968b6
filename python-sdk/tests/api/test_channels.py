"""End to end: the channels area, through both clients against the Go server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import Channel, ChannelMemberIdentifier, Team, User

from conftest import new_user

UNKNOWN_ID = "a" * 26


@dataclass
class World:
    """A team with two members, alice and bob, and carol outside it."""

    team: Team
    alice: User
    bob: User
    carol: User


def make_world(api: Any) -> World:
    team = api.create_team(Team(name="core", display_name="Core", type="O"))
    alice, bob, carol = (api.create_user(new_user(n)) for n in ("alice", "bob", "carol"))
    api.create_team_members(team.id, [alice.id, bob.id], "")
    return World(team, alice, bob, carol)


def make_channel(api: Any, team_id: str, name: str, kind: str = "O", **fields: Any) -> Channel:
    fields.setdefault("display_name", name.title())
    channel = Channel(team_id=team_id, name=name, type=kind, **fields)
    return api.create_channel(channel)  # type: ignore[no-any-return]


def test_create_and_get_channel(api: Any) -> None:
    w = make_world(api)
    channel = make_channel(
        api, w.team.id, "dev", header="Build things", props={"color": "blue", "n": 3}
    )
    assert len(channel.id) == 26 and channel.create_at > 0
    assert channel.props["color"] == "blue" and channel.props["n"] == 3
    assert api.get_channel(channel.id) == channel
    assert api.get_channel_by_name(w.team.id, "dev", False) == channel
    assert api.get_channel_by_name_for_team_name("core", "dev", False) == channel
    assert api.get_channel_of_type(channel.id, "O") == channel


def test_create_channel_failures(api: Any) -> None:
    w = make_world(api)
    make_channel(api, w.team.id, "dev")
    with pytest.raises(mp.ValidationError) as duplicate:
        make_channel(api, w.team.id, "dev")
    assert duplicate.value.error_id == "store.sql_channel.save_channel.exists.app_error"
    with pytest.raises(mp.ValidationError) as invalid:
        api.create_channel(Channel(team_id=w.team.id, name="Bad Name", display_name="B", type="O"))
    assert invalid.value.where == "Channel.IsValid"
    # App.CreateChannel answers with the channel store's ids
    # (server/channels/store/sqlstore/channel_store.go@628273d98ddbb68042c0d4ec09ce81c8bc4d920a,
    # Save), not the REST handler's.
    with pytest.raises(mp.ValidationError) as direct:
        api.create_channel(Channel(team_id=w.team.id, name="dm", type="D"))
    assert direct.value.error_id == "store.sql_channel.save.direct_channel.app_error"
    with pytest.raises(mp.ValidationError) as archived:
        make_channel(api, w.team.id, "old", delete_at=1)
    assert archived.value.error_id == "store.sql_channel.save.archived_channel.app_error"
    with pytest.raises(mp.NotFoundError):
        make_channel(api, UNKNOWN_ID, "nowhere")


def test_channel_lookups_fail(api: Any) -> None:
    w = make_world(api)
    with pytest.raises(mp.NotFoundError):
        api.get_channel(UNKNOWN_ID)
    with pytest.raises(mp.NotFoundError):
        api.get_channel_by_name(w.team.id, "nope", True)
    with pytest.raises(mp.NotFoundError):
        api.get_channel_by_name_for_team_name("no-team", "town-square", False)
    town = api.get_channel_by_name(w.team.id, "town-square", False)
    with pytest.raises(mp.NotFoundError):
        api.get_channel_of_type(town.id, "P")
    with pytest.raises(mp.ValidationError):
        api.get_channel_of_type(town.id, "X")


def test_default_and_public_channels(api: Any) -> None:
    w = make_world(api)
    make_channel(api, w.team.id, "secret", "P")
    public = api.get_public_channels_for_team(w.team.id, 0, 10)
    assert [c.name for c in public] == ["off-topic", "town-square"]
    assert [c.name for c in api.get_public_channels_for_team(w.team.id, 1, 1)] == ["town-square"]
    # SqlChannelStore.GetPublicChannelsForTeam looks no team up
    # (server/channels/store/sqlstore/channel_store.go@003a6338e610a19a11c49c3da64832306033b4c1).
    assert api.get_public_channels_for_team(UNKNOWN_ID, 0, 10) == []
    with pytest.raises(mp.ValidationError):
        api.get_public_channels_for_team(w.team.id, -1, 10)


def test_channels_for_team_for_user(api: Any) -> None:
    w = make_world(api)
    secret = make_channel(api, w.team.id, "secret", "P")
    api.add_channel_member(secret.id, w.alice.id)
    names = [c.name for c in api.get_channels_for_team_for_user(w.team.id, w.alice.id, False)]
    assert names == ["off-topic", "secret", "town-square"]
    assert len(api.get_channels_for_team_for_user(w.team.id, w.bob.id, False)) == 2
    with pytest.raises(mp.NotFoundError):
        api.get_channels_for_team_for_user(w.team.id, w.carol.id, False)


def test_search_channels(api: Any) -> None:
    w = make_world(api)
    make_channel(api, w.team.id, "design-review", display_name="Design Review")
    make_channel(api, w.team.id, "review-secret", "P", display_name="Review Secret")
    assert [c.name for c in api.search_channels(w.team.id, "rev")] == ["design-review"]
    assert api.search_channels(w.team.id, "zzz") == []
    # Upstream's App.SearchChannels asks the store with includeDeleted true and
    # no team check; SearchInTeam matches "%term%" in name, display name or
    # purpose (server/channels/store/sqlstore/channel_store.go
    # @003a6338e610a19a11c49c3da64832306033b4c1, SearchInTeam, searchClause).
    archived = make_channel(api, w.team.id, "old-reviews", display_name="Old")
    api.delete_channel(archived.id)
    assert [c.name for c in api.search_channels(w.team.id, "view")] == [
        "design-review",
        "old-reviews",
    ]
    assert api.search_channels("bad-team-id", "rev") == []


def test_archive_and_restore(api: Any) -> None:
    w = make_world(api)
    channel = make_channel(api, w.team.id, "dev")
    api.add_channel_member(channel.id, w.alice.id)
    api.delete_channel(channel.id)
    assert api.get_channel(channel.id).delete_at > 0
    with pytest.raises(mp.NotFoundError):
        api.get_channel_by_name(w.team.id, "dev", False)
    assert api.get_channel_by_name(w.team.id, "dev", True).id == channel.id
    with pytest.raises(mp.ValidationError):
        api.delete_channel(channel.id)
    api.restore_channel(channel.id)
    assert api.get_channel(channel.id).delete_at == 0
    assert api.get_channel_member(channel.id, w.alice.id).user_id == w.alice.id
    with pytest.raises(mp.ValidationError):
        api.restore_channel(channel.id)
    town = api.get_channel_by_name(w.team.id, "town-square", False)
    with pytest.raises(mp.ValidationError):
        api.delete_channel(town.id)


def test_update_channel(api: Any) -> None:
    w = make_world(api)
    channel = make_channel(api, w.team.id, "dev")
    channel.header = "New header"
    channel.props.update({"nested": {"list": [1, "two", None, True]}})
    channel.total_msg_count = 99
    updated = api.update_channel(channel)
    assert updated.header == "New header" and updated.total_msg_count == 0
    assert list(updated.props["nested"]["list"]) == [1, "two", None, True]
    make_channel(api, w.team.id, "ops")
    channel.name = "ops"
    with pytest.raises(mp.ValidationError):
        api.update_channel(channel)
    with pytest.raises(mp.NotFoundError):
        api.update_channel(Channel(id=UNKNOWN_ID, name="x", display_name="X", type="O"))


def test_direct_channel(api: Any) -> None:
    w = make_world(api)
    dm = api.get_direct_channel(w.bob.id, w.alice.id)
    assert dm.type == "D" and dm.team_id == ""
    assert dm.name == "__".join(sorted([w.alice.id, w.bob.id]))
    assert api.get_direct_channel(w.alice.id, w.bob.id) == dm
    assert {m.user_id for m in api.get_channel_members(dm.id, 0, 10)} == {w.alice.id, w.bob.id}
    # App.createDirectChannel answers a user it cannot find with invalid_user
    # (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1).
    with pytest.raises(mp.ValidationError) as unknown:
        api.get_direct_channel(w.alice.id, UNKNOWN_ID)
    assert unknown.value.error_id == "api.channel.create_direct_channel.invalid_user.app_error"


def test_group_channel(api: Any) -> None:
    w = make_world(api)
    ids = [w.carol.id, w.alice.id, w.bob.id]
    gm = api.get_group_channel(ids)
    assert gm.type == "G" and gm.display_name == "alice, bob, carol"
    assert api.get_group_channel(list(reversed(ids))) == gm
    with pytest.raises(mp.ValidationError) as size:
        api.get_group_channel(ids[:2])
    assert size.value.error_id == "api.channel.create_group.bad_size.app_error"
    # App.createGroupChannel (channel.go@003a6338e610a19a11c49c3da64832306033b4c1):
    # fewer profiles than ids, for an unknown user or a repeat, is bad_user.
    for users in ([*ids[:2], UNKNOWN_ID], [*ids, ids[0]]):
        with pytest.raises(mp.ValidationError) as bad:
            api.get_group_channel(users)
        assert bad.value.error_id == "api.channel.create_group.bad_user.app_error"


def test_archive_direct_and_group_channels(api: Any) -> None:
    # App.DeleteChannel (server/channels/app/channel.go@a63955a2dd2844a2f47afb389bd5e952e83dc5b0)
    # refuses only an archived channel and town-square, whatever the type.
    w = make_world(api)
    dm = api.get_direct_channel(w.alice.id, w.bob.id)
    gm = api.get_group_channel([w.alice.id, w.bob.id, w.carol.id])
    for channel in (dm, gm):
        api.delete_channel(channel.id)
        assert api.get_channel(channel.id).delete_at > 0
        with pytest.raises(mp.ValidationError) as again:
            api.delete_channel(channel.id)
        assert again.value.error_id == "api.channel.delete_channel.deleted.app_error"


def test_channel_stats(api: Any) -> None:
    w = make_world(api)
    town = api.get_channel_by_name(w.team.id, "town-square", False)
    stats = api.get_channel_stats(town.id)
    # PluginAPI.GetChannelStats (plugin_api.go@f56166d6) counts the active
    # members twice: guest_count is member_count, and no pinned count is set.
    assert (stats.channel_id, stats.member_count, stats.guest_count) == (town.id, 2, 2)
    assert stats.pinned_post_count == 0
    # No channel lookup: an unknown channel counts zero.
    unknown = api.get_channel_stats(UNKNOWN_ID)
    assert (unknown.channel_id, unknown.member_count, unknown.guest_count) == (UNKNOWN_ID, 0, 0)


def test_channel_guards(api: Any) -> None:
    w = make_world(api)
    channel = make_channel(api, w.team.id, "guarded")
    api.register_channel_guard(channel.id)
    api.register_channel_guard(channel.id)
    api.unregister_channel_guard(channel.id)
    api.unregister_channel_guard(channel.id)
    # The backend keeps claims on channels that exist (its state file lists
    # them); upstream's App.UnregisterChannelGuard of no claim is a no-op and
    # a malformed id is invalid_channel
    # (server/channels/app/channel_guards.go@3db052711ad1cbadfe852ad34781e8a3fa028583).
    with pytest.raises(mp.NotFoundError):
        api.register_channel_guard(UNKNOWN_ID)
    api.unregister_channel_guard(UNKNOWN_ID)
    with pytest.raises(mp.ValidationError) as malformed:
        api.register_channel_guard("not-an-id")
    assert malformed.value.error_id == "app.channel_guard.invalid_channel.app_error"


def test_channel_members(api: Any) -> None:
    w = make_world(api)
    channel = make_channel(api, w.team.id, "dev")
    joined = api.add_channel_member(channel.id, w.alice.id)
    assert joined.roles == "channel_user" and joined.notify_props["desktop"] == "default"
    assert api.add_channel_member(channel.id, w.alice.id) == joined
    added = api.add_user_to_channel(channel.id, w.bob.id, w.alice.id)
    assert added.user_id == w.bob.id
    assert api.get_channel_member(channel.id, w.bob.id) == added
    everyone = sorted([w.alice.id, w.bob.id])
    assert [m.user_id for m in api.get_channel_members(channel.id, 0, 10)] == everyone
    by_ids = api.get_channel_members_by_ids(channel.id, [w.bob.id, w.carol.id])
    assert [m.user_id for m in by_ids] == [w.bob.id]
    mine = api.get_channel_members_for_user(w.team.id, w.alice.id, 0, 10)
    assert len(mine) == 3
    api.delete_channel_member(channel.id, w.bob.id)
    with pytest.raises(mp.NotFoundError):
        api.get_channel_member(channel.id, w.bob.id)


def test_channel_member_failures(api: Any) -> None:
    w = make_world(api)
    channel = make_channel(api, w.team.id, "dev")
    # Upstream's app layer (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1
    # AddUserToChannel) looks the team member up first: 404, not the REST handler's 400.
    with pytest.raises(mp.NotFoundError) as outsider:
        api.add_channel_member(channel.id, w.carol.id)
    assert outsider.value.error_id == "app.team.get_member.missing.app_error"
    with pytest.raises(mp.NotFoundError):
        api.add_user_to_channel(channel.id, w.bob.id, UNKNOWN_ID)
    # The store's GetMembers and GetMembersByIds look no channel up and check
    # no id (channel_store.go@003a6338e610a19a11c49c3da64832306033b4c1).
    assert api.get_channel_members(UNKNOWN_ID, 0, 10) == []
    assert api.get_channel_members_by_ids(channel.id, ["bad"]) == []
    # Negative paging is refused up front (the row of GetChannelMembers in
    # docs/fidelity/channels.tsv says why it differs).
    with pytest.raises(mp.ValidationError):
        api.get_channel_members(channel.id, -1, 10)
    # UnregisterChannelGuard of no channel: app.channel_guard.unregister.
    # empty_channel.app_error (server/channels/app/channel_guards.go@3db05271).
    with pytest.raises(mp.ValidationError) as unguard:
        api.unregister_channel_guard("")
    assert unguard.value.error_id == "app.channel_guard.unregister.empty_channel.app_error"
    # Notify props over the size limit are refused
    # (App.UpdateChannelMemberNotifyProps, channel.go@003a6338).
    with pytest.raises(mp.ValidationError):
        too_big = {"desktop": "x" * (64 << 10)}
        api.update_channel_member_notifications(channel.id, w.alice.id, too_big)
    with pytest.raises(mp.ValidationError):
        api.get_channel_members_for_user(w.team.id, w.alice.id, 0, -5)
    with pytest.raises(mp.NotFoundError):
        api.delete_channel_member(channel.id, w.bob.id)


def test_channel_member_roles(api: Any) -> None:
    w = make_world(api)
    town = api.get_channel_by_name(w.team.id, "town-square", False)
    admin = api.update_channel_member_roles(town.id, w.alice.id, "channel_user channel_admin")
    assert admin.roles == "channel_user channel_admin" and admin.scheme_admin
    with pytest.raises(mp.ValidationError):
        api.update_channel_member_roles(town.id, w.alice.id, "channel_user emperor")
    with pytest.raises(mp.NotFoundError):
        api.update_channel_member_roles(town.id, w.carol.id, "channel_user")
    # A member keeps a base role: App.updateChannelMemberRolesInternal
    # (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1).
    with pytest.raises(mp.ValidationError) as unset:
        api.update_channel_member_roles(town.id, w.alice.id, "channel_admin")
    unset_id = "api.channel.update_channel_member_roles.unset_user_scheme.app_error"
    assert unset.value.error_id == unset_id


def test_channel_member_notifications(api: Any) -> None:
    w = make_world(api)
    town = api.get_channel_by_name(w.team.id, "town-square", False)
    member = api.update_channel_member_notifications(town.id, w.alice.id, {"desktop": "all"})
    assert member.notify_props["desktop"] == "all" and member.notify_props["push"] == "default"
    # App.UpdateChannelMemberNotifyProps keeps only the known keys and the store
    # checks no value (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1).
    loud = api.update_channel_member_notifications(town.id, w.alice.id, {"push": "loud", "x": "y"})
    assert loud.notify_props["push"] == "loud" and "x" not in loud.notify_props
    members = [
        ChannelMemberIdentifier(channel_id=town.id, user_id=w.alice.id),
        ChannelMemberIdentifier(channel_id=town.id, user_id=w.bob.id),
    ]
    api.patch_channel_members_notifications(members, {"mark_unread": "mention"})
    assert api.get_channel_member(town.id, w.bob.id).notify_props["mark_unread"] == "mention"
    # All or none: one missing membership changes nothing.
    missing = ChannelMemberIdentifier(channel_id=town.id, user_id=w.carol.id)
    with pytest.raises(mp.NotFoundError):
        api.patch_channel_members_notifications([members[0], missing], {"email": "none"})
    assert api.get_channel_member(town.id, w.alice.id).notify_props["email"] == "default"
    with pytest.raises(mp.ValidationError):
        api.patch_channel_members_notifications(members * 101, {"email": "none"})


def test_retention_policies_need_a_license(api: Any) -> None:
    w = make_world(api)
    town = api.get_channel_by_name(w.team.id, "town-square", False)
    with pytest.raises(mp.UnimplementedError) as add:
        api.add_channels_to_retention_policy(UNKNOWN_ID, [town.id])
    assert add.value.error_id == "ent.data_retention.generic.license.error"
    assert add.value.status_code == 501
    with pytest.raises(mp.UnimplementedError):
        api.remove_channels_from_retention_policy(UNKNOWN_ID, [town.id])
