"""End to end: the shared-channels area, through both clients against the Go server.

The plugin registers as a remote cluster, shares channels with it and
sends in what its remote has: users, posts, reactions, files and profile
images. Invitations, cursors and sync requests go to the event log.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from worlds import Room, make_room

import mattermost_plugin as mp
from mattermost_plugin.models import (
    Channel,
    FileInfo,
    GetPostsSinceForSyncCursor,
    Post,
    Reaction,
    RegisterPluginOpts,
    SharedChannel,
    SyncMsg,
    User,
)

from conftest import GoServer, png

UNKNOWN_ID = "a" * 26
PLUGIN_ID = "com.example.plugin"


def enable_shared_channels(api: Any) -> None:
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["ConnectedWorkspacesSettings"]["EnableSharedChannels"] = True
    api.save_config(cfg.to_model())


@dataclass
class Bridge:
    room: Room
    remote_id: str
    channel: Channel


def make_bridge(api: Any, invite: bool = True) -> Bridge:
    """A room, shared channels on, the plugin's remote, and a channel."""
    room = make_room(api)
    enable_shared_channels(api)
    remote_id = api.register_plugin_for_shared_channels(
        RegisterPluginOpts(display_name="Bridge", plugin_id=PLUGIN_ID)
    )
    channel = api.create_channel(
        Channel(team_id=room.team.id, name="bridge", display_name="Bridge", type="O")
    )
    if invite:
        api.invite_remote_to_channel(channel.id, remote_id, room.alice.id, True)
    return Bridge(room, remote_id, channel)


def test_shared_channels_are_off_by_default(api: Any) -> None:
    room = make_room(api)
    with pytest.raises(mp.ValidationError) as off:
        api.share_channel(
            SharedChannel(
                channel_id=room.town.id, home=True, share_name="town", creator_id=room.alice.id
            )
        )
    assert off.value.error_id == "api.command_share.service_disabled"
    # App.SyncSharedChannel checks the service alone.
    with pytest.raises(mp.ValidationError) as sync_off:
        api.sync_shared_channel(room.town.id)
    assert sync_off.value.error_id == "api.command_share.service_disabled"


def test_register_and_unregister(api: Any, go_server: GoServer) -> None:
    bridge = make_bridge(api, invite=False)
    again = api.register_plugin_for_shared_channels(
        RegisterPluginOpts(display_name="Bridge", plugin_id=PLUGIN_ID, auto_share_dms=True)
    )
    assert again == bridge.remote_id
    second = api.register_plugin_for_shared_channels(
        RegisterPluginOpts(display_name="Second", plugin_id=PLUGIN_ID)
    )
    assert second != bridge.remote_id
    # App.UnregisterPluginRemoteForSharedChannels: a deleted remote is no error.
    api.unregister_plugin_remote_for_shared_channels(second)
    api.unregister_plugin_remote_for_shared_channels(second)
    with pytest.raises(mp.NotFoundError):
        api.unregister_plugin_remote_for_shared_channels(UNKNOWN_ID)
    api.unregister_plugin_for_shared_channels(PLUGIN_ID)
    # Service.InviteRemoteToChannel: a deleted remote is invalid, a 500.
    with pytest.raises(mp.InternalError) as gone:
        api.invite_remote_to_channel(
            bridge.channel.id, bridge.remote_id, bridge.room.alice.id, True
        )
    assert gone.value.error_id == "api.command_share.remote_id_invalid.error"
    registered = go_server.events("shared_channels_register", at_least=3)
    assert registered[0]["data"]["opts"]["display_name"] == "Bridge"
    with pytest.raises(mp.ValidationError):
        api.register_plugin_for_shared_channels(RegisterPluginOpts(plugin_id=PLUGIN_ID))
    # App.UnregisterPluginForSharedChannels: a plugin with no remote is no error.
    api.unregister_plugin_for_shared_channels("")


