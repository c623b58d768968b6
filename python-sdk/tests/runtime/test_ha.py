"""Two pluginapi-server nodes on one PostgreSQL, each running the same Python plugin.

Each node is a real server process (``-store postgres://... -node-id``)
running :class:`HANode` under its supervisor, as the dev-server tests start
theirs; PostgreSQL is a real server started by :mod:`_pg` for the module.
The plugin's ServeHTTP endpoints drive a scenario on its node, and its
OnPluginClusterEvent records what reaches it; the test reads the shared KV
store through the ready line's token, which acts as the plugin. Every
scenario asserts exact counts:

- 2 nodes x 8 workers x 500 ``kv.update()`` increments of one key: 8000;
- ``cluster.Mutex`` critical sections on both nodes, for 30 s under
  contention, never overlap (and a plain read-then-write counter inside
  them loses no increment);
- a ``cluster.schedule`` job runs once per interval across both nodes,
  and after ``kill -9`` of the node running it the other takes over
  within the lock's TTL;
- cluster events from one node arrive exactly once, in order, on the
  other and never on the sender, a 100 KiB payload intact;
- an expiry set on one node is honoured on the other;
- a database restart mid-run: writes fail with UnavailableError or are
  acknowledged, no acknowledged write is lost, and calls succeed after.

The plugin process imports this module by name (the class's entry point).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import grpc
import pytest
from _pg import PostgreSQL, running

import mattermost_plugin as mp
from mattermost_plugin import cluster, kv
from mattermost_plugin.models import (
    PluginClusterEvent,
    PluginClusterEventSendOptions,
    PluginKVSetOptions,
)
from mattermost_plugin.testing import ReferenceServer, start_plugin_server

from conftest import FAST_DRAIN, server_binary

#: The plugin's id, as plugin_directory names HANode's.
PLUGIN_ID = "test.hanode"
#: The variable that tells the plugin which node it runs on.
NODE_ENV = "HA_TEST_NODE"
#: Seconds an HTTP call to a plugin, or a wait for a scenario, may take.
WAIT = 120.0
#: The size of the large cluster event.
BIG = 100 << 10


def _big_payload() -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(BIG))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- The plugin ---------------------------------------------------------------


class HANode(mp.Plugin):
    """Test plugin "test.hanode": drives a scenario on its node over HTTP.

    Long scenarios run in a background thread (``POST /start/NAME``) whose
    result ``GET /task/NAME`` answers, since a ServeHTTP call has the hook
    deadline.
    """

    def __init__(self) -> None:
        self.node = os.environ.get(NODE_ENV, "")
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.job: cluster.Job | None = None

    def on_deactivate(self) -> None:
        if self.job is not None:
            self.job.close()

    def on_plugin_cluster_event(self, context: Any, event: PluginClusterEvent) -> None:
        received = time.monotonic()
        with self.lock:
            self.events.append(
                {
                    "id": event.id,
                    "size": len(event.data),
                    "sha256": _digest(event.data),
                    "received": received,
                }
            )

    def serve_http(self, context: Any, request: mp.HTTPRequest) -> mp.HTTPResponse:
        query = {k: v[-1] for k, v in parse_qs(request.query).items()}
        parts = request.path.strip("/").split("/")
        try:
            answer = self._route(parts, query)
        except Exception as err:  # reported to the test, which fails with it
            return mp.HTTPResponse(status=500, body=f"{type(err).__name__}: {err}")
        return mp.HTTPResponse(body=json.dumps(answer))

    def _route(self, parts: list[str], query: dict[str, str]) -> Any:
        route = "/".join(parts)
        if route == "start/update":
            workers, n = int(query["workers"]), int(query["n"])
            return self._start("update", lambda: self._update(query["key"], workers, n))
        if route == "start/mutex":
            workers, seconds = int(query["workers"]), float(query["seconds"])
            return self._start("mutex", lambda: self._mutex(workers, seconds))
        if parts[0] == "task" and len(parts) == 2:
            with self.lock:
                return self.tasks[parts[1]]
        if route == "schedule":
            hold = float(query["hold"])
            self.job = cluster.schedule(
                self.api,
                "tick",
                float(query["interval"]),
                lambda: self._tick(hold),
                ttl=int(query["ttl"]),
                poll_interval=0.05,
            )
            return "scheduled"
        if route == "unschedule":
            if self.job is not None:
                self.job.close()
            return "closed"
        if route == "publish":
            return self._publish(int(query["n"]), query.get("prefix", "e"))
        if route == "events":
            with self.lock:
                return list(self.events)
        raise LookupError(f"no route {'/'.join(parts)}")

    def _start(self, name: str, work: Callable[[], Any]) -> str:
        with self.lock:
            self.tasks[name] = {"done": False, "error": "", "result": None}

        def run() -> None:
            try:
                result, error = work(), ""
            except Exception as err:
                result, error = None, f"{type(err).__name__}: {err}"
            with self.lock:
                self.tasks[name] = {"done": True, "error": error, "result": result}

        threading.Thread(target=run, name=f"ha-{name}", daemon=True).start()
        return "started"

    def _workers(self, count: int, work: Callable[[], Any]) -> list[Any]:
        """Run work in count threads at once; their results, or the first error raised."""
        results: list[Any] = []
        errors: list[BaseException] = []

        def one() -> None:
            try:
                results.append(work())
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=one) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results

    def _update(self, key: str, workers: int, n: int) -> int:
        def work() -> int:
            for _ in range(n):
                kv.update(self.api, key, lambda v: (v or 0) + 1)
            return n

        return sum(self._workers(workers, work))

    def _mutex(self, workers: int, seconds: float) -> list[list[Any]]:
        """Critical sections until the deadline: [node, start, end], monotonic seconds.

        Inside, a plain read and write of "unsafe" (no atomic option): only
        the mutex keeps its increments from being lost.
        """
        deadline = time.monotonic() + seconds

        def work() -> list[list[Any]]:
            sections = []
            mutex = cluster.Mutex(self.api, "section", ttl=2, poll_interval=0.02)
            while time.monotonic() < deadline:
                with mutex:
                    start = time.monotonic()
                    count = kv.get_json(self.api, "unsafe", 0)
                    time.sleep(0.002)
                    kv.set_json(self.api, "unsafe", count + 1)
                    sections.append([self.node, start, time.monotonic()])
            return sections

        return [s for sections in self._workers(workers, work) for s in sections]

    def _tick(self, hold: float) -> None:
        """One run of the scheduled job: numbered by a counter, recorded in the KV store."""
        index = kv.update(self.api, "tick_count", lambda v: (v or 0) + 1)
        record = {"node": self.node, "start": time.time()}
        if not kv.set_json(self.api, f"tick_{index:04d}", record, atomic=True, old_value=None):
            raise RuntimeError(f"run {index} recorded twice")
        self.api.kv_set("tick_running", f"{index} {self.node}".encode())
        time.sleep(hold)
        self.api.kv_delete("tick_running")
        kv.set_json(self.api, f"tick_{index:04d}", {**record, "end": time.time()})

    def _publish(self, n: int, prefix: str) -> list[str]:
        reliable = PluginClusterEventSendOptions(send_type="reliable")
        sent = []
        for i in range(n):
            event = PluginClusterEvent(id=f"{prefix}{i}", data=f"{prefix} {i}".encode())
            self.api.publish_plugin_cluster_event(event, reliable)
            sent.append(event.id)
        if prefix == "e":
            big = PluginClusterEvent(id="big", data=_big_payload())
            self.api.publish_plugin_cluster_event(big, reliable)
            sent.append("big")
        return sent


# ---- Nodes ------------------------------------------------------------------------


class Node:
    """One server process of the cluster, running HANode."""

    def __init__(self, name: str, server: ReferenceServer) -> None:
        self.name = name
        self.server = server
        self.api = server.client()

    def call(self, path: str, method: str = "GET", **query: object) -> Any:
        """Call the plugin's endpoint on this node; its JSON answer."""
        url = f"{self.server.http_url}/plugins/{PLUGIN_ID}/{path}"
        if query:
            url += "?" + urlencode(query)
        request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def wait_task(self, name: str, timeout: float = WAIT) -> Any:
        """Wait for a background scenario of the plugin; its result."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.call(f"task/{name}")
            if task["done"]:
                assert task["error"] == "", f"{self.name}: {task['error']}"
                return task["result"]
            assert time.monotonic() < deadline, f"{self.name}: {name} still running"
            time.sleep(0.2)

    def kill(self) -> float:
        """kill -9 the server and its plugin process, by pid; when they died."""
        pids = [*_children(self.server.process.pid), self.server.process.pid]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        killed = time.time()
        self.server.process.wait()
        return killed

    def close(self) -> None:
        self.api.close()
        self.server.stop()


def _children(pid: int) -> list[int]:
    """The child processes of pid (the supervisor's plugin process)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgreSQL]:
    """One real PostgreSQL server for the module; each test gets a database of its own."""
    with running() as server:
        yield server


@pytest.fixture
def nodes(postgres: PostgreSQL, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Nodes node-a and node-b on a fresh database, each running HANode."""
    dsn = postgres.new_database()
    started: list[Node] = []
    try:
        for name in ("node-a", "node-b"):
            server = start_plugin_server(
                HANode,
                *FAST_DRAIN,
                "-store",
                dsn,
                "-node-id",
                name,
                "-log-level",
                "info",
                binary=server_binary(),
                env={**os.environ, NODE_ENV: name},
                workdir=tmp_path / name,
            )
            started.append(Node(name, server))
            listening = [
                r for r in server.log_records() if r.get("msg") == "cluster event bus listening"
            ]
            assert [r.get("node_id") for r in listening] in ([name], []), listening
        yield started[0], started[1]
    finally:
        for node in started:
            node.close()


def _wait(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# ---- Scenarios ----------------------------------------------------------------------


def test_update_from_two_nodes_counts_exactly(nodes: tuple[Node, Node]) -> None:
    """2 nodes x 8 workers x 500 kv.update() increments of one key end at 8000."""
    for node in nodes:
        assert node.call("start/update", "POST", key="count", workers=8, n=500) == "started"
    assert [node.wait_task("update") for node in nodes] == [4000, 4000]
    assert kv.get_json(nodes[0].api, "count") == 8000
    assert kv.get_json(nodes[1].api, "count") == 8000


def test_mutex_sections_never_overlap_across_nodes(nodes: tuple[Node, Node]) -> None:
    """Both nodes' critical sections, under contention for 30 s, are disjoint in time."""
    for node in nodes:
        assert node.call("start/mutex", "POST", workers=4, seconds=30) == "started"
    sections = [tuple(s) for node in nodes for s in node.wait_task("mutex", timeout=90)]
    by_node = {name: sum(1 for s in sections if s[0] == name) for name in ("node-a", "node-b")}
    assert all(count > 0 for count in by_node.values()), by_node
    ordered = sorted(sections, key=lambda s: s[1])
    for before, after in zip(ordered, ordered[1:]):
        assert after[1] >= before[2], f"critical sections overlap: {before} and {after}"
    # Each section's read-then-write increment survived: none ran beside another.
    assert kv.get_json(nodes[0].api, "unsafe") == len(sections)
    assert nodes[1].api.kv_get("mutex_section") is None  # the last unlock deleted the lock


def test_schedule_runs_once_per_interval_and_survives_kill_9(nodes: tuple[Node, Node]) -> None:
    """Once per interval across both nodes; kill -9 of the running node, the other takes over."""
    interval, ttl, hold = 0.3, 1, 0.5
    for node in nodes:
        assert node.call("schedule", "POST", interval=interval, ttl=ttl, hold=hold) == "scheduled"
    api = nodes[0].api
    _wait("four runs", lambda: (kv.get_json(api, "tick_count") or 0) >= 4)
    running = b""

    def in_a_run() -> bool:
        nonlocal running
        running = nodes[0].api.kv_get("tick_running") or b""
        return bool(running)

    _wait("a run in progress", in_a_run)
    index, name = running.decode().split()
    victim = next(n for n in nodes if n.name == name)
    survivor = next(n for n in nodes if n.name != name)
    killed = victim.kill()
    api = survivor.api
    _wait("three runs after the kill", lambda: kv.get_json(api, "tick_count") >= int(index) + 3)
    survivor.call("unschedule", "POST")

    count = kv.get_json(api, "tick_count")
    keys = sorted(k for k in kv.list_keys(api, prefix="tick_") if k[5:].isdigit())
    assert keys == [f"tick_{i:04d}" for i in range(1, count + 1)]  # one record per run
    runs = [kv.get_json(api, k) for k in keys]
    cut = int(index) - 1  # the run that the kill cut short
    assert runs[cut]["node"] == name and "end" not in runs[cut]
    assert all("end" in r for i, r in enumerate(runs) if i != cut)
    for i, (before, after) in enumerate(zip(runs, runs[1:])):
        if i != cut:  # no run beside another, and one per interval after the last finished
            assert after["start"] - before["end"] >= interval - 0.01, (before, after)
    # The survivor runs every later run, the first within the dead holder's lock TTL.
    assert {r["node"] for r in runs[cut + 1 :]} == {survivor.name}
    assert 0 <= runs[cut + 1]["start"] - killed <= ttl + 0.5


def test_cluster_events_reach_the_other_node_once_in_order(nodes: tuple[Node, Node]) -> None:
    """N events from node-a reach node-b once each, in order, never node-a; 100 KiB intact."""
    a, b = nodes
    n = 50
    sent = a.call("publish", "POST", n=n)
    assert sent == [f"e{i}" for i in range(n)] + ["big"]
    _wait("node-b's events", lambda: len(b.call("events")) >= n + 1)
    got = b.call("events")
    assert [e["id"] for e in got] == sent
    assert [(e["size"], e["sha256"]) for e in got[:n]] == [
        (len(d), _digest(d)) for d in (f"e {i}".encode() for i in range(n))
    ]
    assert (got[n]["size"], got[n]["sha256"]) == (BIG, _digest(_big_payload()))
    # The other way round: node-a receives node-b's event and nothing before it.
    assert b.call("publish", "POST", n=1, prefix="from-b") == ["from-b0"]
    _wait("node-a's event", lambda: len(a.call("events")) >= 1)
    time.sleep(0.5)  # anything else that was coming for node-a
    assert [e["id"] for e in a.call("events")] == ["from-b0"]
    assert [e["id"] for e in b.call("events")] == sent  # never the sender


def test_an_expiry_set_on_one_node_holds_on_the_other(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    assert a.api.kv_set_with_options("brief", b"x", PluginKVSetOptions(expire_in_seconds=1))
    a.api.kv_set_with_expiry("brief2", b"y", 1)
    a.api.kv_set("lasting", b"z")
    assert (b.api.kv_get("brief"), b.api.kv_get("brief2")) == (b"x", b"y")
    time.sleep(1.2)
    assert (b.api.kv_get("brief"), b.api.kv_get("brief2"), b.api.kv_get("lasting")) == (
        None,
        None,
        b"z",
    )
    assert sorted(b.api.kv_list(0, 10)) == ["lasting"]


def test_a_database_restart_loses_no_acknowledged_write(
    postgres: PostgreSQL, nodes: tuple[Node, Node]
) -> None:
    """Writers on both nodes through a stop and start of PostgreSQL."""
    acknowledged: dict[str, bytes] = {}
    failures: list[mp.UnavailableError] = []
    unexpected: list[BaseException] = []
    stop = threading.Event()
    lock = threading.Lock()

    def writer(node: Node, worker: int) -> None:
        i = 0
        while not stop.is_set():
            key, value = f"w-{node.name}-{worker}-{i}", f"{worker}:{i}".encode()
            i += 1
            try:
                node.api.kv_set(key, value)
            except mp.UnavailableError as err:
                with lock:
                    failures.append(err)
                time.sleep(0.01)
            except BaseException as err:
                with lock:
                    unexpected.append(err)
                return
            else:
                with lock:
                    acknowledged[key] = value

    threads = [threading.Thread(target=writer, args=(n, w)) for n in nodes for w in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        before = len(acknowledged)
        postgres.stop()
        time.sleep(1.0)  # the outage
        postgres.start()
        _wait("writes after the restart", lambda: len(acknowledged) > before + 40, timeout=30)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert unexpected == []
    assert failures, "no write failed while the database was down"
    for err in failures:
        assert not isinstance(err, grpc.RpcError)
        assert err.code is grpc.StatusCode.UNAVAILABLE
        assert err.app_error is not None
        assert err.app_error.id == "app.plugin_store.unavailable.app_error"
    for key, value in acknowledged.items():  # every acknowledged write was committed
        assert nodes[0].api.kv_get(key) == value, key
        assert nodes[1].api.kv_get(key) == value, key
    for node in nodes:
        node.api.kv_set("after", node.name.encode())
    assert nodes[0].api.kv_get("after") == b"node-b"
