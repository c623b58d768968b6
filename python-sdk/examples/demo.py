"""A tour of the Plugin API from Python, with both clients.

Run it with `make demo`, which starts a reference server and sets
MATTERMOST_PLUGIN_API_TARGET and MATTERMOST_PLUGIN_API_TOKEN, as Mattermost
does for the plugins it starts.
"""

from __future__ import annotations

import asyncio

from mattermost_plugin import AsyncClient, Client, NotFoundError, ValidationError
from mattermost_plugin.models import PluginKVSetOptions, User, UserGetOptions


def sync_tour() -> None:
    """Use the blocking client, as a plugin's hook handlers would."""
    print("-- sync Client")
    with Client() as api:
        print(f"server version: {api.get_server_version()}")

        api.kv_set("greeting", b"hello")
        print(f"kv_get('greeting') = {api.kv_get('greeting')!r}")
        print(f"kv_get('absent') = {api.kv_get('absent')!r}")
        swapped = api.kv_compare_and_set("greeting", b"hello", b"hello, world")
        print(f"compare-and-set hello -> 'hello, world': {swapped}")
        stale = api.kv_compare_and_set("greeting", b"hello", b"too late")
        print(f"compare-and-set with a stale old value: {stale}")
        created = api.kv_set_with_options("lock", b"me", PluginKVSetOptions(atomic=True))
        print(f"create-if-absent 'lock': {created}")
        api.kv_set_with_expiry("session", b"token", 3600)
        print(f"keys: {api.kv_list(0, 10)}")

        alice = api.create_user(
            User(username="alice", email="alice@example.com", password="s3cret-pw")
        )
        print(f"created user {alice.username} with id {alice.id} ({len(alice.id)} characters)")
        api.create_user(User(username="bob", email="bob@example.com", password="s3cret-pw"))
        found = api.get_user_by_email("ALICE@example.com")
        print(f"get_user_by_email('ALICE@example.com') -> {found.username}")
        alice.nickname = "Al"
        print(f"updated nickname: {api.update_user(alice).nickname}")
        api.delete_user(alice.id)
        active = api.get_users(UserGetOptions(active=True, per_page=10))
        print(f"active users after deleting alice: {[u.username for u in active]}")

        try:
            api.get_user_by_username("nobody")
        except NotFoundError as error:
            print(f"NotFoundError: {error.message} (id {error.error_id}, HTTP {error.status_code})")
        try:
            api.kv_set("", b"no key")
        except ValidationError as error:
            print(f"ValidationError: {error.message} (id {error.error_id})")

        api.log_info("demo finished its sync tour", {"users": str(len(active))})


async def async_tour() -> None:
    """Use the asyncio client, with calls in flight at once."""
    print("-- async AsyncClient")
    async with AsyncClient() as api:
        values = await asyncio.gather(*(api.kv_get(key) for key in ("greeting", "lock", "absent")))
        print(f"three concurrent kv_get calls: {values}")
        users = await api.get_users_by_usernames(["alice", "bob", "carol"])
        print(f"get_users_by_usernames: {sorted(u.username for u in users)}")
        await api.kv_delete_all()
        print(f"keys after kv_delete_all: {await api.kv_list(0, 10)}")
        await api.log_warn("demo finished its async tour")


if __name__ == "__main__":
    sync_tour()
    asyncio.run(async_tour())