def test_share_update_unshare(api: Any) -> None:
    bridge = make_bridge(api, invite=False)
    alice = bridge.room.alice
    share = api.share_channel(
        SharedChannel(
            channel_id=bridge.channel.id,
            home=True,
            share_name="Bridge",
            share_display_name="Bridge",
            creator_id=alice.id,
        )
    )
    assert share.share_name == "bridge" and share.team_id == bridge.room.team.id
    assert share.type == "O" and share.create_at > 0
    assert api.get_channel(bridge.channel.id).shared
    # Service.ShareChannel: a shared channel keeps its share, which is returned.
    assert api.share_channel(share) == share
    share.share_header, share.readonly = "Synced with afar", True
    updated = api.update_shared_channel(share)
    assert updated.share_header == "Synced with afar" and updated.readonly
    assert api.unshare_channel(bridge.channel.id) is True
    assert api.unshare_channel(bridge.channel.id) is False
    assert not api.get_channel(bridge.channel.id).shared
    with pytest.raises(mp.ValidationError):
        api.update_shared_channel(share)
    with pytest.raises(mp.NotFoundError):
        api.unshare_channel(UNKNOWN_ID)
    with pytest.raises(mp.ValidationError) as invalid:
        api.share_channel(
            SharedChannel(
                channel_id=bridge.channel.id, home=True, share_name="no good!", creator_id=alice.id
            )
        )
    assert invalid.value.where == "SharedChannel.IsValid"


def test_invite_cursor_sync_uninvite(api: Any, go_server: GoServer) -> None:
    bridge = make_bridge(api, invite=False)
    channel, remote, alice = bridge.channel, bridge.remote_id, bridge.room.alice
    with pytest.raises(mp.ValidationError) as not_shared:
        api.invite_remote_to_channel(channel.id, remote, alice.id, False)
    assert not_shared.value.error_id == "api.command_share.channel_not_shared.error"
    api.invite_remote_to_channel(channel.id, remote, alice.id, True)
    assert api.get_channel(channel.id).shared
    cursor = GetPostsSinceForSyncCursor(last_post_create_at=5, last_post_create_id=UNKNOWN_ID)
    api.update_shared_channel_cursor(channel.id, remote, cursor)
    api.sync_shared_channel(channel.id)
    [invited] = go_server.events("shared_channel_invite", at_least=1)
    assert invited["data"]["remote_id"] == remote
    [moved] = go_server.events("shared_channel_cursor", at_least=1)
    assert moved["data"]["cursor"]["last_post_create_id"] == UNKNOWN_ID
    [synced] = go_server.events("shared_channel_sync", at_least=1)
    assert synced["data"]["channel_id"] == channel.id
    # The last remote uninvited, the channel is unshared.
    api.uninvite_remote_from_channel(channel.id, remote)
    assert not api.get_channel(channel.id).shared
    with pytest.raises(mp.InternalError) as twice:
        api.uninvite_remote_from_channel(channel.id, remote)
    assert twice.value.error_id == "api.command_share.channel_remote_id_not_exists"
    with pytest.raises(mp.NotFoundError):
        api.update_shared_channel_cursor(channel.id, remote, cursor)


def test_receive_sync_msg(api: Any) -> None:
    bridge = make_bridge(api)
    zoe = User(id="z" * 26, username="zoe", email="zoe@remote.example", update_at=7)
    post_id = "p" * 26
    msg = SyncMsg(
        id="m" * 26,
        channel_id=bridge.channel.id,
        users={zoe.id: zoe},
        posts=[
            Post(
                id=post_id,
                channel_id=bridge.channel.id,
                user_id=zoe.id,
                message="from afar",
                create_at=10,
                update_at=10,
            )
        ],
        reactions=[Reaction(user_id=zoe.id, post_id=post_id, emoji_name="smile", create_at=11)],
    )
    result = api.receive_shared_channel_sync_msg(bridge.remote_id, msg)
    assert list(result.users_syncd) == [zoe.id] and result.users_last_update_at == 7
    assert result.posts_last_update_at == 10 and not result.post_errors
    post = api.get_post(post_id)
    assert post.message == "from afar" and post.remote_id == bridge.remote_id
    assert [r.emoji_name for r in api.get_reactions(post_id)] == ["smile"]
    synced = api.get_user(zoe.id)
    # upsertSyncUser munges the name with the remote's and joins the user
    # to the team and the channel (sync_recv.go@ab89d76a).
    assert synced.remote_id == bridge.remote_id and synced.username == "zoe:bridge"
    assert synced.props["RemoteUsername"] == "zoe" and synced.email.endswith("@bridge")
    assert api.get_channel_member(bridge.channel.id, zoe.id).user_id == zoe.id
    assert api.get_team_member(bridge.room.team.id, zoe.id).user_id == zoe.id

    local = SyncMsg(
        channel_id=bridge.channel.id,
        users={
            bridge.room.bob.id: User(id=bridge.room.bob.id, username="bob", email="bob@example.com")
        },
    )
    assert list(api.receive_shared_channel_sync_msg(bridge.remote_id, local).user_errors) == [
        bridge.room.bob.id
    ]
    with pytest.raises(mp.NotFoundError):  # the remote is not invited there
        api.receive_shared_channel_sync_msg(
            bridge.remote_id, SyncMsg(channel_id=bridge.room.town.id)
        )
    with pytest.raises(mp.NotFoundError):
        api.receive_shared_channel_sync_msg(UNKNOWN_ID, msg)


