"""The AsyncClient's transports, measured in a process of their own.

run.py starts this script once per repetition and setting, so that
``GRPC_EXPERIMENTS`` (which grpcio reads when it is imported) and the
interpreter (the lock's grpcio, or the newest) differ between runs while
the server stays the same:

    python transports.py TARGET TOKEN FLOOR_SOCKET CALLS WARMUP IN_FLIGHT...

It prints one JSON object: for each measurement, its latencies (seconds)
and elapsed time. The measurements take turns in slices, so that the
machine's drift hits them alike:

- ``sync x1``: the sync Client, one call at a time (unary);
- ``async stream xN`` and ``async unary xN``: the AsyncClient on its call
  stream and on unary calls, N calls in flight;
- ``floor x1``: the physical floor, a length-prefixed KVGetRequest and
  KVGetResponse on a unix socket to Go (pluginbench floor), no gRPC.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import mattermost_plugin as mp
from mattermost_plugin.grpc import kv_pb2

#: How many turns each measurement takes.
SLICES = 4
KEY = "bench-1k"


def timed_sync(call: Callable[[], object], calls: int) -> tuple[list[float], float]:
    """Latencies and elapsed time of calls calls of call() in a row."""
    latencies = []
    start = time.perf_counter()
    for _ in range(calls):
        t = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t)
    return latencies, time.perf_counter() - start


async def timed_async(
    call: Callable[[], Awaitable[object]], calls: int, in_flight: int
) -> tuple[list[float], float]:
    """Latencies and elapsed time of calls calls of call(), in_flight at a time."""
    latencies: list[float] = []
    counter = iter(range(calls))

    async def worker() -> None:
        while next(counter, None) is not None:
            t = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return latencies, time.perf_counter() - start


class Floor:
    """A client of pluginbench floor: one KVGet as length-prefixed protobuf."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.request = kv_pb2.KVGetRequest(key=KEY)

    def call(self) -> bytes:
        """Send the request, read and decode the answer."""
        body = self.request.SerializeToString()
        self.sock.sendall(struct.pack(">I", len(body)) + body)
        size = struct.unpack(">I", self._read(4))[0]
        value: bytes = kv_pb2.KVGetResponse.FromString(self._read(size)).value
        return value

    def _read(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the floor server closed the connection")
            data += chunk
        return data


async def measure(
    target: str, token: str, floor: str, calls: int, warmup: int, levels: list[int]
) -> dict[str, dict[str, Any]]:
    """Every measurement, its slices joined."""
    piece = max(1, calls // SLICES)
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, part: tuple[list[float], float]) -> None:
        entry = out.setdefault(name, {"latencies": [], "elapsed": 0.0})
        entry["latencies"] += part[0]
        entry["elapsed"] += part[1]

    floor_client = Floor(floor)
    with mp.Client(target, token=token) as sync:
        async with (
            mp.AsyncClient(target, token=token, transport="stream") as stream,
            mp.AsyncClient(target, token=token, transport="unary") as unary,
        ):
            for _ in range(warmup):
                sync.kv_get(KEY)
                floor_client.call()
                await stream.kv_get(KEY)
                await unary.kv_get(KEY)
            clients = {"stream": stream, "unary": unary}
            for _ in range(SLICES):
                add("sync x1", timed_sync(lambda: sync.kv_get(KEY), piece))
                add("floor x1", timed_sync(floor_client.call, piece))
                for n in levels:
                    for name, client in clients.items():
                        call = functools.partial(client.kv_get, KEY)
                        add(f"async {name} x{n}", await timed_async(call, piece, n))
    floor_client.sock.close()
    return out


def main(argv: list[str]) -> int:
    """Measure, print the JSON."""
    target, token, floor, calls, warmup, *levels = argv
    result = asyncio.run(
        measure(target, token, floor, int(calls), int(warmup), [int(n) for n in levels])
    )
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
