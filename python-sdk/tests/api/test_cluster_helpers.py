"""End to end: mattermost_plugin.cluster through both clients against the Go server.

Two clients of one server share the plugin's KV store as two nodes do; a
node that dies is a child process holding a lock, killed with SIGKILL.
Mutex exclusion under contention, lock timeouts, the refresh that keeps a
held lock alive past its TTL, the expiry that frees a dead holder's lock,
a lost lock reported at unlock; schedule() once per interval across two
clients, its takeover after the node running it dies, and close(); the
async twins the same. TTLs and intervals are short to keep the module fast.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

import mattermost_plugin as mp
from mattermost_plugin import cluster
from mattermost_plugin.testing import ReferenceServer

#: A short poll keeps waits for a busy lock short.
POLL = 0.05


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


# A node in a child process: it takes a lock or schedules a job, says so on
# stdout, and then waits to be killed.
NODE = """
import sys, threading, time
import mattermost_plugin as mp
from mattermost_plugin import cluster
api = mp.Client(sys.argv[1], token=sys.argv[2])
if sys.argv[3] == "lock":
    cluster.Mutex(api, "shared", ttl=1, poll_interval=0.05).lock()
    print("locked", flush=True)
else:
    def hang():
        print("running", flush=True)
        threading.Event().wait()
    cluster.schedule(api, "job", 0.2, hang, ttl=1, poll_interval=0.05)
