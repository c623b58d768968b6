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
    with pytest.raises(mp.NotFoundError):
        api.get_channel_sidebar_categories(room.alice.id, UNKNOWN_ID)


def test_custom_category(api: Any) -> None:
    room = make_room(api)
    work = api.create_channel_sidebar_category(
        room.alice.id,
        room.team.id,
        SidebarCategoryWithChannels(display_name="Work", channel_ids=[room.town.id]),
    )
    assert work.type == "custom" and list(work.channel_ids) == [room.town.id]
    sidebar = api.get_channel_sidebar_categories(room.alice.id, room.team.id)
    assert sidebar.categories[0].id == work.id
    assert room.town.id not in sidebar.categories[2].channel_ids
    with pytest.raises(mp.ValidationError):
        api.create_channel_sidebar_category(
            room.alice.id, room.team.id, SidebarCategoryWithChannels(display_name="")
        )
    with pytest.raises(mp.ValidationError):
        api.create_channel_sidebar_category(
            room.carol.id,
            room.team.id,
            SidebarCategoryWithChannels(display_name="Not mine", channel_ids=[room.town.id]),
        )


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
    with pytest.raises(mp.NotFoundError):
        api.update_channel_sidebar_categories(
            room.alice.id, room.team.id, [SidebarCategoryWithChannels(id="nope")]
        )
