"""End to end: the key-value store, through both clients against the Go server.

The plugin's own keys: set, get, delete and list, expiry, compare-and-set
and compare-and-delete, the atomic options, the key and paging checks, and
values up to and over the message limit.
"""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import PluginKVSetOptions


def test_kv_set_get_delete_list(api: Any) -> None:
    assert api.kv_get("k") is None
    api.kv_set("k", b"v1")
    assert api.kv_get("k") == b"v1"
    api.kv_set("empty", b"")
    assert api.kv_get("empty") == b""
    api.kv_set("k", None)
    assert api.kv_get("k") is None
    for key in ("c", "a", "b"):
        api.kv_set(key, b"x")
    assert api.kv_list(0, 2) == ["a", "b"]
    assert api.kv_list(1, 2) == ["c", "empty"]
    assert api.kv_list(5, 2) == []
    api.kv_delete("a")
    api.kv_delete("a")
    assert api.kv_list(0, 10) == ["b", "c", "empty"]
    api.kv_delete_all()
    assert api.kv_list(0, 10) == []


def test_kv_expiry(api: Any) -> None:
    api.kv_set_with_expiry("short", b"v", 1)
    api.kv_set_with_expiry("forever", b"v", 0)
    assert api.kv_get("short") == b"v"
    time.sleep(1.2)
    assert api.kv_get("short") is None
    assert api.kv_list(0, 10) == ["forever"]


def test_kv_compare_and_set_and_delete(api: Any) -> None:
    assert api.kv_compare_and_set("k", None, b"1") is True
    assert api.kv_compare_and_set("k", None, b"2") is False
    assert api.kv_compare_and_set("k", b"1", b"2") is True
    assert api.kv_compare_and_set("k", b"1", b"3") is False
    assert api.kv_get("k") == b"2"
    assert api.kv_compare_and_delete("k", b"1") is False
    assert api.kv_compare_and_delete("k", None) is False
    assert api.kv_compare_and_delete("k", b"2") is True
    assert api.kv_get("k") is None


def test_kv_set_with_options(api: Any) -> None:
    assert api.kv_set_with_options("lock", b"a", PluginKVSetOptions(atomic=True)) is True
    assert api.kv_set_with_options("lock", b"b", PluginKVSetOptions(atomic=True)) is False
    options = PluginKVSetOptions(atomic=True, old_value=b"a", expire_in_seconds=60)
    assert api.kv_set_with_options("lock", b"c", options) is True
    assert api.kv_get("lock") == b"c"
    with pytest.raises(mp.ValidationError) as caught:
        api.kv_set_with_options("lock", b"d", PluginKVSetOptions(old_value=b"c"))
    assert caught.value.error_id == "model.plugin_kvset_options.is_valid.old_value.app_error"
    assert api.kv_get("lock") == b"c"


@pytest.mark.parametrize("key", ["", "k" * 151])
def test_kv_invalid_key(api: Any, key: str) -> None:
    with pytest.raises(mp.ValidationError) as caught:
        api.kv_set(key, b"v")
    assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.status_code == 400
    assert caught.value.where == "KVSet"
    assert api.kv_list(0, 10) == []
    # Upstream's KVGet and KVDelete validate no key: the store's Get finds
    # nothing and PlatformService.DeletePluginKey deletes nothing
    # (server/channels/app/platform/cluster.go@b1683404:PlatformService.DeletePluginKey,
    # server/channels/store/sqlstore/plugin_store.go@86b60aad:SqlPluginStore.Get).
    assert api.kv_get(key) is None
    api.kv_delete(key)
    with pytest.raises(mp.ValidationError):
        api.kv_set_with_expiry(key, b"v", 10)
    with pytest.raises(mp.ValidationError):
        api.kv_compare_and_set(key, b"old", b"new")
    with pytest.raises(mp.ValidationError):
        api.kv_compare_and_delete(key, b"old")
    with pytest.raises(mp.ValidationError):
        api.kv_set_with_options(key, b"v", PluginKVSetOptions(atomic=True, old_value=b"v"))


def test_kv_invalid_paging(api: Any) -> None:
    with pytest.raises(mp.ValidationError):
        api.kv_list(-1, 10)


def test_large_value_round_trip(api: Any) -> None:
    big = bytes(range(256)) * (20 * 1024 * 1024 // 256)
    api.kv_set("big", big)
    assert api.kv_get("big") == big


def test_value_over_the_limit(api: Any) -> None:
    with pytest.raises(mp.ResourceExhaustedError):
        api.kv_set("huge", b"x" * (65 * 1024 * 1024))
    assert api.kv_get("huge") is None
