"""make bench: what a Python plugin costs, measured next to what users would otherwise use.

Each figure is measured next to its baseline in the same run, repetition
by repetition, and reported as p50, p99 and throughput with the ratio to
the baseline (the median of the per-repetition ratios: these machines are
shared and noisy, and noise drifts over seconds, so paired ratios hold
where absolute times do not). The Go side is tools/bench/cmd/pluginbench.

    python tools/bench/run.py --profile full --out bench/results

writes results.json, results.md, latency.png and throughput.png. The smoke
profile, which ``make test`` runs, measures every figure at a tiny size so
that none of this can rot.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import concurrent.futures
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mattermost_plugin as mp
from mattermost_plugin import kv
from mattermost_plugin._cli._bundle_targets import local_platform
from mattermost_plugin.grpc import kv_pb2, users_pb2
from mattermost_plugin.models import (
    Channel,
    PluginClusterEvent,
    PluginClusterEventSendOptions,
    Team,
    User,
)
from mattermost_plugin.server_config import ServerConfig
from mattermost_plugin.testing import ReferenceServer, start_plugin_server, start_reference_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The tests' PostgreSQL server (python-sdk/tests/runtime/_pg.py), for figure 9;
# appended, so that no test module shadows one of the benchmark's.
sys.path.append(str(Path(__file__).resolve().parents[2] / "python-sdk" / "tests" / "runtime"))
from _pg import PostgreSQL, running
from stats import Figure, Run, paired_ratio

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tools" / "bench" / "plugins"
MIB = 1 << 20


@dataclass(frozen=True)
class Profile:
    """How much to measure."""

    repetitions: int
    calls: int
    warmup: int
    concurrency: tuple[int, ...]
    async_in_flight: tuple[int, ...]
    hook_concurrency: tuple[int, ...]
    starts: int
    import_repetitions: int
    large_mib: int
    sustained_rate: int
    sustained_seconds: int
    window_seconds: int
    edits: int
    installs: int
    ha_calls: int
    ha_updates: int
    ha_events: int


PROFILES = {
    "smoke": Profile(1, 200, 20, (1,), (1, 16), (1, 8), 1, 2, 8, 200, 3, 1, 2, 1, 200, 80, 20),
    "full": Profile(
        5,
        3000,
        300,
        (1, 8, 64),
        (1, 16, 64, 256),
        (1, 8, 64),
        5,
        7,
        200,
        2000,
        60,
        10,
        20,
        3,
        4000,
        2000,
        500,
    ),
}


# ---- Helpers ---------------------------------------------------------------


def run_sync(call: Callable[[], object], calls: int, warmup: int) -> Run:
    """Call call() calls times in a row, after warmup calls."""
    for _ in range(warmup):
        call()
    latencies = []
    start = time.perf_counter()
    for _ in range(calls):
        t = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t)
    return Run(latencies, time.perf_counter() - start)


def run_paired(
    first: Callable[[], object], second: Callable[[], object], calls: int, warmup: int
) -> tuple[Run, Run]:
    """Call first() and second() calls times each, alternating call by call.

    The order flips every pair, so that neither side always runs right
    after the other; the machine's noise then hits both alike.
    """
    for _ in range(warmup):
        first()
        second()
    latencies: tuple[list[float], list[float]] = ([], [])
    elapsed = [0.0, 0.0]
    calls_ = (first, second)
    for i in range(calls):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            t = time.perf_counter()
            calls_[side]()
            took = time.perf_counter() - t
            latencies[side].append(took)
            elapsed[side] += took
    return Run(latencies[0], elapsed[0]), Run(latencies[1], elapsed[1])


def sdk_cost(api: mp.Client) -> float:
    """The SDK's own Python cost of one kv_get, in seconds, on a stub that answers at once."""
    response = kv_pb2.KVGetResponse(value=b"k" * 1024)

    class Instant:
        """A stub whose KVGet answers without a server."""

        def KVGet(self, request: object, timeout: object = None, metadata: object = None) -> object:
            """Answer the canned response."""
            return response

    real = api._stub
    api._stub = Instant()  # type: ignore[assignment]
    try:
        calls = 50_000
        sdk = run_sync(lambda: api.kv_get("bench-1k"), calls, 1000)
        stub = api._stub
        md = api._policy.metadata
        raw = run_sync(
            lambda: stub.KVGet(kv_pb2.KVGetRequest(key="bench-1k"), timeout=30, metadata=md),
            calls,
            1000,
        )
    finally:
        api._stub = real
    return (sdk.elapsed - raw.elapsed) / calls


def run_threads(call: Callable[[], object], calls: int, threads: int) -> Run:
    """Call call() calls times from a pool of threads."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(calls))

    def worker() -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            t = time.perf_counter()
            call()
            elapsed = time.perf_counter() - t
            with lock:
                latencies.append(elapsed)

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    return Run(latencies, time.perf_counter() - start)


async def run_async(call: Callable[[], Any], calls: int, in_flight: int) -> Run:
    """Await call() calls times, with in_flight calls outstanding."""
    latencies: list[float] = []
    counter = iter(range(calls))

    async def worker() -> None:
        while next(counter, None) is not None:
            t = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return Run(latencies, time.perf_counter() - start)


def child_env() -> dict[str, str]:
    """The environment of the processes the benchmark starts.

    They import this interpreter's path, and they may write bytecode, as an
    installed wheel's modules have it: a plugin that compiled the SDK at
    every start would measure the compiler.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def compile_sources() -> None:
    """Write the bytecode of the SDK and the benchmark's plugins, as pip does on install."""
    for tree in (Path(mp.__file__).parent, PLUGINS):
        compileall.compile_dir(str(tree), quiet=1)


def check_output(command: Sequence[str], env: dict[str, str] | None = None) -> str:
    """Run a command; return its stdout, or raise with the end of its stderr."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    if done.returncode != 0:
        raise RuntimeError(
            f"{command[0]} {command[1]} failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    return done.stdout


def pluginbench(
    binary: Path, *args: str, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run the Go side; return its JSON lines."""
    out = check_output([str(binary), *args], env=env)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def sizing(calls: int, warmup: int, concurrency: Sequence[int] = ()) -> list[str]:
    """The flags that tell pluginbench how much to measure."""
    flags = ["-calls", str(calls), "-warmup", str(warmup)]
    if concurrency:
        flags += ["-concurrency", ",".join(str(n) for n in concurrency)]
    return flags


