"""JSON values, key listing and safe updates on the plugin's key-value store.

The helpers follow Mattermost's Go ``pluginapi.KVService`` (read at
``server/public/pluginapi/kv.go@144b25614716dd8b374e038d746ba958237658b0``):
values are JSON unless given as ``bytes``, a missing key reads as nothing
(``KVService.Get``), ``None`` deletes (``KVService.Set``), and
:func:`update` is ``KVService.SetAtomicWithRetries``: read, compute,
compare-and-set, retry. Each works on a :class:`~mattermost_plugin.Client`;
the ``*_async`` twins take an :class:`~mattermost_plugin.AsyncClient` and
are awaited (:func:`list_keys_async` is iterated with ``async for``)::

    count = kv.update(self.api, "count", lambda n: (n or 0) + 1)
    count = await kv.update_async(self.api, "count", lambda n: (n or 0) + 1)

Every key of a plugin lives in one store that all nodes of a cluster share,
so :func:`update` is the way to change a value that another node may be
changing at the same moment; a plain read then :func:`set_json` loses one
of two concurrent writes. Failed calls raise the client's
:class:`~mattermost_plugin.PluginAPIError` subclasses.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import models
from .exceptions import AbortedError

if TYPE_CHECKING:
    from ._async_client import AsyncClient
    from ._client import Client

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_PER_PAGE",
    "UpdateConflictError",
    "get_json",
    "get_json_async",
    "list_keys",
    "list_keys_async",
    "set_json",
    "set_json_async",
    "update",
    "update_async",
]

#: How many compare-and-set rounds :func:`update` tries before it gives up.
#: Upstream's SetAtomicWithRetries tries 5 times; this SDK backs off with
#: jitter between rounds and tries longer, so that a key that several
#: nodes' workers increment at once still converges.
DEFAULT_MAX_ATTEMPTS = 64

#: The page size :func:`list_keys` asks the server for.
DEFAULT_PER_PAGE = 1000

#: The first and the longest pause between two rounds of :func:`update`, in
#: seconds; each pause is drawn at random up to a bound that doubles.
_FIRST_BACKOFF = 0.002
_MAX_BACKOFF = 0.1


class UpdateConflictError(AbortedError):
    """:func:`update` gave up: the key changed under it on every attempt.

    It is an :class:`~mattermost_plugin.AbortedError` (code ABORTED: a
    concurrency conflict the caller may retry later). It pickles and prints
    on one line.

    Attributes:
        key: The key that kept changing.
        attempts: How many compare-and-set rounds were tried.
    """

    def __init__(self, message: str, *, key: str = "", attempts: int = 0) -> None:
        super().__init__(message)
        self.key = key
        self.attempts = attempts


def _encode(where: str, value: Any) -> bytes | None:  # noqa: ANN401 - a JSON value
    """The bytes stored for value: itself if bytes, None if None, else compact JSON."""
    if value is None or isinstance(value, bytes):
        return value
    try:
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: the value is not JSON-serializable: {err}") from err


def _decode(key: str, data: bytes | None, default: Any) -> Any:  # noqa: ANN401 - a JSON value
    """The JSON value of data; default for a missing or empty value (as KVService.Get)."""
    if not data:
        return default
    try:
        return json.loads(data)
    except ValueError as err:
        raise ValueError(f"kv value of {key!r} is not JSON: {err}") from err


def _set_options(
    where: str,
    atomic: bool,
    old_value: Any,  # noqa: ANN401 - a JSON value
    expire_in_seconds: int,
) -> models.PluginKVSetOptions:
    if not isinstance(atomic, bool):
        raise TypeError(f"{where}(atomic) must be a bool, not {type(atomic).__name__}")
    if not isinstance(expire_in_seconds, int) or isinstance(expire_in_seconds, bool):
        raise TypeError(f"{where}(expire_in_seconds) must be an int")
    if old_value is not None and not atomic:
        raise ValueError(f"{where}: old_value needs atomic=True")
    return models.PluginKVSetOptions(
        atomic=atomic,
        old_value=_encode(f"{where}(old_value)", old_value),
        expire_in_seconds=expire_in_seconds,
    )


def _check_paging(where: str, prefix: str, per_page: int) -> None:
    if not isinstance(prefix, str):
        raise TypeError(f"{where}(prefix) must be a str, not {type(prefix).__name__}")
    if not isinstance(per_page, int) or isinstance(per_page, bool) or per_page < 1:
        raise ValueError(f"{where}(per_page) must be a positive int, not {per_page!r}")


def _check_attempts(where: str, max_attempts: int) -> None:
    if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
        raise ValueError(f"{where}(max_attempts) must be a positive int, not {max_attempts!r}")


def _backoff(attempt: int) -> float:
    """A random pause after the attempt-th failed round ("full jitter")."""
    return random.uniform(0, min(_MAX_BACKOFF, _FIRST_BACKOFF * 2**attempt))


def _conflict(key: str, attempts: int) -> UpdateConflictError:
    return UpdateConflictError(
        f"update({key!r}) gave up after {attempts} attempts: the value changed every time",
        key=key,
        attempts=attempts,
    )


def get_json(api: Client, key: str, default: Any = None) -> Any:  # noqa: ANN401 - a JSON value
    """Read a key's JSON value.

    Args:
        api: The client, such as a plugin's ``self.api``.
        key: The key.
        default: What a missing (or expired, or empty) key reads as.

    Returns:
        The decoded value, or default.

    Raises:
        ValueError: The stored value is not JSON.
        PluginAPIError: The call failed.
    """
    return _decode(key, api.kv_get(key), default)


async def get_json_async(api: AsyncClient, key: str, default: Any = None) -> Any:  # noqa: ANN401 - a JSON value
    """:func:`get_json` on an :class:`~mattermost_plugin.AsyncClient`."""
    return _decode(key, await api.kv_get(key), default)


def set_json(
    api: Client,
    key: str,
    value: Any,  # noqa: ANN401 - a JSON value
    *,
    atomic: bool = False,
    old_value: Any = None,  # noqa: ANN401 - a JSON value
    expire_in_seconds: int = 0,
) -> bool:
    """Store a value as JSON (``bytes`` are stored as they are; ``None`` deletes the key).

    Args:
        api: The client, such as a plugin's ``self.api``.
        key: The key: 1 to 150 characters.
        value: A JSON-serializable value, raw ``bytes``, or ``None`` to delete the key.
        atomic: Write only if the current value is old_value (``KVService.Set``
            with ``SetAtomic``).
        old_value: With atomic, the expected current value, encoded as value
            is and compared byte for byte; ``None`` means the key must not exist.
        expire_in_seconds: Seconds until the key expires; 0 means never
            (``SetExpiry``).

    Returns:
        True if the value was written; False only when an atomic write
        found another current value.

    Raises:
        TypeError, ValueError: A value is not JSON-serializable, or an
            option is invalid; nothing was sent.
        PluginAPIError: The call failed.
    """
    options = _set_options("set_json", atomic, old_value, expire_in_seconds)
    return api.kv_set_with_options(key, _encode("set_json(value)", value), options)


async def set_json_async(
    api: AsyncClient,
    key: str,
    value: Any,  # noqa: ANN401 - a JSON value
    *,
    atomic: bool = False,
    old_value: Any = None,  # noqa: ANN401 - a JSON value
    expire_in_seconds: int = 0,
) -> bool:
    """:func:`set_json` on an :class:`~mattermost_plugin.AsyncClient`."""
    options = _set_options("set_json_async", atomic, old_value, expire_in_seconds)
    return await api.kv_set_with_options(key, _encode("set_json_async(value)", value), options)


def list_keys(api: Client, *, prefix: str = "", per_page: int = DEFAULT_PER_PAGE) -> Iterator[str]:
    """Iterate over every key of the plugin that starts with prefix, page by page.

    Pages are fetched as the iteration needs them (``KVService.ListKeys``
    with ``WithPrefix``; the prefix is applied here, as this contract's
    KVList has none). Keys come sorted. A key added or deleted during the
    iteration may shift the pages, so it may be missed or seen twice.

    Args:
        api: The client, such as a plugin's ``self.api``.
        prefix: Only keys that start with it.
        per_page: How many keys to fetch per call.

    Raises:
        TypeError, ValueError: prefix or per_page is invalid (on the first ``next``).
        PluginAPIError: A call failed.
    """
    _check_paging("list_keys", prefix, per_page)
    page = 0
    while True:
        keys = api.kv_list(page, per_page)
        yield from (key for key in keys if key.startswith(prefix))
        if len(keys) < per_page:
            return
        page += 1


async def list_keys_async(
    api: AsyncClient, *, prefix: str = "", per_page: int = DEFAULT_PER_PAGE
) -> AsyncIterator[str]:
    """:func:`list_keys` on an :class:`~mattermost_plugin.AsyncClient`, for ``async for``."""
    _check_paging("list_keys_async", prefix, per_page)
    page = 0
    while True:
        keys = await api.kv_list(page, per_page)
        for key in keys:
            if key.startswith(prefix):
                yield key
        if len(keys) < per_page:
            return
        page += 1


def update(
    api: Client,
    key: str,
    fn: Callable[[Any], Any],
    *,
    default: Any = None,  # noqa: ANN401 - a JSON value
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Any:  # noqa: ANN401 - a JSON value
    """Change a key's value with fn, safely against concurrent writers anywhere in the cluster.

    Each round reads the value, calls ``fn(current)`` and writes the
    result only if the stored bytes are still the ones read (an atomic
    set); when another writer got there first it pauses a random moment
    and tries again (``KVService.SetAtomicWithRetries``). fn may therefore
    run more than once and must have no side effects. A result of ``None``
    deletes the key.

    Args:
        api: The client, such as a plugin's ``self.api``.
        key: The key: 1 to 150 characters.
        fn: Given the current value (default when the key is missing),
            returns the new one: JSON-serializable, ``bytes``, or ``None``.
        default: What fn is given for a missing key.
        max_attempts: How many rounds to try.

    Returns:
        The value fn returned in the round that was written.

    Raises:
        UpdateConflictError: Every one of max_attempts rounds lost the race.
        ValueError: The stored value is not JSON, or max_attempts is not positive.
        PluginAPIError: A call failed.
        Exception: Whatever fn raised; nothing was written in that round.
    """
    _check_attempts("update", max_attempts)
    for attempt in range(max_attempts):
        raw = api.kv_get(key)
        new = fn(_decode(key, raw, default))
        data = _encode("update: fn's result", new)
        if data is None and raw is None:
            return new  # Deleting a missing key: nothing to write.
        options = models.PluginKVSetOptions(atomic=True, old_value=raw)
        if api.kv_set_with_options(key, data, options):
            return new
        if attempt + 1 < max_attempts:
            time.sleep(_backoff(attempt))
    raise _conflict(key, max_attempts)


async def update_async(
    api: AsyncClient,
    key: str,
    fn: Callable[[Any], Any],
    *,
    default: Any = None,  # noqa: ANN401 - a JSON value
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Any:  # noqa: ANN401 - a JSON value
    """:func:`update` on an :class:`~mattermost_plugin.AsyncClient`; fn is a plain function."""
    _check_attempts("update_async", max_attempts)
    for attempt in range(max_attempts):
        raw = await api.kv_get(key)
        new = fn(_decode(key, raw, default))
        data = _encode("update_async: fn's result", new)
        if data is None and raw is None:
            return new
        options = models.PluginKVSetOptions(atomic=True, old_value=raw)
        if await api.kv_set_with_options(key, data, options):
            return new
        if attempt + 1 < max_attempts:
            await asyncio.sleep(_backoff(attempt))
    raise _conflict(key, max_attempts)
