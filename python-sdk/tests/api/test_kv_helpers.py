"""End to end: mattermost_plugin.kv through both clients against the Go server.

JSON round trips, the atomic and expiry options, list_keys over many pages
with a prefix, and update() under contention from threads of two clients
(two clients of one server share the plugin's store, as two nodes do) and
when its bound is hit; the async twins the same.
"""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin import kv
from mattermost_plugin.testing import ReferenceServer


@pytest.fixture
def clients(go_server: ReferenceServer) -> Iterator[tuple[mp.Client, mp.Client]]:
    """Two clients of one server: two nodes sharing one KV store."""
    a = mp.Client(go_server.target, token=go_server.token)
    b = mp.Client(go_server.target, token=go_server.token)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


VALUES: list[Any] = [{"a": [1, 2.5, None], "b": "é✓"}, [], "text", 0, True, 1e300]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_json_round_trip(clients: tuple[mp.Client, mp.Client], value: Any) -> None:
    a, b = clients
    assert kv.set_json(a, "k", value) is True
    assert kv.get_json(b, "k") == value


def test_json_encoding_and_missing_keys(clients: tuple[mp.Client, mp.Client]) -> None:
    api, _ = clients
    kv.set_json(api, "k", {"x": "é", "y": [1]})
    assert api.kv_get("k") == '{"x":"é","y":[1]}'.encode()  # compact, as Go's json.Marshal
    assert kv.get_json(api, "missing") is None
    assert kv.get_json(api, "missing", default={"n": 0}) == {"n": 0}
    api.kv_set("empty", b"")
    assert kv.get_json(api, "empty", default=7) == 7  # as KVService.Get: empty is nothing
    kv.set_json(api, "raw", b"\x00\xff")  # bytes are stored as they are
    assert api.kv_get("raw") == b"\x00\xff"
    kv.set_json(api, "k", None)  # None deletes, as KVService.Set(key, nil)
    assert api.kv_get("k") is None


def test_bad_values_are_refused_before_sending(clients: tuple[mp.Client, mp.Client]) -> None:
    api, _ = clients
    with pytest.raises(TypeError, match=r"set_json\(value\): the value is not JSON-serializable"):
        kv.set_json(api, "k", {1, 2})
    with pytest.raises(ValueError, match="not JSON-serializable"):
        kv.set_json(api, "k", float("nan"))
    with pytest.raises(ValueError, match="old_value needs atomic=True"):
        kv.set_json(api, "k", 1, old_value=0)
    with pytest.raises(TypeError, match="expire_in_seconds"):
        kv.set_json(api, "k", 1, expire_in_seconds=1.5)  # type: ignore[arg-type]
    assert api.kv_get("k") is None
    api.kv_set("bad", b"{not json")
    with pytest.raises(ValueError, match="kv value of 'bad' is not JSON"):
        kv.get_json(api, "bad")
    with pytest.raises(mp.ValidationError):  # the server's key check comes through the SDK
        kv.set_json(api, "x" * 151, 1)


def test_atomic_set(clients: tuple[mp.Client, mp.Client]) -> None:
    a, b = clients
    assert kv.set_json(a, "k", {"v": 1}, atomic=True) is True  # old_value None: must not exist
    assert kv.set_json(b, "k", {"v": 2}, atomic=True) is False
    assert kv.set_json(b, "k", {"v": 2}, atomic=True, old_value={"v": 0}) is False
    assert kv.set_json(b, "k", {"v": 2}, atomic=True, old_value={"v": 1}) is True
    assert kv.get_json(a, "k") == {"v": 2}
    assert kv.set_json(a, "k", None, atomic=True, old_value={"v": 2}) is True  # atomic delete
    assert a.kv_get("k") is None


def test_expiry_is_seen_by_the_other_client(clients: tuple[mp.Client, mp.Client]) -> None:
    a, b = clients
    assert kv.set_json(a, "tmp", "v", expire_in_seconds=1)
    assert kv.get_json(b, "tmp") == "v"
    time.sleep(1.1)
    assert kv.get_json(b, "tmp", default="gone") == "gone"


def test_list_keys_pages_through_everything_with_a_prefix(
    clients: tuple[mp.Client, mp.Client],
) -> None:
    api, _ = clients
    wanted = [f"job:{i:03}" for i in range(23)]
    for key in [*wanted, "a", "jobs", "job", "zzz", *(f"other{i}" for i in range(10))]:
        api.kv_set(key, b"1")
    assert list(kv.list_keys(api, prefix="job:", per_page=4)) == wanted
    every = list(kv.list_keys(api, per_page=5))
    assert len(every) == 37 and every == sorted(every)
    assert list(kv.list_keys(api, prefix="none")) == []
    with pytest.raises(ValueError, match=r"list_keys\(per_page\) must be a positive int"):
        next(kv.list_keys(api, per_page=0))


