"""End to end: the reactions area, through both clients against the Go server."""

from __future__ import annotations

from typing import Any

import pytest
from worlds import make_room, say

import mattermost_plugin as mp
from mattermost_plugin.models import Reaction

UNKNOWN_ID = "a" * 26


def test_reactions_are_unique_per_user_post_and_emoji(api: Any) -> None:
    room = make_room(api)
    post = say(api, room, room.alice, "react")
    smile = Reaction(user_id=room.bob.id, post_id=post.id, emoji_name="smile")
    first = api.add_reaction(smile)
    assert first.channel_id == room.town.id and first.create_at > 0 and first.remote_id == ""
    # Saving again is an upsert (SqlReactionStore.Save): one reaction, its
    # first create_at kept.
    again = api.add_reaction(smile)
    assert (again.user_id, again.post_id, again.emoji_name) == (room.bob.id, post.id, "smile")
    [stored] = api.get_reactions(post.id)
    assert stored.create_at == first.create_at
    api.add_reaction(Reaction(user_id=room.alice.id, post_id=post.id, emoji_name="+1"))
    # Oldest first; the two may share a millisecond, so compare as a set.
    assert {(r.user_id, r.emoji_name) for r in api.get_reactions(post.id)} == {
        (room.bob.id, "smile"),
        (room.alice.id, "+1"),
    }
    assert api.get_post(post.id).has_reactions
    api.remove_reaction(smile)
    api.remove_reaction(smile)
    assert [r.emoji_name for r in api.get_reactions(post.id)] == ["+1"]


def test_reaction_failures(api: Any) -> None:
    room = make_room(api)
    post = say(api, room, room.alice, "react")
    with pytest.raises(mp.ValidationError) as emoji:
        api.add_reaction(Reaction(user_id=room.bob.id, post_id=post.id, emoji_name="no spaces"))
    assert emoji.value.error_id == "model.reaction.is_valid.emoji_name.app_error"
    # App.SaveReactionForPost looks the post up first: an unknown one is
    # refused before the emoji is checked (reaction.go@0153ff02).
    with pytest.raises(mp.NotFoundError) as unknown:
        api.add_reaction(Reaction(user_id=room.bob.id, post_id=UNKNOWN_ID, emoji_name="no spaces"))
    assert unknown.value.error_id == "app.post.get.app_error"
    with pytest.raises(mp.NotFoundError):
        api.remove_reaction(Reaction(user_id=room.bob.id, post_id=UNKNOWN_ID, emoji_name="smile"))
    # The user is not looked up, and removing checks no field: both succeed.
    stranger = api.add_reaction(Reaction(user_id=UNKNOWN_ID, post_id=post.id, emoji_name="smile"))
    assert stranger.user_id == UNKNOWN_ID
    api.remove_reaction(Reaction(user_id="bad", post_id=post.id, emoji_name="no spaces"))
    # GetForPost checks no post id.
    assert api.get_reactions("bad") == []
