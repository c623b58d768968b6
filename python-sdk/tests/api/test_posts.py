"""End to end: the posts area, through both clients against the Go server."""

from __future__ import annotations

from typing import Any

import pytest
from worlds import make_room, say

import mattermost_plugin as mp
from mattermost_plugin.models import Bot, Channel, Post, SearchParameter, SearchParams

UNKNOWN_ID = "a" * 26


def test_create_and_get_post(api: Any) -> None:
    room = make_room(api)
    post = say(api, room, room.alice, "Launch day #launch")
    assert len(post.id) == 26 and post.create_at > 0 and post.hashtags == "#launch"
    assert post.props["from_plugin"] == "true"
    assert api.get_post(post.id) == post
    with pytest.raises(mp.NotFoundError):
        api.get_post(UNKNOWN_ID)


def test_create_post_failures(api: Any) -> None:
    room = make_room(api)
    with pytest.raises(mp.NotFoundError):
        api.create_post(Post(channel_id=UNKNOWN_ID, user_id=room.alice.id, message="x"))
    with pytest.raises(mp.ValidationError) as long:
        say(api, room, room.alice, "x" * 16_384)
    assert long.value.error_id == "model.post.is_valid.message_length.app_error"
    root = say(api, room, room.alice, "root")
    reply = say(api, room, room.bob, "reply", root.id)
    with pytest.raises(mp.ValidationError) as nested:
        say(api, room, room.alice, "reply to a reply", reply.id)
    assert nested.value.error_id == "api.post.create_post.root_id.app_error"


def test_reply_to_a_root_in_another_channel(api: Any) -> None:
    # App.CreatePost (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9),
    # reached by the plugin path through CreatePostMissingChannel, answers
    # channel_root_id with a 500; only CreatePostAsUser (REST) makes it a 400.
    room = make_room(api)
    other = api.create_channel(
        Channel(team_id=room.team.id, name="other", display_name="Other", type="O")
    )
    elsewhere = api.create_post(Post(channel_id=other.id, user_id=room.alice.id, message="x"))
    with pytest.raises(mp.InternalError) as crossed:
        say(api, room, room.alice, "reply", elsewhere.id)
    assert crossed.value.error_id == "api.post.create_post.channel_root_id.app_error"
    assert crossed.value.status_code == 500


def test_posts_in_an_archived_channel(api: Any) -> None:
    # server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9:
    # App.CreatePost checks no delete_at on the plugin path (only
    # CreatePostAsUserWithFlags does), and updatePostWithChannel refuses an
    # edit in an archived channel.
    room = make_room(api)
    old = api.create_channel(
        Channel(team_id=room.team.id, name="old", display_name="Old", type="O")
    )
    before = api.create_post(Post(channel_id=old.id, user_id=room.alice.id, message="before"))
    api.delete_channel(old.id)
    after = api.create_post(Post(channel_id=old.id, user_id=room.alice.id, message="after"))
    assert api.get_post(after.id).channel_id == old.id
    before.message = "edited"
    with pytest.raises(mp.ValidationError) as archived:
        api.update_post(before)
    assert archived.value.error_id == "api.post.update_post.can_not_update_post_in_deleted.error"


def test_bot_posts_say_from_bot(api: Any) -> None:
    # App.CreatePost (server/channels/app/post.go@004340fa1b599e5c2c24f28c6e18e2d0829889b9)
    # adds props["from_bot"] = "true" when the author is a bot.
    room = make_room(api)
    bot = api.create_bot(Bot(username="helper", display_name="Helper"))
    post = api.create_post(Post(channel_id=room.town.id, user_id=bot.user_id, message="beep"))
    assert post.props["from_bot"] == "true" and post.props["from_plugin"] == "true"
    assert "from_bot" not in say(api, room, room.alice, "hi").props


