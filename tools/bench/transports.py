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
  KVGetResponse on a unix socket to Go (pluginbench floor), no gRPC;
- ``grpcio stream x1``: grpcio's floor for the call stream, with grpcio
  alone in the SDK's place: one call per frame, written and read by hand
  on a bare ``grpc.aio`` stream;
- ``grpcio stream xN``: grpcio's ceiling for N calls in flight on the
  stream: frames of N calls, each written at once and read to its last
  answer before the next, as no coalescing writer could do better.
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

import grpc
import grpc.aio

import mattermost_plugin as mp
from mattermost_plugin.config import AUTH_SCHEME, METADATA_KEY
from mattermost_plugin.grpc import kv_pb2, streams_pb2

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


class RawStream:
    """A bare grpc.aio call stream (PluginStreams.CallStream): frames by hand, no SDK."""

    PATH = "/mattermost.plugin.PluginStreams/CallStream"
    METHOD = "/mattermost.plugin.PluginAPI/KVGet"

    def __init__(self, target: str, token: str) -> None:
        self.channel = grpc.aio.insecure_channel(target)
        self.call: Any = self.channel.stream_stream(
            self.PATH,
            request_serializer=streams_pb2.CallStreamRequest.SerializeToString,
            response_deserializer=streams_pb2.CallStreamResponse.FromString,
        )(metadata=((METADATA_KEY, f"{AUTH_SCHEME} {token}"),))
        self.ids = 0

    async def batch(self, size: int) -> None:
        """One frame of ``size`` KVGet calls; wait for every answer, decode each."""
        frame = streams_pb2.CallStreamRequest()
        for _ in range(size):
            self.ids += 1
            payload = kv_pb2.KVGetRequest(key=KEY).SerializeToString()
            frame.calls.add(id=self.ids, method=self.METHOD, payload=payload)
        await self.call.write(frame)
        left = size
        while left:
            answers = (await self.call.read()).answers
            for answer in answers:
                kv_pb2.KVGetResponse.FromString(answer.payload)
            left -= len(answers)

    async def close(self) -> None:
        """End the stream and the channel."""
        self.call.cancel()
        await self.channel.close()


async def timed_batches(raw: RawStream, calls: int, size: int) -> tuple[list[float], float]:
    """Calls in frames of ``size``; each call's latency is its frame's round trip."""
    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(max(1, calls // size)):
        t = time.perf_counter()
        await raw.batch(size)
        latencies += [time.perf_counter() - t] * size
    return latencies, time.perf_counter() - start


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
            raw = RawStream(target, token)
            for _ in range(warmup):
                sync.kv_get(KEY)
                floor_client.call()
                await stream.kv_get(KEY)
                await unary.kv_get(KEY)
                await raw.batch(1)
            clients = {"stream": stream, "unary": unary}
            for _ in range(SLICES):
                add("sync x1", timed_sync(lambda: sync.kv_get(KEY), piece))
                add("floor x1", timed_sync(floor_client.call, piece))
                for n in levels:
                    for name, client in clients.items():
                        call = functools.partial(client.kv_get, KEY)
                        add(f"async {name} x{n}", await timed_async(call, piece, n))
                    add(f"grpcio stream x{n}", await timed_batches(raw, piece, n))
            await raw.close()
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