threading.Event().wait()
"""


def start_node(server: ReferenceServer, role: str, ready: str) -> subprocess.Popen[str]:
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PATH": os.environ.get("PATH", ""),
    }
    node = subprocess.Popen(
        [sys.executable, "-c", NODE, server.target, server.token, role],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert node.stdout is not None
    line = node.stdout.readline().strip()
    assert line == ready, line
    return node


def kill(node: subprocess.Popen[str]) -> float:
    """SIGKILL the node by its pid; when it died."""
    os.kill(node.pid, signal.SIGKILL)
    node.wait()
    assert node.stdout is not None
    node.stdout.close()
    return time.monotonic()


def assert_no_overlap(sections: list[tuple[float, float]]) -> None:
    sections = sorted(sections)
    for (_, end), (start, _) in zip(sections, sections[1:]):
        assert start >= end, f"critical sections overlap: {start} < {end}"


# Mutex


def test_mutex_excludes_threads_of_two_clients(clients: tuple[mp.Client, mp.Client]) -> None:
    sections: list[tuple[float, float]] = []
    errors: list[BaseException] = []

    def worker(api: mp.Client) -> None:
        mutex = cluster.Mutex(api, "section", ttl=5, poll_interval=POLL)
        try:
            for _ in range(8):
                with mutex:
                    start = time.monotonic()
                    time.sleep(0.005)
                    sections.append((start, time.monotonic()))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(sections) == 48
    assert_no_overlap(sections)
    assert clients[0].kv_get("mutex_section") is None  # the last unlock deleted the key


def test_lock_timeout(clients: tuple[mp.Client, mp.Client]) -> None:
    a, b = clients
    held = cluster.Mutex(a, "t", ttl=5, poll_interval=POLL)
    other = cluster.Mutex(b, "t", ttl=5, poll_interval=POLL)
    held.lock()
    try:
        started = time.monotonic()
        with pytest.raises(cluster.LockTimeoutError) as caught:
            other.lock(timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 1.0
        with pytest.raises(TimeoutError):
            other.lock(timeout=0)
    finally:
        held.unlock()
    other.lock(timeout=0)
    other.unlock()
    err = caught.value
    assert isinstance(err, mp.DeadlineExceededError) and err.key == "mutex_t"
    assert str(err) == "DEADLINE_EXCEEDED: lock 'mutex_t': still held elsewhere after 0.3 s"
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), copy.key, copy.timeout, str(copy)) == (type(err), "mutex_t", 0.3, str(err))


def test_refresh_keeps_a_held_lock_past_its_ttl(clients: tuple[mp.Client, mp.Client]) -> None:
    a, b = clients
    with cluster.Mutex(a, "long", ttl=1, poll_interval=POLL):
        time.sleep(2.2)
        with pytest.raises(cluster.LockTimeoutError):
            cluster.Mutex(b, "long", ttl=1).lock(timeout=0)


def test_a_dead_holders_lock_expires(
    go_server: ReferenceServer, clients: tuple[mp.Client, mp.Client]
) -> None:
    node = start_node(go_server, "lock", "locked")
    mutex = cluster.Mutex(clients[0], "shared", ttl=1, poll_interval=POLL)
    try:
        time.sleep(1.5)  # past the TTL: the living node refreshes it
        with pytest.raises(cluster.LockTimeoutError):
            mutex.lock(timeout=0)
    finally:
        died = kill(node)
    mutex.lock(timeout=3)
    assert time.monotonic() - died < 1.0 + 0.5  # the TTL, plus a poll and the store's clock
    mutex.unlock()


def test_unlocking_a_lost_lock_says_so(clients: tuple[mp.Client, mp.Client]) -> None:
    a, b = clients
    mine = cluster.Mutex(a, "lost", ttl=5, poll_interval=POLL)
    mine.lock()
    a.kv_delete("mutex_lost")  # as if it had expired while this node stalled
    theirs = cluster.Mutex(b, "lost", ttl=5, poll_interval=POLL)
    theirs.lock(timeout=1)
    with pytest.raises(cluster.LockLostError, match="the lock expired while held") as caught:
        mine.unlock()
    assert isinstance(caught.value, mp.AbortedError) and isinstance(caught.value, RuntimeError)
    assert not mine.locked
    assert b.kv_get("mutex_lost") is not None  # the other holder's lock is left alone
    theirs.unlock()
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.key == "mutex_lost"


def test_mutex_misuse_and_bad_arguments(clients: tuple[mp.Client, mp.Client]) -> None:
    api, _ = clients
    mutex = cluster.Mutex(api, "m")
    with pytest.raises(RuntimeError, match="'mutex_m': the mutex is not locked"):
        mutex.unlock()
    assert repr(mutex) == "<Mutex key='mutex_m' ttl=15 unlocked>"
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(mutex)
    with pytest.raises(ValueError, match=r"Mutex\(key\) must not be empty"):
        cluster.Mutex(api, "")
    with pytest.raises(ValueError, match="takes 150"):
        cluster.Mutex(api, "k" * 145)
    with pytest.raises(ValueError, match=r"Mutex\(ttl\)"):
        cluster.Mutex(api, "m", ttl=0)
    with pytest.raises(ValueError, match=r"Mutex\(poll_interval\) must be positive"):
        cluster.Mutex(api, "m", poll_interval=0)


# schedule


def test_schedule_runs_once_per_interval_across_two_clients(
    clients: tuple[mp.Client, mp.Client],
) -> None:
    runs: list[tuple[float, str]] = []

    def runner(name: str) -> Callable[[], None]:
        return lambda: runs.append((time.monotonic(), name))

    interval = 0.3
    jobs = [
        cluster.schedule(api, "tick", interval, runner(name), ttl=2, poll_interval=POLL)
        for api, name in zip(clients, "ab")
    ]
    time.sleep(2.0)
    for job in jobs:
        job.close()
    times = sorted(t for t, _ in runs)
    assert 5 <= len(times) <= 7, runs  # at 0, 0.3+, 0.6+, ... within 2 s
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert min(gaps) >= interval - 0.05, gaps  # never twice in one interval
    metadata = json.loads(clients[0].kv_get("cron_tick") or b"{}")
    finished = datetime.strptime(metadata["LastFinished"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(finished.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)) < timedelta(
        seconds=2
    )
    count = len(runs)
    time.sleep(0.5)
    assert len(runs) == count  # closed: no more runs
    assert all(job.closed for job in jobs) and repr(jobs[0]) == "<Job key='cron_tick' closed>"


def test_schedule_takes_over_from_a_dead_node(
    go_server: ReferenceServer, clients: tuple[mp.Client, mp.Client]
) -> None:
    node = start_node(go_server, "job", "running")  # its run hangs, its lock refreshed
    runs: list[float] = []
    job = cluster.schedule(
        clients[0], "job", 0.2, lambda: runs.append(time.monotonic()), ttl=1, poll_interval=POLL
    )
    try:
        time.sleep(1.5)  # past the TTL: the living node still holds the job
        assert runs == []
        died = kill(node)
        deadline = time.monotonic() + 3
        while not runs and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runs, "no node took the job over"
        assert runs[0] - died < 1.0 + 0.5
    finally:
        job.close()


def test_schedule_keeps_the_last_run_across_restarts(clients: tuple[mp.Client, mp.Client]) -> None:
    api, _ = clients
    just_now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    api.kv_set("cron_daily", json.dumps({"LastFinished": just_now}).encode())
    runs: list[float] = []
    job = cluster.schedule(
        api, "daily", timedelta(hours=24), lambda: runs.append(1.0), poll_interval=POLL
    )
    time.sleep(0.3)
    job.close()
    assert runs == []  # it ran just now elsewhere: not due for a day


def test_close_from_the_callback_and_twice(clients: tuple[mp.Client, mp.Client]) -> None:
    api, _ = clients
    runs: list[int] = []
    jobs: list[cluster.Job] = []

    def once() -> None:
        runs.append(1)
        jobs[0].close()

    jobs.append(cluster.schedule(api, "once", 0.05, once, poll_interval=POLL))
    time.sleep(0.4)
    jobs[0].close()
    assert runs == [1]


def test_a_failing_callback_is_logged_and_counts_as_a_run(
    clients: tuple[mp.Client, mp.Client], caplog: pytest.LogCaptureFixture
) -> None:
    api, _ = clients
    calls: list[int] = []

    def boom() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    job = cluster.schedule(api, "boom", 10, boom, poll_interval=POLL)
    time.sleep(0.3)
    job.close()
    assert calls == [1]
    assert "cluster job cron_boom: the callback failed" in caplog.text


def test_wait_functions_and_metadata() -> None:
    never = cluster.JobMetadata()
    noon = datetime(2024, 5, 1, 12, 4, tzinfo=timezone.utc)
    ran = cluster.JobMetadata(last_finished=noon)
    every = cluster.wait_for_interval(timedelta(minutes=5))
    assert every(noon, never) == 0
    assert every(noon + timedelta(minutes=1), ran) == 240
    rounded = cluster.wait_for_rounded_interval(300)
    assert rounded(noon, ran) == 60  # 12:05
    assert rounded(noon, never) == 0
    assert pickle.loads(pickle.dumps(ran)) == ran
    assert "\n" not in repr(ran) and "2024" in repr(ran)
    with pytest.raises(ValueError, match=r"wait_for_interval\(interval\) must be positive"):
        cluster.wait_for_interval(0)


def test_schedule_bad_arguments(clients: tuple[mp.Client, mp.Client]) -> None:
    api, _ = clients
    with pytest.raises(ValueError, match=r"schedule\(interval\) must be positive"):
        cluster.schedule(api, "j", -1, lambda: None)
    with pytest.raises(TypeError, match=r"schedule\(callback\) must be callable"):
        cluster.schedule(api, "j", 1, "nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="takes 150"):
        cluster.schedule(api, "j" * 140, 1, lambda: None)


# The async twins


async def test_async_mutex_excludes_tasks_of_two_clients(go_server: ReferenceServer) -> None:
    sections: list[tuple[float, float]] = []
    async with (
        mp.AsyncClient(go_server.target, token=go_server.token) as a,
        mp.AsyncClient(go_server.target, token=go_server.token) as b,
    ):

        async def worker(api: mp.AsyncClient) -> None:
            mutex = cluster.AsyncMutex(api, "section", ttl=5, poll_interval=POLL)
            for _ in range(6):
                async with mutex:
                    start = time.monotonic()
                    await asyncio.sleep(0.005)
                    sections.append((start, time.monotonic()))

        await asyncio.gather(*(worker(c) for c in (a, b) for _ in range(3)))
        assert len(sections) == 36
        assert_no_overlap(sections)

        held = cluster.AsyncMutex(a, "t", ttl=1, poll_interval=POLL)
        await held.lock()
        await asyncio.sleep(1.5)  # refreshed past its TTL
        with pytest.raises(cluster.LockTimeoutError, match=r"after 0\.2 s"):
            await cluster.AsyncMutex(b, "t").lock(timeout=0.2)
        assert repr(held) == "<AsyncMutex key='mutex_t' ttl=1 locked>"
        await held.unlock()
        with pytest.raises(RuntimeError, match="not locked"):
            await held.unlock()

        lost = cluster.AsyncMutex(a, "lost", ttl=5)
        await lost.lock()
        await a.kv_delete("mutex_lost")
        with pytest.raises(cluster.LockLostError):
            await lost.unlock()


async def test_async_schedule_once_per_interval_and_close(go_server: ReferenceServer) -> None:
    async with (
        mp.AsyncClient(go_server.target, token=go_server.token) as a,
        mp.AsyncClient(go_server.target, token=go_server.token) as b,
    ):
        runs: list[float] = []

        async def run() -> None:
            runs.append(time.monotonic())

        jobs = [
            await cluster.schedule_async(api, "tick", 0.3, run, ttl=2, poll_interval=POLL)
            for api in (a, b)
        ]
        await asyncio.sleep(2.0)
        for job in jobs:
            await job.close()
        assert 5 <= len(runs) <= 7, runs
        gaps = [later - earlier for earlier, later in zip(runs, runs[1:])]
        assert min(gaps) >= 0.25, gaps
        count = len(runs)
        await asyncio.sleep(0.4)
        assert len(runs) == count
        assert repr(jobs[0]) == "<AsyncJob key='cron_tick' closed>"


async def test_async_schedule_takes_over_from_a_dead_node(go_server: ReferenceServer) -> None:
    node = start_node(go_server, "job", "running")
    runs: list[float] = []

    async def run() -> None:
        runs.append(time.monotonic())

    async with mp.AsyncClient(go_server.target, token=go_server.token) as api:
        job = await cluster.schedule_async(api, "job", 0.2, run, ttl=1, poll_interval=POLL)
        try:
            await asyncio.sleep(1.5)
            assert runs == []
            died = kill(node)
            for _ in range(150):
                if runs:
                    break
                await asyncio.sleep(0.02)
            assert runs and runs[0] - died < 1.0 + 0.5
        finally:
            await job.close()
