"""End to end: the users area beyond the account basics of test_e2e.py.

Listings by team and channel, search, statuses, custom statuses, profile
images, auth bindings and system roles, through both clients, and the
failure paths of the account methods.
"""

from __future__ import annotations

import json
import struct
import time
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import (
    CustomStatus,
    Session,
    Team,
    User,
    UserAuth,
    UserGetOptions,
    UserSearch,
)

from conftest import new_user, png

UNKNOWN_ID = "a" * 26


def team_of(api: Any, *users: User) -> Team:
    team = api.create_team(Team(name="core", display_name="Core", type="O"))
    api.create_team_members(team.id, [u.id for u in users], "")
    return team  # type: ignore[no-any-return]


def test_account_method_failures(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    with pytest.raises(mp.ValidationError):
        api.create_user(User(username="alice", email="other@example.com", password="passw0rd!"))
    with pytest.raises(mp.NotFoundError):
        api.delete_user(UNKNOWN_ID)
    with pytest.raises(mp.ValidationError):
        api.get_users(UserGetOptions(page=-1, per_page=10))
    # Unknown ids and names are skipped, as upstream skips them.
    assert api.get_users_by_ids([UNKNOWN_ID, alice.id]) == [api.get_user(alice.id)]
    with pytest.raises(mp.NotFoundError):
        api.get_user(UNKNOWN_ID)
    with pytest.raises(mp.NotFoundError):
        api.get_user_by_email("nobody@example.com")
    with pytest.raises(mp.NotFoundError):
        api.get_user_by_username("nobody")
    assert api.get_users_by_usernames(["nobody"]) == []
    alice.email = "not-an-email"
    with pytest.raises(mp.ValidationError):
        api.update_user(alice)


def test_get_users_reads_only_roles_and_activity(api: Any) -> None:
    alice, bob, carol = (api.create_user(new_user(n)) for n in ("alice", "bob", "carol"))
    team = team_of(api, alice, bob)
    api.update_user_active(bob.id, False)
    # PluginAPI.GetUsers goes to SqlUserStore.GetAllProfiles
    # (user_store.go@c3394c53): by username, team filters and sort unread.
    names = [u.username for u in api.get_users(UserGetOptions(in_team_id=team.id, per_page=10))]
    assert names == ["alice", "bob", "carol"]
    both = api.get_users(UserGetOptions(active=True, inactive=True, sort="age", per_page=10))
    assert [u.username for u in both] == ["bob"]
    assert [u.id for u in api.get_users(UserGetOptions(active=True, per_page=10))] == [
        alice.id,
        carol.id,
    ]
    with pytest.raises(mp.ValidationError):
        api.get_users(UserGetOptions(page=-1, per_page=10))


def test_users_in_team(api: Any) -> None:
    alice, bob = api.create_user(new_user("bob")), api.create_user(new_user("alice"))
    team = team_of(api, alice, bob)
    assert [u.username for u in api.get_users_in_team(team.id, 0, 10)] == ["alice", "bob"]
    assert [u.username for u in api.get_users_in_team(team.id, 1, 1)] == ["bob"]
    assert all(u.password == "" for u in api.get_users_in_team(team.id, 0, 10))
    # App.GetUsersInTeam looks no team up: a malformed id has no members.
    assert api.get_users_in_team("bad", 0, 10) == []
    with pytest.raises(mp.ValidationError):
        api.get_users_in_team(team.id, -1, 10)


def test_users_in_channel(api: Any) -> None:
    alice, bob = api.create_user(new_user("alice")), api.create_user(new_user("bob"))
    team = team_of(api, alice, bob)
    town = api.get_channel_by_name(team.id, "town-square", False)
    api.update_user_status(bob.id, "online")
    api.update_user_status(alice.id, "away")
    assert [u.username for u in api.get_users_in_channel(town.id, "username", 0, 10)] == [
        "alice",
        "bob",
    ]
    assert [u.username for u in api.get_users_in_channel(town.id, "status", 0, 10)] == [
        "bob",
        "alice",
    ]
    with pytest.raises(mp.ValidationError) as sort:
        api.get_users_in_channel(town.id, "age", 0, 10)
    assert sort.value.error_id == "plugin.api.get_users_in_channel"
    # The store query of App.GetUsersInChannel looks no channel up.
    assert api.get_users_in_channel(UNKNOWN_ID, "username", 0, 10) == []


def test_statuses(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    with pytest.raises(mp.NotFoundError):
        api.get_user_status(alice.id)
    status = api.update_user_status(alice.id, "dnd")
    assert (status.status, status.manual) == ("dnd", True)
    assert api.get_user_status(alice.id) == status
    statuses = api.get_user_statuses_by_ids([alice.id, UNKNOWN_ID])
    assert [(s.user_id, s.status) for s in statuses] == [(alice.id, "dnd"), (UNKNOWN_ID, "offline")]
    with pytest.raises(mp.ValidationError):
        api.update_user_status(alice.id, "asleep")
    with pytest.raises(mp.NotFoundError):
        api.update_user_status(UNKNOWN_ID, "online")
    # PlatformService.GetUserStatusesByIds reports any id without a status offline.
    assert [(s.user_id, s.status) for s in api.get_user_statuses_by_ids(["bad"])] == [
        ("bad", "offline")
    ]
    online = api.update_user_status(alice.id, "online")
    assert (online.status, online.manual) == ("online", False)


def test_timed_dnd(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    end = int(time.time()) + 3600
    status = api.set_user_status_timed_dnd(alice.id, end)
    # SetStatusDoNotDisturbTimed truncates the end to the minute and checks no time.
    assert (status.status, status.dnd_end_time) == ("dnd", end - end % 60)
    past = api.set_user_status_timed_dnd(alice.id, 1_000_000_059)
    assert past.dnd_end_time == 1_000_000_020
    with pytest.raises(mp.NotFoundError):
        api.set_user_status_timed_dnd(UNKNOWN_ID, end)


def test_update_user_active(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    api.update_user_active(alice.id, False)
    assert api.get_user(alice.id).delete_at > 0
    api.update_user_active(alice.id, True)
    assert api.get_user(alice.id).delete_at == 0
    with pytest.raises(mp.NotFoundError):
        api.update_user_active(UNKNOWN_ID, False)


def test_deactivation_revokes_sessions_and_sets_offline(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    session = api.create_session(Session(user_id=alice.id))
    api.update_user_status(alice.id, "online")
    # App.UpdateActive (user.go@83b7daaf): RevokeAllSessions, then
    # userDeactivated sets a status offline that was not set by hand.
    api.delete_user(alice.id)
    with pytest.raises(mp.ValidationError):
        api.get_session(session.id)
    assert api.get_user_status(alice.id).status == "offline"


def test_custom_status(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    api.update_user_custom_status(alice.id, CustomStatus(text="In a meeting", duration="one_hour"))
    stored = json.loads(api.get_user(alice.id).props["customStatus"])
    # App.SetCustomStatus (status.go@894b4f90) defaults nothing: the default
    # emoji, the text limit and the durations are the REST handler's.
    assert stored == {
        "emoji": "",
        "text": "In a meeting",
        "duration": "one_hour",
        "expires_at": "0001-01-01T00:00:00Z",
    }
    api.update_user_custom_status(alice.id, CustomStatus(text="x" * 101, duration="date_and_time"))
    with pytest.raises(mp.ValidationError) as empty:
        api.update_user_custom_status(alice.id, CustomStatus(duration="one_hour"))
    assert empty.value.error_id == "api.custom_status.set_custom_statuses.update.app_error"
    # App.addRecentCustomStatus keeps the latest first.
    recent = api.get_preference_for_user(alice.id, "custom_status", "recent_custom_statuses")
    assert [s["text"] for s in json.loads(recent.value)] == ["x" * 101, "In a meeting"]
    # User.ClearCustomStatus (model/user.go@14e5a8a3) empties the prop
    # rather than removing it.
    api.remove_user_custom_status(alice.id)
    assert api.get_user(alice.id).props["customStatus"] == ""
    with pytest.raises(mp.NotFoundError):
        api.remove_user_custom_status(UNKNOWN_ID)


def test_create_and_update_follow_the_app_layer(api: Any) -> None:
    # UserService.CreateUser (users/users.go@04165fd3) sets the roles: the
    # first user who is not a bot is the system admin; a locale with no
    # translation becomes the default client locale.
    first = api.create_user(
        User(username="ada", email="ada@example.com", password="passw0rd!", roles="system_guest")
    )
    assert first.roles == "system_admin system_user"
    bob = api.create_user(
        User(
            username="bob",
            email="bob@example.com",
            password="passw0rd!",
            roles="system_admin",
            locale="xx",
        )
    )
    assert (bob.roles, bob.locale) == ("system_user", "en")
    # SqlUserStore.Update (user_store.go@c3394c53): an OAuth user keeps the
    # email, an LDAP user may not change it, a rename leaves the mention keys.
    api.update_user_auth(bob.id, UserAuth(auth_service="gitlab", auth_data="bob"))
    bob = api.get_user(bob.id)
    bob.email, bob.nickname = "bobby@example.com", "B"
    bob = api.update_user(bob)
    assert (bob.email, bob.nickname) == ("bob@example.com", "B")
    api.update_user_auth(bob.id, UserAuth(auth_service="ldap", auth_data="bob"))
    bob = api.get_user(bob.id)
    bob.username = "robert"
    with pytest.raises(mp.ValidationError) as ldap:
        api.update_user(bob)
    assert ldap.value.error_id == "app.user.update.find.app_error"
    first.notify_props["mention_keys"] = "ada,@ada,Lovelace"
    first = api.update_user(first)
    first.username = "countess"
    assert api.update_user(first).notify_props["mention_keys"] == ",lovelace"


def test_create_and_update_sanitize_unicode(api: Any) -> None:
    # User.PreSave and User.PreUpdate (model/user.go@14e5a8a3) run
    # model.SanitizeUnicode (model/utils.go@033bd0c6) over the username,
    # names and nickname (and, on update, the bot description): a
    # right-to-left override or a byte order mark is dropped; the position
    # is kept as given.
    rlo, bom = "\u202e", "\ufeff"
    ada = api.create_user(
        User(
            username="A" + rlo + "da",
            email="ada@example.com",
            password="passw0rd!",
            first_name="Ada" + rlo,
            last_name=bom + "Lovelace",
            nickname="the" + rlo + "countess",
            position="Analyst" + rlo,
        )
    )
    assert (ada.username, ada.first_name, ada.last_name, ada.nickname, ada.position) == (
        "ada",
        "Ada",
        "Lovelace",
        "thecountess",
        "Analyst" + rlo,
    )
    ada.nickname, ada.last_name = bom + "Ada", "King" + rlo
    ada = api.update_user(ada)
    assert (ada.nickname, ada.last_name) == ("Ada", "King")


def test_ldap_is_off(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    with pytest.raises(mp.UnimplementedError) as off:
        api.get_ldap_user_attributes(alice.id, ["cn"])
    assert off.value.error_id == "ent.ldap.disabled.app_error"


def test_search_users(api: Any) -> None:
    alice = api.create_user(
        User(username="alice", email="a@example.com", password="passw0rd!", first_name="Zed")
    )
    bob = api.create_user(new_user("bob"))
    api.create_user(new_user("albert"))
    team = team_of(api, alice, bob)
    # App.SearchUsers on the plugin path (user_store.go@c3394c53): every word
    # a substring of the username or nickname, by username, at most limit.
    assert [u.username for u in api.search_users(UserSearch(term="l", limit=10))] == [
        "albert",
        "alice",
    ]
    assert [u.username for u in api.search_users(UserSearch(term="@LI", limit=10))] == ["alice"]
    assert api.search_users(UserSearch(term="zed", limit=10)) == []
    assert [
        u.username for u in api.search_users(UserSearch(term="al", team_id=team.id, limit=10))
    ] == ["alice"]
    assert len(api.search_users(UserSearch(term="", limit=2))) == 2
    assert api.search_users(UserSearch(term="a")) == []
    assert len(api.search_users(UserSearch(term="", limit=5000))) == 3
    with pytest.raises(mp.ValidationError):
        api.search_users(UserSearch(term="a", limit=-1))


def test_profile_image(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    default = api.get_profile_image(alice.id)
    assert default[:8] == b"\x89PNG\r\n\x1a\n"
    api.set_profile_image(alice.id, png(64, 256))
    image = api.get_profile_image(alice.id)
    assert image != default and struct.unpack(">II", image[16:24]) == (128, 128)
    assert api.get_user(alice.id).last_picture_update > 0
    with pytest.raises(mp.ValidationError):
        api.set_profile_image(alice.id, b"GIF89a garbage")
    with pytest.raises(mp.NotFoundError):
        api.get_profile_image(UNKNOWN_ID)


def test_update_user_auth(api: Any) -> None:
    alice, bob = api.create_user(new_user("alice")), api.create_user(new_user("bob"))
    auth = api.update_user_auth(alice.id, UserAuth(auth_service="gitlab", auth_data="42"))
    assert (auth.auth_service, auth.auth_data) == ("gitlab", "42")
    assert api.get_user(alice.id).auth_service == "gitlab"
    # SqlUserStore.UpdateAuthData (user_store.go@c3394c53): the unique key on
    # AuthData, whatever the service; an UPDATE by id that matches nobody.
    with pytest.raises(mp.ValidationError) as taken:
        api.update_user_auth(bob.id, UserAuth(auth_service="saml", auth_data="42"))
    assert taken.value.error_id == "app.user.update_auth_data.email_exists.app_error"
    ghost = api.update_user_auth(UNKNOWN_ID, UserAuth(auth_service="gitlab", auth_data="7"))
    assert ghost.auth_data == "7"


def test_update_user_roles(api: Any) -> None:
    alice = api.create_user(new_user("alice"))
    user = api.update_user_roles(alice.id, "system_user system_admin")
    assert user.roles == "system_user system_admin"
    with pytest.raises(mp.ValidationError) as unknown:
        api.update_user_roles(alice.id, "system_user overlord")
    assert unknown.value.error_id == "app.role.check_roles_exist.role_not_found"
    # App.UpdateUserRoles looks the user up first and answers its miss with a 400.
    with pytest.raises(mp.ValidationError) as missing:
        api.update_user_roles(UNKNOWN_ID, "overlord")
    assert missing.value.error_id == "app.user.missing_account.const"
    # App.UpdateUserRolesWithUser keeps the last active system admin.
    with pytest.raises(mp.ValidationError) as last:
        api.update_user_roles(alice.id, "system_user")
    assert last.value.error_id == "app.user.update.lastAdmin.app_error"


@pytest.mark.parametrize(
    ("lookup", "key", "error_id"),
    [
        ("get_user", "short", "app.user.missing_account.const"),
        ("get_user_by_email", "", "app.user.missing_account.const"),
        ("get_user_by_email", " gina@example.com", "app.user.missing_account.const"),
        ("get_user_by_username", "nobody", "app.user.get_by_username.app_error"),
        ("get_user_by_username", "", "app.user.get_by_username.app_error"),
        ("get_user_by_username", "gina ", "app.user.get_by_username.app_error"),
    ],
)
def test_user_lookup_misses_follow_the_app_layer(
    api: Any, lookup: str, key: str, error_id: str
) -> None:
    """A miss is the app layer's 404 (App.GetUser, GetUserByEmail,
    GetUserByUsername, server/channels/app/user.go@83b7daaffe3eb7318b7d86f2bafc6ac59c46c8d1),
    never the REST handler's invalid parameter: the user store matches
    "Email = lower(?)" and "Username = lower(?)", so case is ignored and
    spaces are not
    (server/channels/store/sqlstore/user_store.go@c3394c53460317bda6b3fe124dae970e206b5a4e).
    """
    api.create_user(new_user("gina"))
    assert api.get_user_by_username("GINA").username == "gina"
    with pytest.raises(mp.NotFoundError) as missed:
        getattr(api, lookup)(key)
    assert missed.value.error_id == error_id
