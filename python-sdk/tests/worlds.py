"""Shared scenes of the end-to-end tests: a team with members and a channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mattermost_plugin.models import Channel, Post, Team, User

from conftest import new_user


@dataclass
class Room:
    """A team with alice and bob, its town-square, and carol outside it."""

    team: Team
    town: Channel
    alice: User
    bob: User
    carol: User


def make_room(api: Any) -> Room:
    team = api.create_team(Team(name="core", display_name="Core", type="O"))
    alice, bob, carol = (api.create_user(new_user(n)) for n in ("alice", "bob", "carol"))
    api.create_team_members(team.id, [alice.id, bob.id], "")
    town = api.get_channel_by_name(team.id, "town-square", False)
    return Room(team, town, alice, bob, carol)


def say(
    api: Any, room: Room, author: User, message: str, root_id: str = "", create_at: int = 0
) -> Post:
    post = Post(
        channel_id=room.town.id,
        user_id=author.id,
        message=message,
        root_id=root_id,
        create_at=create_at,
    )
    return api.create_post(post)  # type: ignore[no-any-return]
