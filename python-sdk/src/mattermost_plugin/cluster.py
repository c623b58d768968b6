"""Cluster-wide locks and scheduled jobs, for plugins that run on every node.

In a Mattermost cluster every node runs every plugin, and the plugin's
instances share only the key-value store. :class:`Mutex` is a lock that
holds across all of them, and :func:`schedule` runs a callback once per
interval across the whole cluster. Both follow Mattermost's Go
``pluginapi/cluster`` package, read at these commits:

- ``server/public/pluginapi/cluster/mutex.go@178f763e354fba4421f8eda04caab44e8bab2c21``
  (``NewMutex``, ``tryLock``, ``refreshLock``, ``LockWithContext``, ``Unlock``):
  the lock is an atomic set of the key ``mutex_<key>`` that must not
  exist, expiring after a TTL (15 s) and refreshed every TTL/2 while held,
  so that a node that dies releases its locks within the TTL;
- ``server/public/pluginapi/cluster/wait.go@2bc147a87652e8e806f62b2421f6736ed614fd0b``
  (``nextWaitInterval``): a busy lock is polled every second with ±25 %
  jitter, and a failing call backs off doubling up to five minutes;
- ``server/public/pluginapi/cluster/job.go@01288c0016f1244e91b0b4857e3992c6d42a391c``
  (``Schedule``, ``Job.run``, ``MakeWaitForInterval``,
  ``MakeWaitForRoundedInterval``, ``Job.Close``): a job holds the mutex
  ``cron_<key>`` while it decides and runs, and keeps
  ``{"LastFinished": ...}`` under the key ``cron_<key>``; whichever node
  takes the mutex next reads it, so the job survives the death of the
  node that ran it last.

Two choices differ from upstream, both to make a lost lock visible: each
hold writes a fresh random token (upstream writes ``[1]`` on every node), so
a refresh or an unlock never touches another holder's lock, and unlocking
a lock that expired meanwhile raises :class:`LockLostError` (upstream
ignores it). Each class has an asyncio twin for an
:class:`~mattermost_plugin.AsyncClient`: :class:`AsyncMutex`
(``async with``) and :func:`schedule_async`, which gives an
:class:`AsyncJob`.

Jobs compare wall-clock times written by different nodes: keep the nodes'
clocks in sync.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Union

from . import models
from .exceptions import (
    AbortedError,
    ClientClosedError,
    DeadlineExceededError,
    InternalError,
    PluginAPIError,
    ResourceExhaustedError,
    UnavailableError,
    UnknownError,
)

if TYPE_CHECKING:
    from types import TracebackType

    from ._async_client import AsyncClient
    from ._client import Client

__all__ = [
    "CRON_PREFIX",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_TTL",
    "MUTEX_PREFIX",
    "AsyncJob",
    "AsyncMutex",
    "Job",
    "JobMetadata",
    "LockLostError",
    "LockTimeoutError",
    "Mutex",
    "NextWait",
    "schedule",
    "schedule_async",
    "wait_for_interval",
    "wait_for_rounded_interval",
]

_log = logging.getLogger(__name__)

#: The prefix of a mutex's key in the KV store (mutex.go's mutexPrefix).
MUTEX_PREFIX = "mutex_"
#: The prefix of a job's metadata key and mutex name (job.go's cronPrefix).
CRON_PREFIX = "cron_"
#: Seconds a held lock lives without a refresh (mutex.go's ttl); it is
#: refreshed every half of it.
DEFAULT_TTL = 15
#: Seconds between two attempts to take a busy lock (wait.go's pollWaitInterval).
DEFAULT_POLL_INTERVAL = 1.0

#: The longest pause after failing calls (wait.go's maxWaitInterval).
_MAX_ERROR_WAIT = 300.0
#: The longest key the KV store takes.
_MAX_KEY = 150
#: Failures worth another try: the server or the database is briefly away.
_TRANSIENT = (
    UnavailableError,
    DeadlineExceededError,
    AbortedError,
    ResourceExhaustedError,
    InternalError,
    UnknownError,
)


class LockTimeoutError(DeadlineExceededError, TimeoutError):
    """``lock(timeout=...)`` gave up: another holder kept the lock that long.

    It is a :class:`~mattermost_plugin.DeadlineExceededError` and a
    ``TimeoutError``; it pickles and prints on one line.

    Attributes:
        key: The mutex's key in the KV store.
        timeout: The seconds waited.
    """

    def __init__(self, message: str, *, key: str = "", timeout: float = 0.0) -> None:
        super().__init__(message)
        self.key = key
        self.timeout = timeout


class LockLostError(AbortedError, RuntimeError):
    """The lock expired while held, so another node may have held it too.

    Raised by ``unlock()`` (and so at the end of a ``with`` block) when
    the lock could not be refreshed in time, usually because this process
    stalled or lost the server for longer than the TTL. It is an
    :class:`~mattermost_plugin.AbortedError` and a ``RuntimeError``; it
    pickles and prints on one line.

    Attributes:
        key: The mutex's key in the KV store.
    """

    def __init__(self, message: str, *, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class JobMetadata:
    """What the cluster knows of a scheduled job (job.go's JobMetadata).

    Attributes:
        last_finished: When the job last finished on any node (UTC), or
            None if it never ran.
    """

    last_finished: datetime | None = None


#: A function giving how long to wait before a job's next run (job.go's
#: NextWaitInterval): called with the current UTC time and the job's
#: metadata, it returns seconds or a timedelta; 0 or less means now.
NextWait = Callable[[datetime, JobMetadata], Union[float, timedelta]]


def _seconds(where: str, value: object) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"{where} must be seconds or a timedelta, not {type(value).__name__}")


def _positive_seconds(where: str, value: object) -> float:
    seconds = _seconds(where, value)
    if not seconds > 0:
        raise ValueError(f"{where} must be positive, not {value!r}")
    return seconds


def wait_for_interval(interval: float | timedelta) -> NextWait:
    """Run a job every interval, counted from when it last finished (MakeWaitForInterval).

    A job that never ran runs at once: first at 12:01 with a 5-minute
    interval, it runs again at 12:06, 12:11, ...
    """
    seconds = _positive_seconds("wait_for_interval(interval)", interval)

    def next_wait(now: datetime, metadata: JobMetadata) -> float:
        if metadata.last_finished is None:
            return 0.0
        return seconds - (now - metadata.last_finished).total_seconds()

    return next_wait


def wait_for_rounded_interval(interval: float | timedelta) -> NextWait:
    """Run a job on the next multiple of interval (MakeWaitForRoundedInterval).

    Multiples count from the Unix epoch; Go's Truncate counts from year 1,
    which gives the same times for any interval that divides a day.

    A job that never ran runs at once: first at 12:04 with a 5-minute
    interval, it runs again at 12:05, 12:10, ... It keeps to the rounded
    times rather than to a minimum gap between runs.
    """
    seconds = _positive_seconds("wait_for_rounded_interval(interval)", interval)

    def next_wait(now: datetime, metadata: JobMetadata) -> float:
        if metadata.last_finished is None:
            return 0.0
        finished = metadata.last_finished.timestamp()
        target = (finished + seconds) // seconds * seconds
        return target - now.timestamp()

    return next_wait


def _full_key(where: str, prefix: str, key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{where}(key) must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError(f"{where}(key) must not be empty")
    full = prefix + key
    if len(full) > _MAX_KEY:
        raise ValueError(
            f"{where}(key) is too long: {full!r} has {len(full)} characters, the KV store "
            f"takes {_MAX_KEY}"
        )
    return full


def _check_ttl(where: str, ttl: object) -> int:
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
        raise ValueError(f"{where}(ttl) must be a positive number of whole seconds, not {ttl!r}")
    return ttl


class _Waits:
    """The pause before each attempt at a lock (wait.go's nextWaitInterval)."""

    def __init__(self, poll_interval: float) -> None:
        self.poll = poll_interval
        self.last = 0.0

    def _jitter(self, wait: float) -> float:
        # ±25 % of the poll interval, as upstream's ±500 ms of a 1 s poll.
        return wait + random.uniform(-self.poll / 4, self.poll / 4)

    def busy(self) -> float:
        self.last = self.poll
        return self._jitter(self.last)

    def failed(self) -> float:
        self.last = min(max(self.last, self.poll) * 2, _MAX_ERROR_WAIT)
        return self._jitter(self.last)


def _lock_options(ttl: int, old: bytes | None) -> models.PluginKVSetOptions:
    return models.PluginKVSetOptions(atomic=True, old_value=old, expire_in_seconds=ttl)


def _timed_out(key: str, timeout: float) -> LockTimeoutError:
    return LockTimeoutError(
        f"lock {key!r}: still held elsewhere after {timeout:g} s", key=key, timeout=timeout
    )


def _lost(key: str) -> LockLostError:
    return LockLostError(
        f"unlock {key!r}: the lock expired while held (not refreshed within its TTL), "
        "so another holder may have run at the same time",
        key=key,
    )


class _MutexBase:
    """What both mutexes keep: the key, the TTL, the poll interval and the hold."""

    def __init__(self, key: str, ttl: int, poll_interval: float, where: str) -> None:
        self._key = _full_key(where, MUTEX_PREFIX, key)
        self._ttl = _check_ttl(where, ttl)
        self._poll = _positive_seconds(f"{where}(poll_interval)", poll_interval)
        #: The random value this hold wrote; None when not held.
        self._token: bytes | None = None
        #: Set by the refresher when the lock was found gone or taken.
        self._lost = False

    @property
    def key(self) -> str:
        """The lock's key in the KV store: ``mutex_`` and the name given."""
        return self._key

    @property
    def ttl(self) -> int:
        """Seconds the lock lives without a refresh."""
        return self._ttl

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock (as far as it knows)."""
        return self._token is not None

    @property
    def _refresh_every(self) -> float:
        return self._ttl / 2

    def __repr__(self) -> str:
        state = "locked" if self.locked else "unlocked"
        return f"<{type(self).__name__} key={self._key!r} ttl={self._ttl} {state}>"

    def __reduce__(self) -> str:
        raise TypeError(
            f"{type(self).__name__} cannot be pickled: it is bound to a live client; "
            "create one in each process"
        )


class Mutex(_MutexBase):
    """A lock that holds across every node of the cluster (cluster.Mutex).

    ``with Mutex(self.api, "sync"):`` lets one plugin instance at a time,
    on any node, run the block. Mutexes of different names are unrelated,
    and so are the same names in different plugins. It is not reentrant: a
    second ``lock()`` waits, even in the same thread. While held, a
    background thread refreshes it every ``ttl / 2`` seconds; a node that
    dies stops refreshing, and the lock expires after ``ttl`` seconds.

    Args:
        api: The client, such as a plugin's ``self.api``.
        key: The lock's name; its KV key is ``mutex_`` + key (at most 150 characters).
        ttl: Whole seconds the lock lives without a refresh.
        poll_interval: Seconds between attempts to take a busy lock (±25 % jitter).

    Raises:
        TypeError, ValueError: An argument is invalid.
    """

    def __init__(
        self,
        api: Client,
        key: str,
        *,
        ttl: int = DEFAULT_TTL,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(key, ttl, poll_interval, "Mutex")
        self._api = api
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    def lock(self, timeout: float | None = None) -> None:
        """Take the lock, waiting while another holder has it (LockWithContext).

        Args:
            timeout: Seconds to wait at most; None waits as long as it takes,
                and 0 makes one attempt.

        Raises:
            LockTimeoutError: The lock stayed busy for timeout seconds.
            PluginAPIError: A call failed with a lasting error (a passing
                one, such as UNAVAILABLE, is retried with backoff).
        """
        self._acquire(timeout, None)

    def _acquire(self, timeout: float | None, stop: threading.Event | None) -> bool:
        """Take the lock; False only if stop was set while waiting."""
        if timeout is not None:
            timeout = max(0.0, _seconds("lock(timeout)", timeout))
        waits = _Waits(self._poll)
        token = secrets.token_hex(16).encode()
        deadline = None if timeout is None else _now() + timeout
        while True:
            try:
                ok = self._api.kv_set_with_options(self._key, token, _lock_options(self._ttl, None))
            except _TRANSIENT as err:
                _log.warning(
                    "cluster mutex %s: taking the lock failed, will retry: %s", self._key, err
                )
                ok, wait = False, waits.failed()
            else:
                wait = waits.busy()
            if ok:
                self._held(token)
                return True
            if deadline is not None:
                left = deadline - _now()
                if left <= 0:
                    assert timeout is not None
                    raise _timed_out(self._key, timeout)
                wait = min(wait, left)
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)

    def _held(self, token: bytes) -> None:
        with self._guard:
            self._token, self._lost = token, False
            self._stop = threading.Event()
            self._refresher = threading.Thread(
                target=self._refresh,
                args=(token, self._stop),
                name=f"mattermost-plugin-mutex-{self._key}",
                daemon=True,
            )
            self._refresher.start()

    def _refresh(self, token: bytes, stop: threading.Event) -> None:
        """Rewrite the lock with a new expiry every TTL/2 while held (refreshLock)."""
        while not stop.wait(self._refresh_every):
            try:
                ok = self._api.kv_set_with_options(
                    self._key, token, _lock_options(self._ttl, token)
                )
            except PluginAPIError as err:
                # The lock may still be ours: try again next time, as long as it lives.
                _log.warning("cluster mutex %s: refreshing the lock failed: %s", self._key, err)
                continue
            if not ok:
                _log.error("cluster mutex %s: the lock expired while held", self._key)
                self._lost = True
                return

    def unlock(self) -> None:
        """Release the lock (Unlock), deleting its key if it is still this hold's.

        Raises:
            RuntimeError: This object does not hold the lock.
            LockLostError: The lock expired while held; it is released all the same.
        """
        with self._guard:
            token, refresher = self._token, self._refresher
            if token is None or refresher is None:
                raise RuntimeError(f"unlock {self._key!r}: the mutex is not locked")
            self._token, self._refresher = None, None
            self._stop.set()
        if refresher is not threading.current_thread():
            refresher.join()
        if self._lost:
            raise _lost(self._key)
        try:
            deleted = self._api.kv_compare_and_delete(self._key, token)
        except PluginAPIError as err:
            # As upstream: the key expires by itself within the TTL.
            _log.warning("cluster mutex %s: deleting the lock failed: %s", self._key, err)
            return
        if not deleted:
            raise _lost(self._key)

    def __enter__(self) -> Mutex:
        self.lock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unlock()


class AsyncMutex(_MutexBase):
    """:class:`Mutex` on an :class:`~mattermost_plugin.AsyncClient`: ``async with``.

    The refresh runs as an asyncio task of the loop that took the lock.

    Args:
        api: The client, such as an async plugin's ``self.api``.
        key: The lock's name; its KV key is ``mutex_`` + key (at most 150 characters).
        ttl: Whole seconds the lock lives without a refresh.
        poll_interval: Seconds between attempts to take a busy lock (±25 % jitter).

    Raises:
        TypeError, ValueError: An argument is invalid.
    """

    def __init__(
        self,
        api: AsyncClient,
        key: str,
        *,
        ttl: int = DEFAULT_TTL,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(key, ttl, poll_interval, "AsyncMutex")
        self._api = api
        self._refresher: asyncio.Task[None] | None = None

    async def lock(self, timeout: float | None = None) -> None:
        """Take the lock, waiting while another holder has it; see :meth:`Mutex.lock`.

        Raises:
            LockTimeoutError: The lock stayed busy for timeout seconds.
            PluginAPIError: A call failed with a lasting error.
        """
        await self._acquire(timeout, None)

    async def _acquire(self, timeout: float | None, stop: asyncio.Event | None) -> bool:
        """Take the lock; False only if stop was set while waiting."""
        if timeout is not None:
            timeout = max(0.0, _seconds("lock(timeout)", timeout))
        waits = _Waits(self._poll)
        token = secrets.token_hex(16).encode()
        deadline = None if timeout is None else _now() + timeout
        while True:
            try:
                ok = await self._api.kv_set_with_options(
                    self._key, token, _lock_options(self._ttl, None)
                )
            except _TRANSIENT as err:
                _log.warning(
                    "cluster mutex %s: taking the lock failed, will retry: %s", self._key, err
                )
                ok, wait = False, waits.failed()
            else:
                wait = waits.busy()
            if ok:
                self._token, self._lost = token, False
                self._refresher = asyncio.ensure_future(self._refresh(token))
                return True
            if deadline is not None:
                left = deadline - _now()
                if left <= 0:
                    assert timeout is not None
                    raise _timed_out(self._key, timeout)
                wait = min(wait, left)
            if await _stopped(stop, wait):
                return False

    async def _refresh(self, token: bytes) -> None:
        while True:
            await asyncio.sleep(self._refresh_every)
            try:
                ok = await self._api.kv_set_with_options(
                    self._key, token, _lock_options(self._ttl, token)
                )
            except PluginAPIError as err:
                _log.warning("cluster mutex %s: refreshing the lock failed: %s", self._key, err)
                continue
            if not ok:
                _log.error("cluster mutex %s: the lock expired while held", self._key)
                self._lost = True
                return

    async def unlock(self) -> None:
        """Release the lock; see :meth:`Mutex.unlock`.

        Raises:
            RuntimeError: This object does not hold the lock.
            LockLostError: The lock expired while held; it is released all the same.
        """
        token, refresher = self._token, self._refresher
        if token is None or refresher is None:
            raise RuntimeError(f"unlock {self._key!r}: the mutex is not locked")
        self._token, self._refresher = None, None
        refresher.cancel()
        await asyncio.gather(refresher, return_exceptions=True)
        if self._lost:
            raise _lost(self._key)
        try:
            deleted = await self._api.kv_compare_and_delete(self._key, token)
        except PluginAPIError as err:
            _log.warning("cluster mutex %s: deleting the lock failed: %s", self._key, err)
            return
        if not deleted:
            raise _lost(self._key)

    async def __aenter__(self) -> AsyncMutex:
        await self.lock()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.unlock()


async def _stopped(stop: asyncio.Event | None, wait: float) -> bool:
    """Sleep wait seconds; True at once if stop is set meanwhile."""
    if stop is None:
        await asyncio.sleep(wait)
        return False
    try:
        await asyncio.wait_for(stop.wait(), max(wait, 0.0))
    except asyncio.TimeoutError:
        return False
    return True


def _now() -> float:
    return datetime.now(timezone.utc).timestamp()


# Go's time.Time in JSON: RFC 3339 with up to nine fraction digits.
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def _decode_metadata(key: str, data: bytes | None) -> JobMetadata:
    """The metadata a node stored, in job.go's JSON (``{"LastFinished": RFC 3339}``)."""
    if not data:
        return JobMetadata()
    try:
        stamp = json.loads(data).get("LastFinished", "")
        match = _TIME.fullmatch(stamp)
        if match is None:
            raise ValueError(f"LastFinished {stamp!r} is not an RFC 3339 time")
    except (ValueError, AttributeError) as err:
        raise ValueError(f"job metadata {key!r} is not readable: {err}") from err
    whole, fraction, zone = match.groups()
    if whole.startswith("0001-"):  # Go's zero time: never finished.
        return JobMetadata()
    finished = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    finished = finished.astimezone(timezone.utc)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    return JobMetadata(last_finished=finished.replace(microsecond=micros))


def _encode_metadata(metadata: JobMetadata) -> bytes:
    finished = metadata.last_finished
    stamp = (
        finished.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if finished is not None
        else "0001-01-01T00:00:00Z"
    )
    return json.dumps({"LastFinished": stamp}).encode()


def _next_wait_fn(where: str, when: float | timedelta | NextWait) -> NextWait:
    if callable(when):
        return when
    return wait_for_interval(_positive_seconds(f"{where}(interval)", when))


class _JobBase:
    """What both jobs keep: the keys and the wait function."""

    def __init__(self, key: str, when: float | timedelta | NextWait, where: str) -> None:
        self._key = _full_key(where, CRON_PREFIX, key)
        _full_key(where, MUTEX_PREFIX + CRON_PREFIX, key)
        self._next_wait = _next_wait_fn(where, when)

    @property
    def key(self) -> str:
        """The job's metadata key in the KV store: ``cron_`` and the name given."""
        return self._key

    def _wait_after(self, metadata: JobMetadata) -> float:
        now = datetime.now(timezone.utc)
        return _seconds("next_wait's result", self._next_wait(now, metadata))

    def __reduce__(self) -> str:
        raise TypeError(
            f"{type(self).__name__} cannot be pickled: it runs in this process; "
            "schedule it in each process"
        )


class Job(_JobBase):
    """A scheduled job: its callback runs on one node at a time, once per interval (cluster.Job).

    Made by :func:`schedule`; a daemon thread of this process runs it until
    :meth:`close`.
    """

    def __init__(
        self,
        api: Client,
        key: str,
        when: float | timedelta | NextWait,
        callback: Callable[[], object],
        *,
        ttl: int = DEFAULT_TTL,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(key, when, "schedule")
        if not callable(callback):
            raise TypeError(f"schedule(callback) must be callable, not {type(callback).__name__}")
        self._api = api
        self._callback = callback
        self._mutex = Mutex(api, CRON_PREFIX + key, ttl=ttl, poll_interval=poll_interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"mattermost-plugin-job-{self._key}", daemon=True
        )
        self._thread.start()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._stop.is_set()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        return f"<Job key={self._key!r} {state}>"

    def _run(self) -> None:
        waits = _Waits(self._mutex._poll)
        wait = 0.0
        while not self._stop.wait(max(wait, 0.0)):
            try:
                if not self._mutex._acquire(None, self._stop):
                    return
            except ClientClosedError:
                return
            except PluginAPIError as err:
                _log.error("cluster job %s: taking its lock failed: %s", self._key, err)
                wait = waits.failed()
                continue
            try:
                wait = self._turn()
            except Exception:
                _log.exception("cluster job %s: deciding or recording a run failed", self._key)
                wait = waits.failed()
            finally:
                try:
                    self._mutex.unlock()
                except LockLostError as err:
                    _log.error("cluster job %s: %s", self._key, err)

    def _turn(self) -> float:
        """With the lock held: run the callback if it is due; the wait until the next turn."""
        metadata = _decode_metadata(self._key, self._api.kv_get(self._key))
        wait = self._wait_after(metadata)
        if wait > 0:
            return wait
        try:
            self._callback()
        except Exception:
            _log.exception("cluster job %s: the callback failed", self._key)
        metadata = JobMetadata(last_finished=datetime.now(timezone.utc))
        self._api.kv_set(self._key, _encode_metadata(metadata))
        return self._wait_after(metadata)

    def close(self) -> None:
        """Stop the job on this node (Job.Close), after a callback that is running returns.

        Other nodes keep running their own. Closing twice is harmless; a
        callback may close its own job.
        """
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()


class AsyncJob(_JobBase):
    """:class:`Job` on an :class:`~mattermost_plugin.AsyncClient`, made by :func:`schedule_async`.

    An asyncio task of the loop that scheduled it runs it until :meth:`close`.
    """

    def __init__(
        self,
        api: AsyncClient,
        key: str,
        when: float | timedelta | NextWait,
        callback: Callable[[], Awaitable[object]],
        *,
        ttl: int = DEFAULT_TTL,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__(key, when, "schedule_async")
        if not callable(callback):
            raise TypeError(
                f"schedule_async(callback) must be callable, not {type(callback).__name__}"
            )
        self._api = api
        self._callback = callback
        self._mutex = AsyncMutex(api, CRON_PREFIX + key, ttl=ttl, poll_interval=poll_interval)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] = asyncio.ensure_future(self._run())

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._stop.is_set()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        return f"<AsyncJob key={self._key!r} {state}>"

    async def _run(self) -> None:
        waits = _Waits(self._mutex._poll)
        wait = 0.0
        while not await _stopped(self._stop, wait):
            try:
                if not await self._mutex._acquire(None, self._stop):
                    return
            except ClientClosedError:
                return
            except PluginAPIError as err:
                _log.error("cluster job %s: taking its lock failed: %s", self._key, err)
                wait = waits.failed()
                continue
            try:
                wait = await self._turn()
            except Exception:
                _log.exception("cluster job %s: deciding or recording a run failed", self._key)
                wait = waits.failed()
            finally:
                try:
                    await self._mutex.unlock()
                except LockLostError as err:
                    _log.error("cluster job %s: %s", self._key, err)

    async def _turn(self) -> float:
        metadata = _decode_metadata(self._key, await self._api.kv_get(self._key))
        wait = self._wait_after(metadata)
        if wait > 0:
            return wait
        try:
            await self._callback()
        except Exception:
            _log.exception("cluster job %s: the callback failed", self._key)
        metadata = JobMetadata(last_finished=datetime.now(timezone.utc))
        await self._api.kv_set(self._key, _encode_metadata(metadata))
        return self._wait_after(metadata)

    async def close(self) -> None:
        """Stop the job on this node once a running callback returns; see :meth:`Job.close`."""
        self._stop.set()
        if asyncio.current_task() is not self._task:
            await asyncio.gather(self._task, return_exceptions=True)


def schedule(
    api: Client,
    key: str,
    interval: float | timedelta | NextWait,
    callback: Callable[[], Any],
    *,
    ttl: int = DEFAULT_TTL,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> Job:
    """Run callback once per interval across every node that schedules the same key (Schedule).

    Every node calls it (typically in ``on_activate``) and closes the job
    in ``on_deactivate``. The node that takes the job's lock reads when
    the job last finished anywhere, runs the callback if it is due, and
    records the finish; the others find it not due. If that node dies, its
    lock expires after ttl seconds and another node takes over. An
    exception from callback is logged and counts as a run.

    Args:
        api: The client, such as a plugin's ``self.api``.
        key: The job's name: its metadata lives under ``cron_`` + key and
            its lock under ``mutex_cron_`` + key (at most 150 characters).
        interval: Seconds or a timedelta between the end of one run and the
            next (:func:`wait_for_interval`), or a :data:`NextWait` function
            such as :func:`wait_for_rounded_interval`.
        callback: What to run; it takes no arguments.
        ttl: The job lock's TTL in whole seconds: how soon another node
            takes over from a dead one.
        poll_interval: Seconds between attempts at the busy lock.

    Returns:
        The running job; :meth:`Job.close` stops it.

    Raises:
        TypeError, ValueError: An argument is invalid.
    """
    return Job(api, key, interval, callback, ttl=ttl, poll_interval=poll_interval)


async def schedule_async(
    api: AsyncClient,
    key: str,
    interval: float | timedelta | NextWait,
    callback: Callable[[], Awaitable[object]],
    *,
    ttl: int = DEFAULT_TTL,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> AsyncJob:
    """:func:`schedule` on an :class:`~mattermost_plugin.AsyncClient`, with a coroutine callback.

    The job runs as a task of the running loop; ``await job.close()`` stops it.
    """
    return AsyncJob(api, key, interval, callback, ttl=ttl, poll_interval=poll_interval)