def test_thread_and_delete(api: Any) -> None:
    room = make_room(api)
    base = 1_700_000_000_000
    root = say(api, room, room.alice, "root", create_at=base)
    first = say(api, room, room.bob, "first", root.id, create_at=base + 1)
    second = say(api, room, room.alice, "second", root.id, create_at=base + 2)
    # SqlPostStore.Get (post_store.go@1a6a3a0d) lists the requested post
    # first, then the rest of the thread (here oldest first).
    thread = api.get_post_thread(first.id)
    assert list(thread.order) == [first.id, root.id, second.id]
    # No id check on the plugin path: a malformed id is not found, and only
    # Get's empty id is ErrInvalidInput (app.post.get.app_error 400).
    with pytest.raises(mp.NotFoundError):
        api.get_post("not an id")
    with pytest.raises(mp.NotFoundError):
        api.get_post_thread("not an id")
    with pytest.raises(mp.ValidationError) as empty:
        api.get_post_thread("")
    assert empty.value.error_id == "app.post.get.app_error"
    assert api.get_post(root.id).reply_count == 2
    api.delete_post(root.id)
    with pytest.raises(mp.NotFoundError):
        api.get_post(second.id)
    with pytest.raises(mp.NotFoundError):
        api.get_post_thread(root.id)
    # App.DeletePost answers any failure of the store's GetSingle with
    # app.post.get.app_error 400 (server/channels/app/post.go@285f792d).
    with pytest.raises(mp.ValidationError) as again:
        api.delete_post(root.id)
    assert again.value.error_id == "app.post.get.app_error"


def test_update_post_keeps_create_at(api: Any) -> None:
    room = make_room(api)
    post = say(api, room, room.alice, "draft")
    post.message = "final"
    post.is_pinned = True
    post.create_at = 1
    post.props.update({"tags": ["a", "b"]})
    edited = api.update_post(post)
    assert edited.message == "final" and edited.edit_at > 0 and edited.is_pinned
    assert edited.create_at == api.get_post(post.id).create_at != 1
    assert list(edited.props["tags"]) == ["a", "b"]
    assert api.get_post(post.id).is_pinned
    with pytest.raises(mp.NotFoundError):
        api.update_post(Post(id=UNKNOWN_ID, message="x"))


def test_channel_listings_and_paging(api: Any) -> None:
    room = make_room(api)
    # Posts made within one millisecond tie on create_at; a plugin may set it.
    base = 1_700_000_000_000
    ids = [say(api, room, room.alice, f"post {i}", create_at=base + i).id for i in range(6)]
    newest_first = list(reversed(ids))
    assert list(api.get_posts_for_channel(room.town.id, 0, 2).order) == newest_first[:2]
    assert list(api.get_posts_for_channel(room.town.id, 1, 2).order) == newest_first[2:4]
    before = api.get_posts_before(room.town.id, ids[4], 0, 2)
    assert list(before.order) == [ids[3], ids[2]]
    assert list(api.get_posts_before(room.town.id, ids[4], 1, 2).order) == [ids[1], ids[0]]
    assert list(api.get_posts_after(room.town.id, ids[1], 0, 2).order) == [ids[3], ids[2]]
    assert list(api.get_posts_after(room.town.id, ids[1], 1, 2).order) == [ids[5], ids[4]]
    since = api.get_posts_since(room.town.id, api.get_post(ids[3]).create_at)
    assert list(since.order) == [ids[5], ids[4]]
    assert set(since.posts) == {ids[5], ids[4]}


def test_channel_listing_failures(api: Any) -> None:
    # Upstream's listings go to the store without looking the channel or the
    # anchor up (server/channels/app/post.go@004340fa: GetPostsSince,
    # GetPostsPage, GetPostsBeforePost, GetPostsAfterPost;
    # sqlstore/post_store.go@1a6a3a0d: GetPosts refuses per_page > 1000,
    # getPostsAround a negative page or per_page): unknown ones list nothing.
    room = make_room(api)
    post = say(api, room, room.alice, "only")
    assert list(api.get_posts_for_channel(UNKNOWN_ID, 0, 10).order) == []
    assert list(api.get_posts_since(UNKNOWN_ID, 0).order) == []
    assert list(api.get_posts_before(room.town.id, UNKNOWN_ID, 0, 10).order) == []
    with pytest.raises(mp.ValidationError):
        api.get_posts_for_channel(room.town.id, -1, 10)
    with pytest.raises(mp.ValidationError) as too_many:
        api.get_posts_for_channel(room.town.id, 0, 1001)
    assert too_many.value.error_id == "app.post.get_posts.app_error"
    with pytest.raises(mp.ValidationError) as negative:
        api.get_posts_after(room.town.id, post.id, 0, -1)
    assert negative.value.error_id == "app.post.get_posts_around.get.app_error"
    with pytest.raises(mp.ValidationError) as before:
        api.get_posts_before(room.town.id, post.id, -1, 10)
    assert before.value.error_id == "app.post.get_posts_around.get.app_error"