def test_receive_attachment_and_profile_image(api: Any, go_server: GoServer) -> None:
    bridge = make_bridge(api)
    zoe = User(id="z" * 26, username="zoe", email="zoe@remote.example")
    api.receive_shared_channel_sync_msg(
        bridge.remote_id, SyncMsg(channel_id=bridge.channel.id, users={zoe.id: zoe})
    )
    data = b"remote notes " * 1000
    file_info = FileInfo(id="f" * 26, name="notes.txt", creator_id=zoe.id, size=len(data))
    info = api.receive_shared_channel_attachment_sync_msg(
        bridge.remote_id, bridge.channel.id, file_info, io.BytesIO(data)
    )
    # An upload session stores the file under a new id (upload.go@5c839440).
    assert info.id != file_info.id and info.size == len(data) and info.remote_id == bridge.remote_id
    assert api.get_file(info.id) == data
    again = api.receive_shared_channel_attachment_sync_msg(
        bridge.remote_id, bridge.channel.id, file_info, data
    )
    assert again.id not in (info.id, file_info.id), "each receipt is a new file"
    [event, _] = go_server.events("shared_channel_attachment", at_least=2)
    assert event["data"]["file_info"]["id"] == info.id
    with pytest.raises(mp.ValidationError):  # creator_id_required
        api.receive_shared_channel_attachment_sync_msg(
            bridge.remote_id, bridge.channel.id, FileInfo(name="x", size=1), b"x"
        )
    with pytest.raises(mp.ValidationError):  # a creator that is not the remote's
        api.receive_shared_channel_attachment_sync_msg(
            bridge.remote_id,
            bridge.channel.id,
            FileInfo(name="x", creator_id=bridge.room.alice.id, size=1),
            b"x",
        )
    with pytest.raises(mp.NotFoundError):  # the remote is not invited there
        api.receive_shared_channel_attachment_sync_msg(
            bridge.remote_id,
            bridge.room.town.id,
            FileInfo(name="x", creator_id=zoe.id, size=1),
            b"x",
        )

    api.receive_shared_channel_profile_image_sync_msg(bridge.remote_id, zoe.id, png(16, 16))
    assert api.get_user(zoe.id).last_picture_update > 0
    [image] = go_server.events("shared_channel_profile_image", at_least=1)
    assert image["data"]["user_id"] == zoe.id
    with pytest.raises(mp.ValidationError):
        api.receive_shared_channel_profile_image_sync_msg(
            bridge.remote_id, bridge.room.alice.id, png(16, 16)
        )
    with pytest.raises(mp.ValidationError):
        api.receive_shared_channel_profile_image_sync_msg(bridge.remote_id, zoe.id, b"not an image")

    cfg = mp.ServerConfig(api.get_config())
    cfg.data["FileSettings"]["MaxFileSize"] = 10
    api.save_config(cfg.to_model())
    with pytest.raises(mp.PluginAPIError) as too_large:
        api.receive_shared_channel_profile_image_sync_msg(bridge.remote_id, zoe.id, png(16, 16))
    assert too_large.value.error_id == "api.user.upload_profile_user.too_large.app_error"
    with pytest.raises(mp.PluginAPIError) as too_large:
        api.receive_shared_channel_attachment_sync_msg(
            bridge.remote_id,
            bridge.channel.id,
            FileInfo(name="x", creator_id=zoe.id, size=11),
            b"x",
        )
    assert too_large.value.error_id == "api.upload.create.upload_too_large.app_error"