def go_run(line: dict[str, Any]) -> Run:
    """The Run of one of pluginbench's lines."""
    return Run([ns / 1e9 for ns in line["latencies_ns"]], line["elapsed_ns"] / 1e9)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (bytes), Threads and open fds of a process."""
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
            elif key == "Threads":
                fields[key] = int(value)
    fields["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return fields


def machine() -> dict[str, Any]:
    """What the results were measured on."""
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                "",
            )
    except OSError:
        pass
    go = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "go": go,
        "grpcio": __import__("grpc").__version__,
    }


def scene(api: mp.Client) -> tuple[str, str]:
    """A user, a channel and the 1 KiB KV value; return the user's and channel's ids."""
    user = api.create_user(
        User(username="bench", email="bench@example.com", password="pw-s3cret", first_name="Bench")
    )
    team = api.create_team(Team(name="bench", display_name="Bench", type="O"))
    channel = api.create_channel(
        Channel(team_id=team.id, name="bench", display_name="Bench", type="O")
    )
    api.kv_set("bench-1k", b"k" * 1024)
    # Room for the large files: Mattermost's default MaxFileSize is 100 MiB.
    config = ServerConfig(api.get_config())
    config.data.setdefault("FileSettings", {})["MaxFileSize"] = 1 << 30
    api.save_config(config.to_model())
    return user.id, channel.id


# ---- 1. An API unary call ----------------------------------------------------


def figure_unary(
    server: ReferenceServer, binary: Path, profile: Profile, user_id: str
) -> dict[str, Any]:
    """The SDK's Client vs a raw stub on its channel, a Go gRPC client and Go net/rpc."""
    runs: dict[str, list[Run]] = {}
    with server.client() as api:
        stub, metadata = api._stub, api._policy.metadata  # the same channel, no SDK layer
        calls: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "kvget": (
                lambda: api.kv_get("bench-1k"),
                lambda: stub.KVGet(
                    kv_pb2.KVGetRequest(key="bench-1k"), timeout=30, metadata=metadata
                ),
            ),
            "getuser": (
                lambda: api.get_user(user_id),
                lambda: stub.GetUser(
                    users_pb2.GetUserRequest(user_id=user_id), timeout=30, metadata=metadata
                ),
            ),
        }
        sdk_cost_us = sdk_cost(api) * 1e6
        for _ in range(profile.repetitions):
            for method, (sdk, raw) in calls.items():
                sdk_run, raw_run = run_paired(sdk, raw, profile.calls, profile.warmup)
                runs.setdefault(f"python-sdk/{method}", []).append(sdk_run)
                runs.setdefault(f"python-raw/{method}", []).append(raw_run)
            for line in pluginbench(
                binary,
                "grpc-client",
                "-target",
                server.target,
                "-token",
                server.token,
                "-user-id",
                user_id,
                *sizing(profile.calls, profile.warmup),
            ):
                runs.setdefault(line["name"], []).append(go_run(line))
            # The API calls of a Go plugin over net/rpc (its hooks are figure 3's).
            for line in pluginbench(
                binary, "netrpc", "-measure", "api", *sizing(profile.calls, profile.warmup)
            ):
                runs.setdefault(line["name"], []).append(go_run(line))
    out: dict[str, Any] = {
        "figures": {k: Figure.of(v).as_dict() for k, v in runs.items()},
        "ratios": {},
    }
    for method in ("kvget", "getuser"):
        sdk_runs = runs[f"python-sdk/{method}"]
        out["ratios"][f"{method}: SDK / raw stub"] = paired_ratio(
            sdk_runs, runs[f"python-raw/{method}"]
        )
        out["ratios"][f"{method}: Python SDK / Go gRPC client"] = paired_ratio(
            sdk_runs, runs[f"go-grpc/{method}"]
        )
        out["ratios"][f"{method}: Python SDK / Go plugin over net/rpc"] = paired_ratio(
            sdk_runs, runs[f"go-netrpc/{method}"]
        )
        # The floor: grpcio's own stub, without the SDK, against Go.
        out["ratios"][f"{method}: raw grpcio stub / Go gRPC client"] = paired_ratio(
            runs[f"python-raw/{method}"], runs[f"go-grpc/{method}"]
        )
    out["sdk_cost_us"] = sdk_cost_us
    out["_runs"] = runs
    return out


# ---- 2. AsyncClient throughput -------------------------------------------------


#: How many turns each side of the AsyncClient figure takes per repetition.
ASYNC_SLICES = 4