def test_search_posts_in_team(api: Any) -> None:
    room = make_room(api)
    launch = say(api, room, room.alice, "The launch is on Friday #release")
    say(api, room, room.bob, "Lunch is on Friday")
    found = api.search_posts_in_team(room.team.id, [SearchParams(terms="launch friday")])
    assert [p.id for p in found] == [launch.id]
    either = api.search_posts_in_team(
        room.team.id, [SearchParams(terms="launch lunch", or_terms=True)]
    )
    assert len(either) == 2
    tagged = api.search_posts_in_team(
        room.team.id, [SearchParams(terms="#release", is_hashtag=True)]
    )
    assert [p.id for p in tagged] == [launch.id]
    by_bob = api.search_posts_in_team(
        room.team.id, [SearchParams(terms="friday", from_users=["bob"])]
    )
    assert [p.user_id for p in by_bob] == [room.bob.id]
    # App.searchPostsInTeam skips a search for "*" alone (post.go@285f792d).
    assert api.search_posts_in_team(room.team.id, [SearchParams(terms="*")]) == []
    with pytest.raises(mp.ValidationError):
        api.search_posts_in_team(room.team.id, [SearchParams(terms="x", on_date="31/01/2026")])
    # App.SearchPostsInTeam checks no team id: the store finds nothing.
    assert api.search_posts_in_team("bad", [SearchParams(terms="friday")]) == []


def test_search_posts_in_team_for_user(api: Any) -> None:
    room = make_room(api)
    say(api, room, room.alice, "deploy the service")
    secret = api.create_channel(
        Channel(team_id=room.team.id, name="secret", display_name="Secret", type="P")
    )
    api.add_channel_member(secret.id, room.alice.id)
    api.create_post(Post(channel_id=secret.id, user_id=room.alice.id, message="deploy secretly"))
    mine = api.search_posts_in_team_for_user(
        room.team.id, room.alice.id, SearchParameter(terms="deploy", per_page=10)
    )
    assert len(mine.post_list.order) == 2
    assert all(list(m.words) == ["deploy"] for m in mine.matches.values())
    theirs = api.search_posts_in_team_for_user(
        room.team.id, room.bob.id, SearchParameter(terms="deploy from:alice")
    )
    assert [theirs.post_list.posts[i].message for i in theirs.post_list.order] == [
        "deploy the service"
    ]
    # No terms: ParseSearchParams keeps no search, so nothing is found.
    nothing = api.search_posts_in_team_for_user(room.team.id, room.bob.id, SearchParameter())
    assert nothing.post_list.order == []
    with pytest.raises(mp.ValidationError):
        api.search_posts_in_team_for_user(
            room.team.id, room.bob.id, SearchParameter(terms="x", per_page=500)
        )
    with pytest.raises(mp.NotFoundError):
        api.search_posts_in_team_for_user(room.team.id, UNKNOWN_ID, SearchParameter(terms="x"))


def test_ephemeral_posts(api: Any) -> None:
    room = make_room(api)
    sent = api.send_ephemeral_post(room.bob.id, Post(channel_id=room.town.id, message="psst"))
    assert sent.type == "system_ephemeral" and len(sent.id) == 26 and sent.create_at > 0
    sent.message = "psst, again"
    updated = api.update_ephemeral_post(room.bob.id, sent)
    assert updated.message == "psst, again" and updated.update_at >= sent.update_at
    api.delete_ephemeral_post(room.bob.id, sent.id)
    with pytest.raises(mp.NotFoundError):
        api.get_post(sent.id)  # never stored
    with pytest.raises(mp.ValidationError):
        api.send_ephemeral_post("bad", Post(channel_id=room.town.id, message="x"))
    with pytest.raises(mp.ValidationError):
        api.update_ephemeral_post(room.bob.id, Post(channel_id=room.town.id, message="no id"))
    with pytest.raises(mp.ValidationError):
        api.delete_ephemeral_post(room.bob.id, "bad")


def test_move_threads(api: Any) -> None:
    room = make_room(api)
    backing = api.create_channel(
        Channel(team_id=room.team.id, name="backing", display_name="Backing", type="P")
    )
    root = say(api, room, room.alice, "move me")
    reply = say(api, room, room.bob, "me too", root.id)
    api.move_threads_to_backing_channel([root.id], backing.id)
    assert api.get_post(reply.id).channel_id == backing.id
    assert api.get_channel(backing.id).total_msg_count == 2
    with pytest.raises(mp.ValidationError):
        api.move_threads_to_backing_channel([reply.id], room.town.id)
    # API.MoveThreadsToBackingChannel's doc (api.go@004340fa): an id that
    # matches no post moves nothing and does not fail; the move is in place.
    api.move_threads_to_backing_channel([UNKNOWN_ID], backing.id)
    assert api.get_post(reply.id).update_at == reply.update_at