def test_update_increments_exactly_under_contention(clients: tuple[mp.Client, mp.Client]) -> None:
    """4 threads on each of 2 clients, 100 increments each: exactly 800."""
    errors: list[BaseException] = []

    def worker(api: mp.Client) -> None:
        try:
            for _ in range(100):
                kv.update(api, "count", lambda n: (n or 0) + 1)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert kv.get_json(clients[0], "count") == 800


def test_update_results_and_deletes(clients: tuple[mp.Client, mp.Client]) -> None:
    api, _ = clients
    assert kv.update(api, "doc", lambda d: {**d, "n": 1}, default={}) == {"n": 1}
    assert kv.update(api, "doc", lambda d: {**d, "m": 2}) == {"n": 1, "m": 2}
    assert kv.update(api, "doc", lambda d: None) is None
    assert api.kv_get("doc") is None
    assert kv.update(api, "doc", lambda d: None) is None  # deleting nothing writes nothing

    def fails(_: Any) -> Any:
        raise KeyError("fn's own error")

    with pytest.raises(KeyError, match="fn's own error"):
        kv.update(api, "doc", fails)
    assert api.kv_get("doc") is None
    with pytest.raises(ValueError, match="max_attempts"):
        kv.update(api, "doc", lambda d: 1, max_attempts=0)


def test_update_gives_up_at_its_bound(clients: tuple[mp.Client, mp.Client]) -> None:
    a, b = clients
    calls = 0

    def racing(n: Any) -> Any:
        # Another node changes the key between this round's read and write.
        nonlocal calls
        calls += 1
        b.kv_set("hot", str(1000 + calls).encode())
        return (n or 0) + 1

    with pytest.raises(kv.UpdateConflictError) as caught:
        kv.update(a, "hot", racing, max_attempts=3)
    err = caught.value
    assert calls == 3 and err.attempts == 3 and err.key == "hot"
    assert isinstance(err, mp.AbortedError) and err.code.name == "ABORTED"
    assert (
        str(err) == "ABORTED: update('hot') gave up after 3 attempts: the value changed every time"
    )
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), copy.key, copy.attempts, str(copy)) == (type(err), "hot", 3, str(err))
    assert "\n" not in repr(err)


# The async twins, on AsyncClient.


async def test_async_twins(go_server: ReferenceServer) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token) as api:
        assert await kv.set_json_async(api, "k", {"v": [1]}, atomic=True) is True
        assert await kv.set_json_async(api, "k", {"v": 2}, atomic=True) is False
        assert await kv.get_json_async(api, "k") == {"v": [1]}
        assert await kv.get_json_async(api, "nope", default=3) == 3
        for i in range(11):
            await api.kv_set(f"p{i:02}", b"x")
        keys = [k async for k in kv.list_keys_async(api, prefix="p", per_page=3)]
        assert keys == [f"p{i:02}" for i in range(11)]
        assert await kv.update_async(api, "n", lambda n: (n or 0) + 1) == 1
        with pytest.raises(TypeError, match="set_json_async"):
            await kv.set_json_async(api, "k", object())
        with pytest.raises(ValueError, match=r"list_keys_async\(per_page\)"):
            await kv.list_keys_async(api, per_page=-1).__anext__()


async def test_async_update_under_contention_and_its_bound(go_server: ReferenceServer) -> None:
    async with (
        mp.AsyncClient(go_server.target, token=go_server.token) as a,
        mp.AsyncClient(go_server.target, token=go_server.token) as b,
    ):

        async def worker(api: mp.AsyncClient) -> None:
            for _ in range(50):
                await kv.update_async(api, "count", lambda n: (n or 0) + 1)

        await asyncio.gather(*(worker(c) for c in (a, b) for _ in range(4)))
        assert await kv.get_json_async(a, "count") == 400

        rounds = 0

        def racing(n: Any) -> Any:
            nonlocal rounds
            rounds += 1
            return (n or 0) + 1

        # Each read is followed by another client's write before the CAS.
        original = a.kv_get

        async def raced_get(key: str, **kw: Any) -> bytes | None:
            value = await original(key, **kw)
            await b.kv_set(key, str(time.monotonic()).encode())
            return value

        a.kv_get = raced_get  # type: ignore[method-assign]
        with pytest.raises(kv.UpdateConflictError, match="gave up after 4 attempts"):
            await kv.update_async(a, "hot", racing, max_attempts=4)
        assert rounds == 4