def figure_async(server: ReferenceServer, profile: Profile) -> dict[str, Any]:
    """AsyncClient at several calls in flight vs one sync caller and 16 sync threads.

    A raw grpc.aio stub on the AsyncClient's channel, at the same calls in
    flight, is the floor: what grpc.aio itself reaches on this machine. The
    sides take turns in slices (ASYNC_SLICES of each repetition's calls),
    so that the machine's drift over seconds hits them alike; the sync
    caller runs on the loop's thread between the slices, its calls
    blocking, as a plain script's would.
    """
    runs: dict[str, list[Run]] = {}
    calls = profile.calls * 2
    piece = max(1, calls // ASYNC_SLICES)
    for _ in range(profile.repetitions):
        with server.client() as api:
            runs.setdefault("sync threads x16", []).append(
                run_threads(lambda: api.kv_get("bench-1k"), calls, 16)
            )

            async def measure_all() -> None:
                async with server.async_client() as aapi:
                    for _ in range(profile.warmup):
                        await aapi.kv_get("bench-1k")
                        api.kv_get("bench-1k")
                    stub, metadata = aapi._stub, aapi._policy.metadata  # the same channel
                    request = kv_pb2.KVGetRequest(key="bench-1k")
                    slices: dict[str, list[Run]] = {}
                    for _ in range(ASYNC_SLICES):
                        slices.setdefault("sync x1", []).append(
                            run_sync(lambda: api.kv_get("bench-1k"), piece, 0)
                        )
                        for n in profile.async_in_flight:
                            run = await run_async(lambda: aapi.kv_get("bench-1k"), piece, n)
                            slices.setdefault(f"async x{n}", []).append(run)
                            run = await run_async(
                                lambda: stub.KVGet(request, timeout=30, metadata=metadata), piece, n
                            )
                            slices.setdefault(f"raw grpc.aio x{n}", []).append(run)
                    for name, parts in slices.items():
                        runs.setdefault(name, []).append(Run.joined(parts))

            asyncio.run(measure_all())
    out: dict[str, Any] = {
        "figures": {k: Figure.of(v).as_dict() for k, v in runs.items()},
        "ratios": {},
    }
    for name in runs:
        if name != "sync x1":
            out["ratios"][f"{name} / sync x1 (throughput)"] = paired_ratio(
                runs[name], runs["sync x1"], "throughput"
            )
    for n in profile.async_in_flight:
        out["ratios"][f"async x{n} / raw grpc.aio x{n} (throughput)"] = paired_ratio(
            runs[f"async x{n}"], runs[f"raw grpc.aio x{n}"], "throughput"
        )
    out["_runs"] = runs
    return out


# ---- 2b. AsyncClient transports and the grpcio experiment flag ---------------------

#: The prefix of figure 2b's rows measured with --newest-python.
NEWEST_LABEL = "newest grpcio: "


#: grpcio's rollout switch that issue 24 measures: its Python poller off.
GRPC_EXPERIMENT = "-event_engine_poller_for_python"


def floor_server(binary: Path, workdir: str) -> tuple[subprocess.Popen[str], str]:
    """Start pluginbench floor on a socket in workdir; return it and the socket's path."""
    path = os.path.join(workdir, "floor.sock")
    process = subprocess.Popen(
        [str(binary), "floor", "-socket", path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("pluginbench floor did not start")
    return process, path


def figure_transports(
    server: ReferenceServer,
    binary: Path,
    profile: Profile,
    user_id: str,
    pythons: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The AsyncClient on its call stream and on unary calls, with and without GRPC_EXPERIMENT.

    Each repetition runs a Go gRPC client, then tools/bench/transports.py
    in a child per interpreter (``pythons``: label to path; the lock's by
    default) and per setting of the flag, which grpcio reads at import.
    The floors: the physical one, length-prefixed protobuf on a unix
    socket between Python and Go (pluginbench floor); and grpcio's, the
    call stream driven by hand on bare grpc.aio (``grpcio stream``).
    """
    pythons = pythons or {"": sys.executable}
    top = 64 if 64 in profile.async_in_flight else max(profile.async_in_flight)
    script = str(Path(__file__).resolve().parent / "transports.py")
    runs: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-floor-", dir="/tmp") as workdir:
        floor, socket_path = floor_server(binary, workdir)
        try:
            for _ in range(profile.repetitions):
                for line in pluginbench(
                    binary,
                    "grpc-client",
                    "-target",
                    server.target,
                    "-token",
                    server.token,
                    "-user-id",
                    user_id,
                    *sizing(profile.calls, profile.warmup),
                ):
                    if line["name"] == "go-grpc/kvget":
                        runs.setdefault(line["name"], []).append(go_run(line))
                for label, python in pythons.items():
                    for flag in ("", GRPC_EXPERIMENT):
                        env = child_env()
                        if python != sys.executable:
                            # Another interpreter: its own grpcio, and the SDK's source.
                            env["PYTHONPATH"] = str(ROOT / "python-sdk" / "src")
                        env.pop("GRPC_EXPERIMENTS", None)
                        if flag:
                            env["GRPC_EXPERIMENTS"] = flag
                        command = [python, script, server.target, server.token, socket_path]
                        sizes = [profile.calls, profile.warmup, 1, top]
                        out = check_output(
                            [*command, *(str(n) for n in sizes)],
                            env=env,
                        )
                        for name, m in json.loads(out).items():
                            key = f"{label}{name}{' +flag' if flag else ''}"
                            runs.setdefault(key, []).append(Run(m["latencies"], m["elapsed"]))
        finally:
            assert floor.stdin is not None
            floor.stdin.close()
            floor.wait(timeout=10)
    go = runs["go-grpc/kvget"]
    ratios: dict[str, float] = {
        "floor x1 / Go gRPC client (p50)": paired_ratio(runs["floor x1"], go)
    }
    for label in pythons:
        for flag in ("", " +flag"):
            for client in ("async stream x1", "async unary x1", "sync x1", "grpcio stream x1"):
                ratios[f"{label}{client}{flag} / Go gRPC client (p50)"] = paired_ratio(
                    runs[f"{label}{client}{flag}"], go
                )
            sync = runs[f"{label}sync x1{flag}"]
            for transport in ("async stream", "async unary", "grpcio stream"):
                ratios[f"{label}{transport} x{top}{flag} / sync x1 (throughput)"] = paired_ratio(
                    runs[f"{label}{transport} x{top}{flag}"], sync, "throughput"
                )
            # The SDK over grpcio alone on the same stream.
            ratios[f"{label}async stream x1{flag} / grpcio stream x1 (p50)"] = paired_ratio(
                runs[f"{label}async stream x1{flag}"], runs[f"{label}grpcio stream x1{flag}"]
            )
            ratios[f"{label}async stream x{top}{flag} / grpcio stream x{top} (throughput)"] = (
                paired_ratio(
                    runs[f"{label}async stream x{top}{flag}"],
                    runs[f"{label}grpcio stream x{top}{flag}"],
                    "throughput",
                )
            )
            ratios[f"{label}async stream x1{flag} / async unary x1 (p50)"] = paired_ratio(
                runs[f"{label}async stream x1{flag}"], runs[f"{label}async unary x1{flag}"]
            )
        ratios[f"{label}async stream x1 +flag / async stream x1 (p50)"] = paired_ratio(
            runs[f"{label}async stream x1 +flag"], runs[f"{label}async stream x1"]
        )
    return {
        "figures": {k: Figure.of(v).as_dict() for k, v in runs.items()},
        "ratios": ratios,
        "in_flight": top,
        "_runs": runs,
    }


# ---- 3 and 4. Hook round trip and plugin start -------------------------------------


def figure_hooks(binary: Path, profile: Profile) -> dict[str, Any]:
    """The hooks client calling Python MessageWillBePosted, vs Go net/rpc and in process.

    Each repetition measures Go's net/rpc hook before and after the Python
    plugins, and joins the two, so that the pairs of a repetition see the
    same stretch of the machine's load.

    The floors: the same hook on bare grpcio (tools/bench/plugins/hook_bare),
    on a grpc.aio server as the SDK's runtime serves hooks, on grpcio's
    thread-pool server, and on the hook stream driven by hand on bare
    grpc.aio; what is left above them is the SDK's.
    """
    runs: dict[str, list[Run]] = {}
    starts: list[dict[str, int]] = []
    env = child_env()
    # The SDK's hooks on PluginHooks (unary), and on the hook stream that
    # the plugin opens to the Plugin API server that pluginbench serves.
    unary_env = {**env, "MATTERMOST_PLUGIN_HOOK_STREAM": "0"}
    stream_flags = {
        "stream-sync": ["-stream"],
        "stream-async": ["-stream"],
        "bare-stream": ["-stream"],
    }
    plugins = {
        "python-sync": ("hook_sync", unary_env),
        "python-async": ("hook_async", unary_env),
        "stream-sync": ("hook_sync", env),
        "stream-async": ("hook_async", env),
        "bare-aio": (
            "hook_bare",
            {**env, "BENCH_PYTHON": sys.executable, "BENCH_BARE_SERVER": "aio"},
        ),
        "bare-threads": (
            "hook_bare",
            {**env, "BENCH_PYTHON": sys.executable, "BENCH_BARE_SERVER": "threads"},
        ),
        "bare-stream": (
            "hook_bare",
            {**env, "BENCH_PYTHON": sys.executable, "BENCH_BARE_SERVER": "stream"},
        ),
    }
    netrpc_args = (
        "netrpc",
        "-measure",
        "hooks",
        *sizing(profile.calls, profile.warmup, profile.hook_concurrency),
    )
    for _ in range(profile.repetitions):
        before = pluginbench(binary, *netrpc_args)
        for kind, (directory, plugin_env) in plugins.items():
            for line in pluginbench(
                binary,
                "hooks",
                "-plugin",
                str(PLUGINS / directory),
                "-python",
                sys.executable,
                "-name",
                f"{kind}/hook",
                *stream_flags.get(kind, []),
                *sizing(profile.calls, profile.warmup, profile.hook_concurrency),
                env=plugin_env,
            ):
                if line["name"].endswith("/start"):
                    if kind.startswith("python-"):  # the SDK's start, not the bare plugin's
                        starts.append(line["extra"])
                else:
                    runs.setdefault(f"{line['name']} x{line['concurrency']}", []).append(
                        go_run(line)
                    )
        after = pluginbench(binary, *netrpc_args)
        for first, second in zip(before, after):
            runs.setdefault(f"{first['name']} x{first['concurrency']}", []).append(
                Run.joined([go_run(first), go_run(second)])
            )
    # More starts, for the start figures, without measuring hooks.
    for _ in range(max(0, profile.starts - len(starts))):
        for line in pluginbench(
            binary,
            "hooks",
            "-plugin",
            str(PLUGINS / "hook_sync"),
            "-python",
            sys.executable,
            *sizing(1, 0),
            env=env,
        ):
            if line["name"].endswith("/start"):
                starts.append(line["extra"])
    out: dict[str, Any] = {
        "figures": {k: Figure.of(v).as_dict() for k, v in runs.items()},
        "ratios": {},
    }
    for n in profile.hook_concurrency:
        base = runs[f"go-netrpc/hook x{n}"]
        for kind in ("sync", "async"):
            out["ratios"][f"{kind} handler x{n}: Python / Go net/rpc"] = paired_ratio(
                runs[f"python-{kind}/hook x{n}"], base
            )
        for kind in ("sync", "async"):
            stream = runs[f"stream-{kind}/hook x{n}"]
            out["ratios"][f"{kind} handler on the hook stream x{n}: Python / Go net/rpc"] = (
                paired_ratio(stream, base)
            )
            out["ratios"][f"{kind} handler x{n}: hook stream / unary"] = paired_ratio(
                stream, runs[f"python-{kind}/hook x{n}"]
            )
            out["ratios"][
                f"{kind} handler on the hook stream x{n}: throughput, Python / Go net/rpc"
            ] = paired_ratio(stream, base, "throughput")
        bare = runs[f"bare-aio/hook x{n}"]
        out["ratios"][f"bare grpc.aio x{n}: Python / Go net/rpc"] = paired_ratio(bare, base)
        bare_stream = runs[f"bare-stream/hook x{n}"]
        out["ratios"][f"bare grpc.aio on the hook stream x{n}: Python / Go net/rpc"] = paired_ratio(
            bare_stream, base
        )
        out["ratios"][f"bare grpc.aio on the hook stream x{n}: throughput, Python / Go net/rpc"] = (
            paired_ratio(bare_stream, base, "throughput")
        )
        out["ratios"][f"async handler on the hook stream x{n}: SDK / bare grpc.aio stream"] = (
            paired_ratio(runs[f"stream-async/hook x{n}"], bare_stream)
        )
        out["ratios"][f"async handler x{n}: SDK / bare grpc.aio"] = paired_ratio(
            runs[f"python-async/hook x{n}"], bare
        )
        out["ratios"][f"sync handler x{n}: SDK / bare grpc.aio"] = paired_ratio(
            runs[f"python-sync/hook x{n}"], bare
        )
        out["ratios"][f"sync handler x{n}: SDK / bare thread-pool server"] = paired_ratio(
            runs[f"python-sync/hook x{n}"], runs[f"bare-threads/hook x{n}"]
        )
        out["ratios"][f"Go net/rpc x{n} / in-process call"] = paired_ratio(
            base, runs[f"go-direct/hook x{n}"]
        )
    out["start_ms"] = {
        key.removesuffix("_ns"): statistics.median(s[key] for s in starts) / 1e6
        for key in starts[0]
    }
    out["_runs"] = runs
    return out


def import_times(profile: Profile) -> dict[str, float]:
    """Median import times in ms, each repetition in a fresh interpreter.

    The interpreter imports grpc, then mattermost_plugin: what the SDK adds
    over grpc is the second import's time, measured in the same process.
    ``import mattermost_plugin`` loads little until a name is used (the
    clients' methods load by domain on first call), so the same process then
    takes what every plugin takes at start, ``Plugin``, ``Client`` and
    ``run``: the row "a plugin's names" keeps the headline honest about what
    the laziness defers.
    """
    code = (
        "import time; t0 = time.perf_counter(); import grpc; t1 = time.perf_counter(); "
        "import mattermost_plugin; t2 = time.perf_counter(); "
        "from mattermost_plugin import Client, Plugin, run; t3 = time.perf_counter(); "
        "print(t1 - t0, t2 - t1, t3 - t2)"
    )
    env = child_env()
    grpc_ms, sdk_ms, names_ms = [], [], []
    for _ in range(profile.import_repetitions):
        first, second, third = check_output([sys.executable, "-c", code], env=env).split()
        grpc_ms.append(float(first) * 1e3)
        sdk_ms.append(float(second) * 1e3)
        names_ms.append(float(third) * 1e3)
    return {
        "grpc": statistics.median(grpc_ms),
        "mattermost_plugin over grpc": statistics.median(sdk_ms),
        "mattermost_plugin": statistics.median(g + s for g, s in zip(grpc_ms, sdk_ms)),
        "a plugin's names (Plugin, Client, run) over mattermost_plugin": statistics.median(
            names_ms
        ),
        "mattermost_plugin and a plugin's names over grpc": statistics.median(
            s + n for s, n in zip(sdk_ms, names_ms)
        ),
    }


# ---- 5. Large data --------------------------------------------------------------

#: A child process that uploads or downloads, and reports its own peak RSS.
LARGE_CHILD = """
import json, sys, time
import mattermost_plugin as mp

target, token, channel_id, mode, size, file_id, warm = sys.argv[1:8]
size, warm = int(size), int(warm)

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(l.split()[1]) * 1024 for l in lines if l.startswith(field + ":"))

chunk = b"u" * (1 << 20)

def data(size):
    left = size
    while left > 0:
        yield chunk[: min(left, len(chunk))]
        left -= len(chunk)

with mp.Client(target, token=token, timeout=600) as api:
    # A smaller transfer of the same kind first: what any first transfer
    # sets up once (allocator arenas, gRPC's buffers) is not this one's.
    if mode == "upload":
        api.upload_file(data(warm), channel_id, "warm.bin")
    else:
        with api.get_file_stream(file_id) as stream:
            taken = 0
            for piece in stream:
                taken += len(piece)
                if taken >= warm:
                    break
    print("warm", flush=True)
    sys.stdin.readline()  # the parent has reset the server's peak
    base = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak so far (imports, start-up) is not the transfer's
    start = time.perf_counter()
    if mode == "upload":
        info = api.upload_file(data(size), channel_id, "big.bin")
        moved, file_id = info.size, info.id
    else:
        moved = sum(len(piece) for piece in api.get_file_stream(file_id))
    seconds = time.perf_counter() - start
    peak = status("VmHWM")
print(json.dumps(
    {"bytes": moved, "seconds": seconds, "peak": peak, "base": base, "file_id": file_id}
))
"""


#: The size of the smaller transfer that runs before each measured one.
WARM_MIB = 8


def reset_peak(pid: int) -> int:
    """Reset a process's VmHWM to its VmRSS (Linux clear_refs 5); return that RSS."""
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")
    return proc_status(pid)["VmRSS"]


def figure_large(server: ReferenceServer, profile: Profile, channel_id: str) -> dict[str, Any]:
    """A large upload and download through the streaming RPCs, and a large ServeHTTP response."""
    size = profile.large_mib * MIB
    env = child_env()
    out: dict[str, Any] = {}
    file_id = ""
    for mode in ("upload", "download"):
        args = [
            server.target,
            server.token,
            channel_id,
            mode,
            str(size),
            file_id,
            str(WARM_MIB * MIB),
        ]
        with subprocess.Popen(
            [sys.executable, "-c", LARGE_CHILD, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        ) as child:
            assert child.stdin is not None and child.stdout is not None
            if child.stdout.readline().strip() != "warm":
                raise RuntimeError(f"the {mode} child failed before its transfer")
            server_base = reset_peak(server.process.pid)
            line, _ = child.communicate("go\n", timeout=900)
        if child.returncode != 0:
            raise RuntimeError(f"the {mode} child failed ({child.returncode})")
        result = json.loads(line)
        file_id = result["file_id"]
        if result["bytes"] != size:
            raise RuntimeError(f"{mode} moved {result['bytes']} bytes; want {size}")
        out[mode] = {
            "mb_per_s": size / MIB / result["seconds"],
            "python_peak_growth_mib": (result["peak"] - result["base"]) / MIB,
            "server_peak_growth_mib": (proc_status(server.process.pid)["VmHWM"] - server_base)
            / MIB,
        }
    return out


def figure_serve_http(binary_server: Path, profile: Profile) -> dict[str, Any]:
    """A large ServeHTTP response from a Python plugin through the dev server."""
    size = profile.large_mib * MIB
    dev = start_plugin_server(PLUGINS / "http_stream", binary=binary_server)
    try:
        base_url = f"{dev.http_url}/plugins/bench.http-stream"

        def plugin_memory(query: str = "") -> int:
            with urllib.request.urlopen(f"{base_url}/rss{query}", timeout=60) as response:
                return int(response.read())

        with urllib.request.urlopen(f"{base_url}/bytes?n={WARM_MIB * MIB}", timeout=600) as warm:
            while warm.read(MIB):  # as in figure_large: a first, smaller response
                pass
        plugin_base = plugin_memory("?reset=1")
        server_base = reset_peak(dev.process.pid)
        start = time.perf_counter()
        moved = 0
        with urllib.request.urlopen(f"{base_url}/bytes?n={size}", timeout=600) as response:
            while piece := response.read(MIB):
                moved += len(piece)
        seconds = time.perf_counter() - start
        if moved != size:
            raise RuntimeError(f"ServeHTTP sent {moved} bytes; want {size}")
        return {
            "mb_per_s": size / MIB / seconds,
            "plugin_peak_growth_mib": (plugin_memory() - plugin_base) / MIB,
            "server_peak_growth_mib": (proc_status(dev.process.pid)["VmHWM"] - server_base) / MIB,
        }
    finally:
        dev.stop()


# ---- 7. Edit to effect under the dev server's watch loop --------------------------

#: The plugin that figure_edit edits: ServeHTTP answers its VERSION.
EDIT_PLUGIN = """\
import mattermost_plugin as mp

VERSION = {version}


class Edited(mp.Plugin):
    def serve_http(self, context, request):
        return mp.HTTPResponse(200, {{"Content-Type": "text/plain"}}, str(VERSION))
"""
EDIT_MANIFEST = {
    "id": "bench.edit",
    "name": "Edit to effect",
    "version": "0.0.0",
    "server": {"python": {"entry": "plugin.py:Edited"}},
}


def figure_edit(binary_server: Path, profile: Profile, workdir: Path) -> dict[str, Any]:
    """From a write of plugin.py to the first hook answered by the new code.

    The dev server runs with -watch, as ``mattermost-plugin dev --watch``
    does; each edit rewrites plugin.py with a new VERSION, and a client asks
    the plugin's ServeHTTP every 5 ms until the new VERSION answers.
    """
    plugin = workdir / "edit"
    plugin.mkdir(parents=True, exist_ok=True)
    (plugin / "plugin.json").write_text(json.dumps(EDIT_MANIFEST))
    (plugin / "plugin.py").write_text(EDIT_PLUGIN.format(version=0))
    dev = start_plugin_server(plugin, "-watch", binary=binary_server)
    url = f"{dev.http_url}/plugins/{EDIT_MANIFEST['id']}/version"

    def answer() -> str:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:  # down while it restarts: 404, 503 or a refused read
            return ""

    seconds = []
    try:
        if answer() != "0":
            raise RuntimeError("the plugin to edit does not answer")
        for version in range(1, profile.edits + 1):
            time.sleep(0.3)  # a pause between saves, as a person's
            start = time.perf_counter()
            (plugin / "plugin.py").write_text(EDIT_PLUGIN.format(version=version))
            deadline = start + 30
            while answer() != str(version):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"edit {version} took no effect in 30 s")
                time.sleep(0.005)
            seconds.append(time.perf_counter() - start)
    finally:
        dev.stop()
    ms = sorted(s * 1000 for s in seconds)
    return {
        "edits": len(ms),
        "p50_ms": statistics.median(ms),
        "max_ms": ms[-1],
        "min_ms": ms[0],
    }


# ---- 8. Bundles: size, and install to an activated plugin -------------------------

EXAMPLE = ROOT / "python-sdk" / "examples" / "hello_python"
EXAMPLE_ID = "com.example.hello-python"
#: The second target of the size figure, next to this machine's.
OTHER_PLATFORM = "linux-aarch64"


def host_target() -> tuple[str, str]:
    """This machine's platform and Python, as the bundler names them."""
    here = local_platform()
    if here is None:
        raise RuntimeError("this machine is none of the bundles' platforms")
    return here, f"{sys.version_info[0]}.{sys.version_info[1]}"


def figure_bundle(
    binary_server: Path, profile: Profile, sdk_wheels: Path, workdir: Path
) -> dict[str, Any]:
    """The example plugin's bundle: its size per target, and how long it takes to install.

    ``mattermost-plugin bundle`` writes the bundle for this machine and for
    linux-aarch64. Install time is from ``install_plugin`` to the return of
    ``enable_plugin``, which answers once the plugin is activated: on a
    fresh plugins directory the server makes the plugin's virtualenv from
    the bundle's wheels; on one that has it (the same bundle installed
    before, by another server), it reuses it.
    """
    here, version = host_target()
    others = [] if here == OTHER_PLATFORM else ["--platform", OTHER_PLATFORM]
    out = workdir / "bundle"
    out.mkdir()
    check_output(
        [
            sys.executable, "-m", "mattermost_plugin", "bundle", str(EXAMPLE),
            "--platform", here, *others, "--python", version,
            "--find-links", str(sdk_wheels), "-o", str(out),
        ]
    )  # fmt: skip
    (bundle,) = out.glob("*.tar.gz")
    per_target: dict[str, int] = {}
    with tarfile.open(bundle) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if len(parts) > 3 and parts[1] == "wheels" and member.isfile():
                per_target[parts[2]] = per_target.get(parts[2], 0) + member.size
    plugins = workdir / "plugins"
    seconds: dict[str, list[float]] = {"venv created": [], "venv reused": []}
    for round_ in range(profile.installs):
        if round_:
            shutil.rmtree(plugins)
        for kind in seconds:
            server = start_reference_server(
                "-python", sys.executable, "-plugins-dir", str(plugins), binary=binary_server
            )
            try:
                with server.client(timeout=300) as api, open(bundle, "rb") as data:
                    start = time.perf_counter()
                    api.install_plugin(data, False)
                    api.enable_plugin(EXAMPLE_ID)
                    seconds[kind].append(time.perf_counter() - start)
            finally:
                server.stop()
    return {
        "bundle_mib": bundle.stat().st_size / MIB,
        "targets": 1 + bool(others),
        "wheels_mib_per_target": {t: n / MIB for t, n in sorted(per_target.items())},
        "install_s": {kind: statistics.median(v) for kind, v in seconds.items()},
        "installs": profile.installs,
    }


# ---- 6. Sustained load ------------------------------------------------------------


def figure_sustained(server: ReferenceServer, profile: Profile) -> dict[str, Any]:
    """Calls at a steady rate: latency drift, and growth of fds, threads and RSS."""
    rate, seconds, window = (
        profile.sustained_rate,
        profile.sustained_seconds,
        profile.window_seconds,
    )

    async def load() -> dict[str, Any]:
        samples: list[tuple[float, float]] = []
        loop = asyncio.get_running_loop()
        async with server.async_client() as api:
            for _ in range(profile.warmup):
                await api.kv_get("bench-1k")
            before = {"python": proc_status(os.getpid()), "server": proc_status(server.process.pid)}
            pending: set[asyncio.Future[None]] = set()

            async def one(offset: float) -> None:
                t = time.perf_counter()
                await api.kv_get("bench-1k")
                samples.append((offset, time.perf_counter() - t))

            start = loop.time()
            issued, total = 0, rate * seconds
            while issued < total:
                due = min(total, int((loop.time() - start) * rate) + 1)
                while issued < due:
                    task = asyncio.ensure_future(one(issued / rate))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    issued += 1
                await asyncio.sleep(0.001)
            await asyncio.gather(*pending)
            duration = loop.time() - start
            await asyncio.sleep(0.5)
            after = {"python": proc_status(os.getpid()), "server": proc_status(server.process.pid)}
        first = [lat for offset, lat in samples if offset < window]
        last = [lat for offset, lat in samples if offset >= seconds - window]
        return {
            "rate_per_s": rate,
            "seconds": seconds,
            "achieved_per_s": len(samples) / duration,
            "p50_first_us": statistics.median(first) * 1e6,
            "p50_last_us": statistics.median(last) * 1e6,
            "drift": statistics.median(last) / statistics.median(first),
            "growth": {
                side: {
                    "fds": after[side]["fds"] - before[side]["fds"],
                    "threads": after[side]["Threads"] - before[side]["Threads"],
                    "rss_mib": (after[side]["VmRSS"] - before[side]["VmRSS"]) / MIB,
                }
                for side in ("python", "server")
            },
        }

    return asyncio.run(load())


# ---- 9. High availability: the KV store on PostgreSQL, two nodes ----------------------

#: Threads that call the KV store in figure 9, spread over the nodes.
HA_THREADS = 8
#: The plugin that receives figure 9's cluster events on the second node.
CLUSTER_ECHO = PLUGINS / "cluster_echo"
#: Seconds between two cluster events of figure 9: one at a time, so that the
#: delay measured is delivery, not a queue.
EVENT_GAP = 0.005


def kv_rates(clients: Sequence[mp.Client], calls: int) -> dict[str, float]:
    """KVGet, KVSet and KVCompareAndSet calls per second from HA_THREADS threads.

    The threads take the clients in turn, so with two nodes each serves
    half the calls. The compare-and-set inserts a new key (old value None),
    which succeeds: an atomic write.
    """
    value = b"k" * 1024
    turn = iter(range(1 << 62))
    clients[0].kv_set("ha-1k", value)
    cas = iter(range(1 << 62))

    def client() -> mp.Client:
        return clients[next(turn) % len(clients)]

    ops: dict[str, Callable[[], object]] = {
        "get": lambda: client().kv_get("ha-1k"),
        "set": lambda: client().kv_set("ha-set", value),
        "cas": lambda: client().kv_compare_and_set(f"ha-cas-{next(cas)}", None, value),
    }
    out = {}
    for name, call in ops.items():
        run_threads(call, max(HA_THREADS, calls // 10), HA_THREADS)  # warm the pools
        run = run_threads(call, calls, HA_THREADS)
        out[f"{name}_per_s"] = len(run.latencies) / run.elapsed
    return out


def update_rate(clients: Sequence[mp.Client], updates: int) -> dict[str, float]:
    """kv.update() increments of one key by HA_THREADS threads over the clients."""
    rounds = 0
    lock = threading.Lock()
    clients[0].kv_delete("ha-count")

    def increment(value: int | None) -> int:
        nonlocal rounds
        with lock:
            rounds += 1
        return (value or 0) + 1

    per_thread = max(1, updates // HA_THREADS)

    def worker(api: mp.Client) -> None:
        for _ in range(per_thread):
            kv.update(api, "ha-count", increment)

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(HA_THREADS) as pool:
        for future in [pool.submit(worker, clients[i % len(clients)]) for i in range(HA_THREADS)]:
            future.result()
    elapsed = time.perf_counter() - start
    total = per_thread * HA_THREADS
    if kv.get_json(clients[0], "ha-count") != total:
        raise RuntimeError(f"kv.update() lost increments: {kv.get_json(clients[0], 'ha-count')}")
    return {"updates_per_s": total / elapsed, "rounds_per_update": rounds / total}


def event_delays(publisher: ReferenceServer, receiver: ReferenceServer, events: int) -> Run:
    """Cluster events published one at a time on publisher; their delays on receiver.

    The delay runs from the publisher's call to the receiving plugin's
    OnPluginClusterEvent: Python to Python across two nodes, as a plugin sees it.
    """
    url = f"{receiver.http_url}/plugins/bench.cluster-echo/delays"

    def delays() -> list[int]:
        with urllib.request.urlopen(url, timeout=60) as response:
            got: list[int] = json.loads(response.read())
        return got

    delays()
    options = PluginClusterEventSendOptions(send_type="reliable")
    with publisher.client() as api:
        start = time.perf_counter()
        for i in range(events):
            data = str(time.monotonic_ns()).encode()
            api.publish_plugin_cluster_event(PluginClusterEvent(id=f"e{i}", data=data), options)
            time.sleep(EVENT_GAP)
        elapsed = time.perf_counter() - start
    got: list[int] = []
    deadline = time.monotonic() + 30
    while len(got) < events and time.monotonic() < deadline:
        got += delays()
        time.sleep(0.05)
    if len(got) != events:
        raise RuntimeError(f"{len(got)} of {events} cluster events arrived")
    return Run([ns / 1e9 for ns in got], elapsed)


def figure_ha(binary_server: Path, profile: Profile, pg: PostgreSQL) -> dict[str, Any]:
    """KV calls on memory and PostgreSQL, 1 node and 2; kv.update(); cluster-event delay."""
    out: dict[str, Any] = {"threads": HA_THREADS, "kv": {}, "update": {}}
    for label, store, nodes in (
        ("memory, 1 node", "", 1),
        ("PostgreSQL, 1 node", pg.new_database(), 1),
        ("PostgreSQL, 2 nodes", pg.new_database(), 2),
    ):
        flags = ("-store", store) if store else ()
        servers = [
            start_reference_server(*flags, "-node-id", f"node-{i}", binary=binary_server)
            for i in range(nodes)
        ]
        clients = [s.client() for s in servers]
        try:
            out["kv"][label] = kv_rates(clients, profile.ha_calls)
            if label != "PostgreSQL, 1 node":
                out["update"][label] = update_rate(clients, profile.ha_updates)
        finally:
            for c in clients:
                c.close()
            for s in servers:
                s.stop()
    dsn = pg.new_database()
    a = start_plugin_server(CLUSTER_ECHO, "-store", dsn, "-node-id", "a", binary=binary_server)
    try:
        b = start_plugin_server(CLUSTER_ECHO, "-store", dsn, "-node-id", "b", binary=binary_server)
        try:
            run = event_delays(a, b, profile.ha_events)
        finally:
            b.stop()
    finally:
        a.stop()
    ordered = sorted(run.latencies)
    out["events"] = {
        "count": len(ordered),
        "p50_ms": statistics.median(ordered) * 1e3,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
        "max_ms": ordered[-1] * 1e3,
    }
    return out


# ---- Targets, tables and plots ------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A target of the results table."""

    name: str
    value: float
    limit: float
    unit: str
    at_most: bool  # the value must be at most the limit; else at least
    #: The same figure with grpcio alone in the SDK's place (a raw stub, a
    #: hook on bare grpc.aio, a stream driven by hand), where the run
    #: measures one.
    floor: float | None = None
    #: The same figure on the physical floor (length-prefixed protobuf on a
    #: unix socket, no gRPC), where the run measures one.
    physical: float | None = None

    @property
    def met(self) -> bool:
        """Whether the value meets the limit."""
        return self.value <= self.limit if self.at_most else self.value >= self.limit


#: The streaming RPCs' and ServeHTTP's chunk, which the memory targets scale with.
CHUNK_MIB = 1.0
#: The constant of the streaming memory target: what a process may grow by
#: that does not scale with the chunk (buffers of gRPC, HTTP and the allocator).
STREAM_CONSTANT_MIB = 16.0


def targets(results: dict[str, Any]) -> list[Target]:
    """The targets of issue 10, from the results."""
    unary, async_, hooks = results["unary"]["ratios"], results["async"]["ratios"], results["hooks"]
    streams, streams_top = results["transports"]["ratios"], results["transports"]["in_flight"]
    levels = {int(k.split()[1][1:]) for k in async_ if k.startswith("async x")}
    in_flight = 64 if 64 in levels else max(levels)  # the level, or the smoke's top
    stream_limit = 4 * CHUNK_MIB + STREAM_CONSTANT_MIB
    hook_top = max(
        int(k.rsplit("x", 1)[1]) for k in hooks["figures"] if k.startswith("go-netrpc/hook x")
    )
    # The physical floor against a hook: figure 2b's length-prefixed round
    # trip to Go over net/rpc's hook, each the median p50 of this run.
    physical_floor = (
        results["transports"]["figures"]["floor x1"]["p50_us"]
        / hooks["figures"]["go-netrpc/hook x1"]["p50_us"]
    )
    out = [
        Target(
            "SDK overhead over the raw stub, KVGet p50",
            unary["kvget: SDK / raw stub"],
            1.05,
            "x",
            True,
        ),
        Target(
            "SDK overhead over the raw stub, GetUser p50",
            unary["getuser: SDK / raw stub"],
            1.05,
            "x",
            True,
        ),
        Target(
            "Python SDK vs Go gRPC client, KVGet p50",
            unary["kvget: Python SDK / Go gRPC client"],
            1.5,
            "x",
            True,
            unary["kvget: raw grpcio stub / Go gRPC client"],
        ),
        Target(
            f"AsyncClient at {in_flight} in flight vs one sync caller, throughput",
            async_[f"async x{in_flight} / sync x1 (throughput)"],
            3.0,
            "x",
            False,
            async_[f"raw grpc.aio x{in_flight} / sync x1 (throughput)"],
        ),
        Target(
            "AsyncClient (call stream) vs Go gRPC client, KVGet p50",
            streams["async stream x1 / Go gRPC client (p50)"],
            1.5,
            "x",
            True,
            streams["grpcio stream x1 / Go gRPC client (p50)"],
            streams["floor x1 / Go gRPC client (p50)"],
        ),
        Target(
            f"AsyncClient (call stream) at {streams_top} in flight vs one sync caller, throughput",
            streams[f"async stream x{streams_top} / sync x1 (throughput)"],
            10.0,
            "x",
            False,
            streams[f"grpcio stream x{streams_top} / sync x1 (throughput)"],
        ),
        Target(
            "AsyncClient at 1 in flight vs sync Client, throughput",
            async_["async x1 / sync x1 (throughput)"],
            1.0,
            "x",
            False,
            async_["raw grpc.aio x1 / sync x1 (throughput)"],
        ),
        Target(
            "Hook round trip vs Go net/rpc hook, plain handler p50",
            hooks["ratios"]["sync handler x1: Python / Go net/rpc"],
            2.0,
            "x",
            True,
            hooks["ratios"]["bare grpc.aio x1: Python / Go net/rpc"],
        ),
        Target(
            "Hook round trip vs Go net/rpc hook, async handler p50",
            hooks["ratios"]["async handler x1: Python / Go net/rpc"],
            2.0,
            "x",
            True,
            hooks["ratios"]["bare grpc.aio x1: Python / Go net/rpc"],
        ),
        Target(
            "Hook on the hook stream vs Go net/rpc hook, async handler p50",
            hooks["ratios"]["async handler on the hook stream x1: Python / Go net/rpc"],
            2.0,
            "x",
            True,
            hooks["ratios"]["bare grpc.aio on the hook stream x1: Python / Go net/rpc"],
            physical_floor,
        ),
        Target(
            f"Hooks on the hook stream at {hook_top} in flight vs Go net/rpc, async handler,"
            " throughput",
            hooks["ratios"][
                f"async handler on the hook stream x{hook_top}: throughput, Python / Go net/rpc"
            ],
            0.5,
            "x",
            False,
            hooks["ratios"][
                f"bare grpc.aio on the hook stream x{hook_top}: throughput, Python / Go net/rpc"
            ],
        ),
        Target("Spawn to handshake", hooks["start_ms"]["spawn_to_handshake"], 300.0, "ms", True),
        Target(
            "Edit to effect under the dev server's -watch, p50",
            results["edit"]["p50_ms"],
            1000.0,
            "ms",
            True,
        ),
        Target(
            "Bundle install to an activated plugin, making its venv",
            results["bundle"]["install_s"]["venv created"] * 1000,
            10000.0,
            "ms",
            True,
        ),
        Target(
            "Bundle install to an activated plugin, its venv reused",
            results["bundle"]["install_s"]["venv reused"] * 1000,
            1000.0,
            "ms",
            True,
        ),
        Target(
            "import mattermost_plugin over import grpc",
            results["imports_ms"]["mattermost_plugin over grpc"],
            50.0,
            "ms",
            True,
        ),
    ]
    large, http = results["large"], results["serve_http"]
    for name, value in (
        ("upload, Python", large["upload"]["python_peak_growth_mib"]),
        ("upload, server", large["upload"]["server_peak_growth_mib"]),
        ("download, Python", large["download"]["python_peak_growth_mib"]),
        ("download, server", large["download"]["server_peak_growth_mib"]),
        ("ServeHTTP, plugin", http["plugin_peak_growth_mib"]),
        ("ServeHTTP, server", http["server_peak_growth_mib"]),
    ):
        out.append(Target(f"Streaming peak RSS growth, {name}", value, stream_limit, "MiB", True))
    return out


def fmt(value: float, unit: str) -> str:
    """A value with its unit."""
    return f"{value:.2f}{unit}" if unit == "x" else f"{value:.1f} {unit}"


def markdown(results: dict[str, Any], goals: list[Target]) -> str:
    """The results as the markdown of results.md."""
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Profile `{results['profile']}`, {results['date']}.",
        f"Machine: {m['cores']} cores, {m['cpu']};",
        f"{m['system']}; Python {m['python']}, {m['go']}, grpcio {m['grpcio']}"
        + (f" (and {m['grpcio_newest']} in figure 2b)." if m.get("grpcio_newest") else "."),
        "Ratios are medians of per-repetition ratios,",
        "each repetition measuring both sides back to back;",
        "spread is (max - min) / median of the repetitions' p50. Reproduce with `make bench`.",
        "Python modules run from bytecode caches, as a wheel installs them.",
        "",
        "## Targets",
        "",
        "The floor is the same figure with grpcio alone in the SDK's place:",
        "a raw stub on the same channel, the hook on bare grpc.aio, or the stream",
        "driven by hand on bare grpc.aio (for a throughput, frames of all the calls",
        "in flight at once: grpcio's ceiling). The physical floor is the same round",
        "trip as length-prefixed protobuf on a unix socket, without gRPC.",
        "",
        "| target | measured | floor | physical floor | limit | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in goals:
        limit = ("<= " if t.at_most else ">= ") + fmt(t.limit, t.unit)
        floor = "" if t.floor is None else fmt(t.floor, t.unit)
        physical = "" if t.physical is None else fmt(t.physical, t.unit)
        met = "pass" if t.met else "**miss**"
        lines.append(
            f"| {t.name} | {fmt(t.value, t.unit)} | {floor} | {physical} | {limit} | {met} |"
        )
    for title, key in (
        ("1. An API unary call", "unary"),
        ("2. AsyncClient throughput (KVGet)", "async"),
        ("2b. AsyncClient transports, and grpcio's experiment flag (KVGet)", "transports"),
        ("3. A hook round trip (MessageWillBePosted)", "hooks"),
    ):
        lines += [
            "",
            f"## {title}",
            "",
            "| measurement | p50 | p99 | calls/s | spread |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, f in sorted(results[key]["figures"].items()):
            lines.append(
                f"| {name} | {f['p50_us']:.1f} µs | {f['p99_us']:.1f} µs "
                f"| {f['throughput_per_s']:.0f} | {f['spread']:.0%} |"
            )
        lines += ["", "| ratio | value |", "| --- | --- |"]
        lines += [f"| {name} | {value:.2f}x |" for name, value in results[key]["ratios"].items()]
        if key == "unary":
            cost = results["unary"]["sdk_cost_us"]
            lines += [
                "",
                "The SDK's own Python cost per `kv_get`, on a stub that answers at once: "
                f"{cost:.2f} µs.",
            ]
    s = results["hooks"]["start_ms"]
    i = results["imports_ms"]
    # What the lazy import defers: the names every plugin takes at start.
    names = i["a plugin's names (Plugin, Client, run) over mattermost_plugin"]
    names_over_grpc = i["mattermost_plugin and a plugin's names over grpc"]
    lines += [
        "",
        "## 4. Plugin start",
        "",
        "| step | ms |",
        "| --- | --- |",
        f"| spawn to handshake | {s['spawn_to_handshake']:.0f} |",
        f"| handshake to activated (Implemented, OnActivate) | {s['handshake_to_active']:.0f} |",
        f"| activated to the first hook answered | {s['active_to_first_hook']:.0f} |",
        f"| spawn to the first hook answered | {s['spawn_to_first_hook']:.0f} |",
        f"| `import grpc` | {i['grpc']:.0f} |",
        f"| `import mattermost_plugin` (grpc included) | {i['mattermost_plugin']:.0f} |",
        f"| of which mattermost_plugin over grpc | {i['mattermost_plugin over grpc']:.0f} |",
        f"| then `from mattermost_plugin import Client, Plugin, run` | {names:.0f} |",
        f"| the import and those names, over grpc | {names_over_grpc:.0f} |",
    ]
    large, http = results["large"], results["serve_http"]
    mib = results["large_mib"]
    lines += [
        "",
        f"## 5. Large data ({mib} MiB)",
        "",
        f"Each transfer follows a smaller one of the same kind ({WARM_MIB} MiB), so that what",
        "a process sets up for its first transfer (allocator arenas, gRPC's buffers) is not",
        "counted; the peak growth is measured from the transfer's start.",
        "",
        "| transfer | MB/s | Python peak growth | server peak growth |",
        "| --- | --- | --- | --- |",
        *(
            f"| {label} | {large[mode]['mb_per_s']:.0f} "
            f"| {large[mode]['python_peak_growth_mib']:.1f} MiB "
            f"| {large[mode]['server_peak_growth_mib']:.1f} MiB |"
            for label, mode in (
                ("upload (UploadFile)", "upload"),
                ("download (GetFile)", "download"),
            )
        ),
        f"| ServeHTTP response | {http['mb_per_s']:.0f} "
        f"| {http['plugin_peak_growth_mib']:.1f} MiB (plugin) "
        f"| {http['server_peak_growth_mib']:.1f} MiB |",
    ]
    edit = results["edit"]
    lines += [
        "",
        "## 7. Edit to effect (`mattermost-plugin dev --watch`)",
        "",
        "From a write of plugin.py to the first hook answered by the new code,",
        f"over {edit['edits']} edits: the dev server notices the change, stops the plugin",
        "(OnDeactivate), starts the new code (spawn, handshake, OnActivate), and ServeHTTP",
        "answers with it.",
        "",
        "| p50 | min | max |",
        "| --- | --- | --- |",
        f"| {edit['p50_ms']:.0f} ms | {edit['min_ms']:.0f} ms | {edit['max_ms']:.0f} ms |",
    ]
    b = results["bundle"]
    lines += [
        "",
        "## 8. Bundles (`mattermost-plugin bundle`, then InstallPlugin and EnablePlugin)",
        "",
        f"The example plugin, bundled for {b['targets']} targets: {b['bundle_mib']:.1f} MiB.",
        "Install is from `install_plugin` to the return of `enable_plugin`, which answers once",
        f"the plugin is activated; median of {b['installs']}.",
        "",
        "| target | wheels (unpacked) |",
        "| --- | --- |",
        *(f"| {t} | {mib:.1f} MiB |" for t, mib in b["wheels_mib_per_target"].items()),
        "",
        "| install | seconds |",
        "| --- | --- |",
        *(f"| {kind} | {sec:.2f} |" for kind, sec in b["install_s"].items()),
    ]
    sus = results["sustained"]
    lines += [
        "",
        f"## 6. Sustained load ({sus['rate_per_s']} KVGet/s for {sus['seconds']} s, AsyncClient)",
        "",
        f"Achieved {sus['achieved_per_s']:.0f} calls/s.",
        f"p50 {sus['p50_first_us']:.0f} µs in the first window,",
        f"{sus['p50_last_us']:.0f} µs in the last: drift {sus['drift']:.2f}x.",
        "",
        "| process | fds | threads | RSS |",
        "| --- | --- | --- | --- |",
    ]
    for side, g in sus["growth"].items():
        lines.append(f"| {side} | {g['fds']:+d} | {g['threads']:+d} | {g['rss_mib']:+.1f} MiB |")
    ha = results["ha"]
    ev = ha["events"]
    lines += [
        "",
        "## 9. High availability (`-store postgres://...`, `-node-id`)",
        "",
        f"KV calls of 1 KiB values from {ha['threads']} threads (sync Client), which take the",
        "nodes in turn; the PostgreSQL server is local, on a unix socket, with fsync off.",
        "CAS is a KVCompareAndSet that inserts a new key (old value None).",
        "",
        "| store | get/s | set/s | CAS/s |",
        "| --- | --- | --- | --- |",
        *(
            f"| {label} | {r['get_per_s']:.0f} | {r['set_per_s']:.0f} | {r['cas_per_s']:.0f} |"
            for label, r in ha["kv"].items()
        ),
        "",
        f"`kv.update()` increments of one key from {ha['threads']} threads at once",
        "(rounds: how many read and compare-and-set rounds each increment took).",
        "",
        "| store | updates/s | rounds per update |",
        "| --- | --- | --- |",
        *(
            f"| {label} | {r['updates_per_s']:.0f} | {r['rounds_per_update']:.2f} |"
            for label, r in ha["update"].items()
        ),
        "",
        f"Cluster-event delivery, Python to Python across two nodes ({ev['count']} reliable",
        "events, one at a time): from `publish_plugin_cluster_event` on node a to the",
        "plugin's `on_plugin_cluster_event` on node b.",
        "",
        "| p50 | p99 | max |",
        "| --- | --- | --- |",
        f"| {ev['p50_ms']:.2f} ms | {ev['p99_ms']:.2f} ms | {ev['max_ms']:.2f} ms |",
    ]
    return "\n".join(lines) + "\n"


def plots(results: dict[str, Any], runs: dict[str, dict[str, list[Run]]], out: Path) -> None:
    """Draw latency.png and throughput.png."""
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (title, group, names) in zip(
        axes,
        (
            (
                "KVGet of 1 KiB, one caller",
                "unary",
                ["python-raw/kvget", "python-sdk/kvget", "go-grpc/kvget", "go-netrpc/kvget"],
            ),
            (
                "MessageWillBePosted, one at a time",
                "hooks",
                [
                    "python-sync/hook x1",
                    "python-async/hook x1",
                    "bare-aio/hook x1",
                    "go-netrpc/hook x1",
                    "go-direct/hook x1",
                ],
            ),
        ),
    ):
        data = [[lat * 1e6 for run in runs[group][name] for lat in run.latencies] for name in names]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(names) + 1), [n.split(" ")[0].replace("/", "\n") for n in names])
        ax.set_yscale("log")
        ax.set_ylabel("latency per call (µs, log)")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    figures = results["async"]["figures"]
    flights = sorted(int(k.split("x")[1]) for k in figures if k.startswith("async x"))
    ax = axes[0]
    ax.plot(
        flights,
        [figures[f"async x{n}"]["throughput_per_s"] for n in flights],
        "o-",
        label="AsyncClient",
    )
    ax.plot(
        flights,
        [figures[f"raw grpc.aio x{n}"]["throughput_per_s"] for n in flights],
        "s--",
        label="raw grpc.aio stub (floor)",
    )
    ax.axhline(
        figures["sync x1"]["throughput_per_s"],
        color="gray",
        ls="--",
        label="sync Client, one caller",
    )
    ax.axhline(
        figures["sync threads x16"]["throughput_per_s"],
        color="black",
        ls=":",
        label="sync Client, 16 threads",
    )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("calls in flight")
    ax.set_ylabel("KVGet calls per second")
    ax.set_title("API throughput against concurrency")
    ax.legend()
    ax.grid(alpha=0.3)
    ax = axes[1]
    hooks = results["hooks"]["figures"]
    levels = sorted({int(k.split(" x")[1]) for k in hooks})
    for name, label in (
        ("python-sync/hook", "Python, plain handler"),
        ("python-async/hook", "Python, async handler"),
        ("bare-aio/hook", "bare grpc.aio, no SDK (floor)"),
        ("go-netrpc/hook", "Go plugin, net/rpc"),
    ):
        ax.plot(
            levels, [hooks[f"{name} x{n}"]["throughput_per_s"] for n in levels], "o-", label=label
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("posts in flight")
    ax.set_ylabel("hook calls per second (log)")
    ax.set_title("MessageWillBePosted throughput against concurrency")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every figure and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--server", type=Path, default=ROOT / "bin" / "pluginapi-server")
    parser.add_argument("--pluginbench", type=Path, default=ROOT / "bin" / "pluginbench")
    parser.add_argument(
        "--sdk-wheels",
        type=Path,
        required=True,
        help="a directory with the SDK's wheel, which bundles carry",
    )
    parser.add_argument(
        "--newest-python",
        type=Path,
        help="an interpreter with the SDK at the newest grpcio and protobuf that its ranges"
        " allow: figure 2b measures it beside the lock's",
    )
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def step(name: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {name}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "profile": args.profile,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "settings": asdict(profile),
        "large_mib": profile.large_mib,
    }
    runs: dict[str, dict[str, list[Run]]] = {}
    compile_sources()
    server = start_reference_server(binary=args.server)
    try:
        with server.client() as api:
            user_id, channel_id = scene(api)
        step("1. unary calls")
        unary = figure_unary(server, args.pluginbench, profile, user_id)
        step("2. AsyncClient throughput")
        async_ = figure_async(server, profile)
        step("2b. AsyncClient transports")
        pythons = {"": sys.executable}
        if args.newest_python:
            pythons[NEWEST_LABEL] = str(args.newest_python)
            results["machine"]["grpcio_newest"] = subprocess.run(
                [str(args.newest_python), "-c", "import grpc; print(grpc.__version__)"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        transports = figure_transports(server, args.pluginbench, profile, user_id, pythons)
        step("3 and 4. hooks and plugin start")
        hooks = figure_hooks(args.pluginbench, profile)
        results["imports_ms"] = import_times(profile)
        step("5. large data")
        results["large"] = figure_large(server, profile, channel_id)
        results["serve_http"] = figure_serve_http(args.server, profile)
        step("6. sustained load")
        results["sustained"] = figure_sustained(server, profile)
        step("7. edit to effect")
        with tempfile.TemporaryDirectory(prefix="bench-edit-") as workdir:
            results["edit"] = figure_edit(args.server, profile, Path(workdir))
        step("8. bundles")
        with tempfile.TemporaryDirectory(prefix="bench-bundle-") as workdir:
            results["bundle"] = figure_bundle(args.server, profile, args.sdk_wheels, Path(workdir))
        step("9. high availability")
        with running() as pg:
            results["ha"] = figure_ha(args.server, profile, pg)
    finally:
        server.stop()
    for key, figure in (
        ("unary", unary),
        ("async", async_),
        ("transports", transports),
        ("hooks", hooks),
    ):
        runs[key] = figure.pop("_runs")
        results[key] = figure
    goals = targets(results)
    results["targets"] = [{**asdict(t), "met": t.met} for t in goals]
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(results, goals))
    step("plots")
    plots(results, runs, args.out)
    step(f"done: {sum(t.met for t in goals)} of {len(goals)} targets met; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
