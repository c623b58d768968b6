"""End to end: the channel sidebar area, through both clients against the Go server."""

from __future__ import annotations

from typing import Any

import pytest
from worlds import make_room

import mattermost_plugin as mp
from mattermost_plugin.models import SidebarCategoryWithChannels

UNKNOWN_ID = "a" * 26


def test_default_categories(api: Any) -> None:
    room = make_room(api)
    dm = api.get_direct_channel(room.alice.id, room.bob.id)
    sidebar = api.get_channel_sidebar_categories(room.alice.id, room.team.id)
    assert [c.type for c in sidebar.categories] == ["favorites", "channels", "direct_messages"]
    assert list(sidebar.order) == [c.id for c in sidebar.categories]
    assert room.town.id in sidebar.categories[1].channel_ids
    assert list(sidebar.categories[2].channel_ids) == [dm.id]
    assert sidebar.categories[2].sorting == "recent"
    # The store joins the live team and the user's membership: no lookup,
    # no categories (channel_store_categories.go@006d06fe).
    none = api.get_channel_sidebar_categories(room.alice.id, UNKNOWN_ID)
    assert list(none.categories) == [] and list(none.order) == []


def test_custom_category(api: Any) -> None:
    room = make_room(api)
    work = api.create_channel_sidebar_category(
        room.alice.id,
        room.team.id,
        SidebarCategoryWithChannels(display_name="Work", channel_ids=[room.town.id]),
    )
    assert work.type == "custom" and list(work.channel_ids) == [room.town.id]
    # After Favorites when Favorites is first (SqlChannelStore.CreateSidebarCategory,
    # channel_store_categories.go@006d06fe).
    sidebar = api.get_channel_sidebar_categories(room.alice.id, room.team.id)
    assert [c.type for c in sidebar.categories] == [
        "favorites",
        "custom",
        "channels",
        "direct_messages",
    ]
    assert sidebar.categories[1].id == work.id and work.sort_order == 10
    assert room.town.id not in sidebar.categories[2].channel_ids
    # The store checks no display name (channel_store_categories.go@006d06fe).
    unnamed = api.create_channel_sidebar_category(
        room.alice.id, room.team.id, SidebarCategoryWithChannels(display_name="")
    )
    assert unnamed.display_name == ""
    with pytest.raises(mp.NotFoundError) as none:
        api.create_channel_sidebar_category(
            room.alice.id, UNKNOWN_ID, SidebarCategoryWithChannels(display_name="W")
        )
    assert none.value.error_id == "app.channel.sidebar_categories.app_error"


def test_muted_category_mutes_its_channels(api: Any) -> None:
    # App.muteChannelsForUpdatedCategories (channel_category.go@08107a67).
    room = make_room(api)
    channels = api.get_channel_sidebar_categories(room.alice.id, room.team.id).categories[1]
    channels.muted = True
    api.update_channel_sidebar_categories(room.alice.id, room.team.id, [channels])
    member = api.get_channel_member(room.town.id, room.alice.id)
    assert member.notify_props["mark_unread"] == "mention"
    channels.muted = False
    api.update_channel_sidebar_categories(room.alice.id, room.team.id, [channels])
    member = api.get_channel_member(room.town.id, room.alice.id)
    assert member.notify_props["mark_unread"] == "all"


def test_update_categories(api: Any) -> None:
    room = make_room(api)
    sidebar = api.get_channel_sidebar_categories(room.alice.id, room.team.id)
    favorites = sidebar.categories[0]
    favorites.channel_ids.append(room.town.id)
    favorites.collapsed = True
    [updated] = api.update_channel_sidebar_categories(room.alice.id, room.team.id, [favorites])
    assert list(updated.channel_ids) == [room.town.id] and updated.collapsed
    after = api.get_channel_sidebar_categories(room.alice.id, room.team.id)
    assert room.town.id not in after.categories[1].channel_ids
    # Any store error is a 500 (App.UpdateSidebarCategories, channel_category.go@08107a67).
    with pytest.raises(mp.InternalError) as unknown:
        api.update_channel_sidebar_categories(
            room.alice.id, room.team.id, [SidebarCategoryWithChannels(id="nope")]
        )
    assert unknown.value.error_id == "app.channel.sidebar_categories.app_error"


def test_update_categories_rewrites_favorites(api: Any) -> None:
    # The store's UpdateSidebarCategories rewrites the favorite_channel
    # preferences by the type each category is sent with
    # (channel_store_categories.go@006d06fe).
    room = make_room(api)
    alice = room.alice.id

    def favorite(channel_id: str) -> bool:
        prefs = api.get_preferences_for_user(alice)
        return any(p.category == "favorite_channel" and p.name == channel_id for p in prefs)

    favorites, channels, _ = api.get_channel_sidebar_categories(alice, room.team.id).categories
    favorites.channel_ids.append(room.town.id)
    api.update_channel_sidebar_categories(alice, room.team.id, [favorites])
    assert favorite(room.town.id)
    channels.channel_ids.append(room.town.id)
    api.update_channel_sidebar_categories(alice, room.team.id, [channels])
    assert not favorite(room.town.id)
