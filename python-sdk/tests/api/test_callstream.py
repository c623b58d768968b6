"""AsyncClient's two transports: unary calls, or one call stream (CallStream).

The rest of tests/api runs the AsyncClient over whichever transport
MATTERMOST_PLUGIN_API_TRANSPORT names (`make test-py` runs it once with
each). These tests run the fault cases over both in one session, and check
that a call fails on the stream exactly as it fails as a unary call: the
same exception class, message and AppError.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import grpc
import pytest

import mattermost_plugin as mp
from mattermost_plugin._internal import callstream
from mattermost_plugin.config import ChannelOptions
from mattermost_plugin.grpc import streams_pb2
from mattermost_plugin.models import User

from conftest import GoServer, start_server
from fake_server import FakePluginAPI, serve

TRANSPORTS = ["stream", "unary"]
MIB = 1 << 20


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def on_stream(api: mp.AsyncClient) -> bool:
    """Whether api's call stream is open (its calls go on it)."""
    calls = api._calls
    return calls is not None and calls._call is not None


def failure(error: BaseException) -> tuple[Any, ...]:
    """What a caller sees of a failure: class, message, code and AppError."""
    assert isinstance(error, mp.PluginAPIError), repr(error)
    return (type(error), str(error), error.code, error.app_error)


async def outcome(call: Any) -> Any:
    try:
        return await call
    except mp.PluginAPIError as error:
        return failure(error)


# -- the transport option ------------------------------------------------------


def test_transport_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="transport must be 'stream' or 'unary', not 'h3'"):
        mp.AsyncClient("unix:///x", token="t", transport="h3")
    with pytest.raises(TypeError, match="transport must be a str"):
        mp.AsyncClient("unix:///x", token="t", transport=1)  # type: ignore[arg-type]
    monkeypatch.setenv("MATTERMOST_PLUGIN_API_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ValueError, match="MATTERMOST_PLUGIN_API_TRANSPORT must be"):
        mp.AsyncClient("unix:///x", token="t")


async def test_the_default_is_the_stream_and_the_env_picks(
    go_server: GoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MATTERMOST_PLUGIN_API_TRANSPORT", raising=False)
    async with mp.AsyncClient(go_server.target, token=go_server.token) as api:
        await api.kv_set("k", b"v")
        assert on_stream(api)
    monkeypatch.setenv("MATTERMOST_PLUGIN_API_TRANSPORT", "unary")
    async with mp.AsyncClient(go_server.target, token=go_server.token) as api:
        await api.kv_set("k", b"v")
        assert api._calls is None
    async with mp.AsyncClient(go_server.target, token=go_server.token, transport="stream") as api:
        assert await api.kv_get("k") == b"v"
        assert on_stream(api)


# -- the same failures on both transports --------------------------------------


async def failures(server: GoServer, transport: str) -> list[Any]:
    """The outcomes of failing calls of several kinds."""
    async with mp.AsyncClient(server.target, token=server.token, transport=transport) as api:
        out = [
            await outcome(api.get_user("nobody")),  # NOT_FOUND with an AppError
            await outcome(api.create_user(User(username="x"))),  # INVALID_ARGUMENT
            await outcome(api.get_channel_by_name("no-team", "town-square", False)),
        ]
        assert on_stream(api) == (transport == "stream")
        return out


async def test_failures_are_the_same_on_both_transports(go_server: GoServer) -> None:
    stream, unary = await failures(go_server, "stream"), await failures(go_server, "unary")
    assert stream == unary
    assert [f[0] for f in stream] == [
        mp.NotFoundError,
        mp.ValidationError,
        mp.NotFoundError,
    ]
    assert stream[0][3].id == "app.user.missing_account.const"


async def test_the_cause_is_a_grpc_error_as_for_unary(go_server: GoServer, transport: str) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token, transport=transport) as api:
        with pytest.raises(mp.NotFoundError) as info:
            await api.get_user("nobody")
    cause = info.value.__cause__
    assert isinstance(cause, grpc.aio.AioRpcError)
    assert cause.code() is grpc.StatusCode.NOT_FOUND


async def test_a_bad_token_is_unauthenticated_on_both(go_server: GoServer) -> None:
    seen = []
    for transport in TRANSPORTS:
        async with mp.AsyncClient(go_server.target, token="wrong", transport=transport) as api:
            seen.append(await outcome(api.kv_get("k")))
    assert seen[0] == seen[1]
    assert seen[0][0] is mp.UnauthenticatedError


# -- deadlines, cancellation, close --------------------------------------------


async def test_a_deadline_is_per_call(go_server: GoServer, transport: str) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token, transport=transport) as api:
        await api.kv_set("k", b"v")
        await api.kv_set("big", bytes(16 * MIB))
        # 16 MiB take longer than a millisecond to come.
        short = asyncio.ensure_future(api.kv_get("big", timeout=0.001))
        others = [asyncio.ensure_future(api.kv_get("k")) for _ in range(20)]
        # As a unary call, the server's reset (RST_STREAM) sometimes beats
        # grpcio's own timer, which then reports CANCELLED: a grpcio quirk
        # that the stream, whose deadline is the client's timer, has not.
        expected = mp.DeadlineExceededError if transport == "stream" else mp.PluginAPIError
        with pytest.raises(expected) as info:
            await short
        assert info.value.code in (
            grpc.StatusCode.DEADLINE_EXCEEDED,
            *([] if transport == "stream" else [grpc.StatusCode.CANCELLED]),
        )
        if transport == "stream":
            assert str(info.value) == (
                "DEADLINE_EXCEEDED: KVGet did not finish within its deadline of 0.001 s: "
                "Deadline Exceeded"
            )
        assert await asyncio.gather(*others) == [b"v"] * 20


async def test_cancelling_one_call_leaves_the_others(go_server: GoServer, transport: str) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token, transport=transport) as api:
        await api.kv_set("k", b"v")
        tasks = [asyncio.ensure_future(api.kv_get("k")) for _ in range(50)]
        await asyncio.sleep(0)
        tasks[7].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[7], asyncio.CancelledError)
        assert results[:7] + results[8:] == [b"v"] * 49
        # The stream is still good.
        assert await api.kv_get("k") == b"v"
        assert on_stream(api) == (transport == "stream")


async def test_cancelling_the_call_that_opens_the_stream(go_server: GoServer) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token, transport="stream") as api:
        tasks = [asyncio.ensure_future(api.kv_get("k")) for _ in range(10)]
        await asyncio.sleep(0)
        tasks[0].cancel()  # while it opens the stream for all ten
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError)
        assert results[1:] == [None] * 9
        assert on_stream(api)


async def test_close_mid_call_fails_the_calls_as_closed(
    go_server: GoServer, transport: str
) -> None:
    api = mp.AsyncClient(go_server.target, token=go_server.token, transport=transport)
    await api.kv_set("k", b"v")
    tasks = [asyncio.ensure_future(api.kv_get("k")) for _ in range(200)]
    await asyncio.sleep(0)
    await api.close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = [r for r in results if not isinstance(r, bytes)]
    assert failed, "close() came after every call"
    assert all(isinstance(r, mp.ClientClosedError) for r in failed), failed
    with pytest.raises(mp.ClientClosedError):
        await api.kv_get("k")


# -- sizes ---------------------------------------------------------------------


async def test_a_megabyte_each_way(go_server: GoServer, transport: str) -> None:
    value = os.urandom(MIB)
    async with mp.AsyncClient(go_server.target, token=go_server.token, transport=transport) as api:
        small = [asyncio.ensure_future(api.kv_get("none")) for _ in range(10)]
        await api.kv_set("big", value)  # a request past the threshold goes unary
        assert await api.kv_get("big") == value  # the answer comes on the stream
        assert await asyncio.gather(*small) == [None] * 10
        assert on_stream(api) == (transport == "stream")


async def test_messages_over_the_limit_fail_alike(go_server: GoServer) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token) as writer:
        await writer.kv_set("big", b"x" * (2 * MIB))
    seen = []
    for transport in TRANSPORTS:
        options = ChannelOptions(max_message_size=MIB)
        async with mp.AsyncClient(
            go_server.target, token=go_server.token, transport=transport, channel_options=options
        ) as api:
            too_big = await outcome(api.kv_set("other", b"y" * (2 * MIB)))
            answer_too_big = await outcome(api.kv_get("big"))
            assert await api.kv_get("none") is None  # the client still works
            seen.append((too_big[0], too_big[2], answer_too_big[0], answer_too_big[2]))
    assert (
        seen[0]
        == seen[1]
        == (
            mp.ResourceExhaustedError,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            mp.ResourceExhaustedError,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        )
    )


async def test_a_storm_of_a_thousand_calls(go_server: GoServer, transport: str) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token, transport=transport) as api:
        await asyncio.gather(*(api.kv_set(f"k{i}", str(i).encode()) for i in range(1000)))
        values = await asyncio.gather(*(api.kv_get(f"k{i}") for i in range(1000)))
        assert values == [str(i).encode() for i in range(1000)]
        assert on_stream(api) == (transport == "stream")


# -- the server goes away -------------------------------------------------------


async def storm_until(api: mp.AsyncClient, stop: Any) -> list[BaseException | bytes | None]:
    """Calls in flight while stop() runs; their outcomes."""
    await api.kv_set("k", b"v")
    tasks = [asyncio.ensure_future(api.kv_get("k")) for _ in range(300)]
    await asyncio.sleep(0.002)
    await asyncio.get_running_loop().run_in_executor(None, stop)
    return list(await asyncio.gather(*tasks, return_exceptions=True))


@pytest.mark.parametrize("how", ["kill", "graceful"])
async def test_server_stop_mid_call(transport: str, how: str) -> None:
    server = start_server()
    try:
        async with mp.AsyncClient(server.target, token=server.token, transport=transport) as api:
            stop = server.process.kill if how == "kill" else server.stop
            results = await storm_until(api, stop)
            for result in results:
                # Answered, or failed as unavailable; never a raw grpc error.
                assert result == b"v" or isinstance(result, mp.UnavailableError), repr(result)
            if how == "graceful":
                assert results.count(b"v") == len(results)  # the drain answers them
            with pytest.raises(mp.UnavailableError):
                await api.kv_get("k")
            with pytest.raises(mp.UnavailableError):
                await api.kv_get("k")
    finally:
        server.stop()


# -- fallback and reconnection ---------------------------------------------------


async def test_a_server_without_the_stream_gets_unary_calls(tmp_path: Path) -> None:
    fake = FakePluginAPI()
    with serve(fake, tmp_path) as target:
        async with mp.AsyncClient(target, token="t", transport="stream") as api:
            assert await api.kv_get("abc") == b"abc"
            assert await asyncio.gather(*(api.kv_get(str(i)) for i in range(20))) == [
                str(i).encode() for i in range(20)
            ]
            assert api._calls is not None and api._calls._state.value == "unoffered"
    assert len(fake.metadata) == 21  # every call reached the unary handler


class Proxy:
    """A unix socket that relays connections to the server's; cut() drops them."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._dir = tempfile.mkdtemp(dir="/tmp", prefix="cs-")
        self.path = f"{self._dir}/proxy.sock"
        self.target = f"unix://{self.path}"
        self._links: list[asyncio.StreamWriter] = []
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_unix_server(self._relay, self.path)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.cut()
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(self._dir)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        path = "/" + self.upstream.removeprefix("unix:").lstrip("/")
        up_reader, up_writer = await asyncio.open_unix_connection(path)
        self._links += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for writer in self._links:
            writer.transport.abort()
        self._links = []


async def test_a_dropped_stream_fails_its_calls_and_is_reopened(go_server: GoServer) -> None:
    async with (
        Proxy(go_server.target) as proxy,
        mp.AsyncClient(proxy.target, token=go_server.token, transport="stream") as api,
    ):
        await api.kv_set("k", b"v")
        assert on_stream(api)
        tasks = [asyncio.ensure_future(api.kv_get("k")) for _ in range(100)]
        await asyncio.sleep(0.001)
        proxy.cut()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(r == b"v" or isinstance(r, mp.UnavailableError) for r in results), results
        # New calls work at once (unary while the stream backs off), and
        # the stream is reopened after the backoff.
        for _ in range(200):
            with contextlib.suppress(mp.UnavailableError):  # the channel reconnecting
                assert await api.kv_get("k") == b"v"
            if on_stream(api):
                break
            await asyncio.sleep(0.02)
        assert on_stream(api)
        assert await api.kv_get("k") == b"v"


class _FakeStreamCall:
    """A grpc.aio stream call in memory: frames written come out of ``written``."""

    def __init__(self) -> None:
        self.written: asyncio.Queue[Any] = asyncio.Queue()
        self.answers: asyncio.Queue[Any] = asyncio.Queue()

    async def initial_metadata(self) -> tuple[()]:
        return ()

    def done(self) -> bool:
        return False

    def cancel(self) -> bool:
        return True

    async def write(self, frame: Any) -> None:
        await self.written.put(frame)

    async def read(self) -> Any:
        return await self.answers.get()

    def answer(self, frame: Any) -> None:
        """Answer every call of ``frame`` with an empty response."""
        self.answers.put_nowait(
            streams_pb2.CallStreamResponse(
                answers=[streams_pb2.CallStreamResponse.Answer(id=c.id) for c in frame.calls]
            )
        )


class _FakeChannel:
    def __init__(self, call: _FakeStreamCall) -> None:
        self.call = call

    def stream_stream(self, *args: Any, **kwargs: Any) -> Any:
        return lambda **kwargs: self.call


async def test_calls_wait_for_the_last_frame_to_be_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While a frame of calls is unanswered, new calls wait, then go in one frame.

    With nothing unanswered a call goes at once, however long the linger.
    """
    monkeypatch.setattr(callstream, "LINGER", 3600.0)
    fake = _FakeStreamCall()
    stream = callstream.CallStream(_FakeChannel(fake), (), 1 << 20)  # type: ignore[arg-type]

    def call() -> asyncio.Task[Any]:
        return asyncio.ensure_future(stream.call("/p/M", b"", lambda b: b, None))

    first = call()
    frame = await asyncio.wait_for(fake.written.get(), 10)
    assert len(frame.calls) == 1
    held = [call() for _ in range(10)]
    await asyncio.sleep(0.2)
    assert fake.written.empty(), "a frame went while the first was unanswered"
    fake.answer(frame)
    batch = await asyncio.wait_for(fake.written.get(), 10)
    assert len(batch.calls) == 10
    fake.answer(batch)
    assert await asyncio.wait_for(asyncio.gather(first, *held), 10) == [b""] * 11

    last = call()
    fake.answer(await asyncio.wait_for(fake.written.get(), 10))
    assert await asyncio.wait_for(last, 10) == b""
    stream.close()


async def test_the_linger_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame that stays unanswered holds the next calls only for the linger."""
    monkeypatch.setattr(callstream, "LINGER", 0.02)
    fake = _FakeStreamCall()
    stream = callstream.CallStream(_FakeChannel(fake), (), 1 << 20)  # type: ignore[arg-type]
    calls = [asyncio.ensure_future(stream.call("/p/M", b"", lambda b: b, None))]
    frames = [await asyncio.wait_for(fake.written.get(), 10)]
    calls.append(asyncio.ensure_future(stream.call("/p/M", b"", lambda b: b, None)))
    frames.append(await asyncio.wait_for(fake.written.get(), 10))
    assert [len(f.calls) for f in frames] == [1, 1]
    for f in frames:
        fake.answer(f)
    assert await asyncio.wait_for(asyncio.gather(*calls), 10) == [b"", b""]
    stream.close()


async def test_a_shorter_deadline_after_a_longer_one_comes_first() -> None:
    """The one deadline timer moves to an earlier deadline; the later call lives on."""
    fake = _FakeStreamCall()
    stream = callstream.CallStream(_FakeChannel(fake), (), 1 << 20)  # type: ignore[arg-type]
    long = asyncio.ensure_future(stream.call("/p/M", b"", lambda b: b, 3600.0))
    first = await asyncio.wait_for(fake.written.get(), 10)
    short = asyncio.ensure_future(stream.call("/p/M", b"", lambda b: b, 0.05))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await asyncio.wait_for(short, 10)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The short call went in a frame of its own, then its cancellation.
    frames = [await asyncio.wait_for(fake.written.get(), 10) for _ in range(2)]
    (short_call,) = frames[0].calls
    assert 0 < short_call.timeout_micros <= 50_000
    assert list(frames[1].cancels) == [short_call.id]
    assert not long.done()
    fake.answer(first)
    assert await asyncio.wait_for(long, 10) == b""
    stream.close()


async def test_calls_with_one_deadline_expire_together_and_in_order() -> None:
    fake = _FakeStreamCall()
    stream = callstream.CallStream(_FakeChannel(fake), (), 1 << 20)  # type: ignore[arg-type]
    calls = [asyncio.ensure_future(stream.call("/p/M", b"", lambda b: b, 0.05)) for _ in range(50)]
    results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    assert all(
        isinstance(r, grpc.aio.AioRpcError) and r.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        for r in results
    ), results
    assert stream._waiting == {}
    assert len(stream._deadlines) == 0 and not stream._deadlines.armed
    stream.close()


async def test_the_deadlines_of_ended_calls_do_not_pile_up() -> None:
    """Thousands of answered calls with an hour's deadline leave the heap about as
    large as the calls in flight, and one timer in the loop."""
    fake = _FakeStreamCall()
    stream = callstream.CallStream(_FakeChannel(fake), (), 1 << 20)  # type: ignore[arg-type]

    async def answer_all() -> None:
        while True:
            fake.answer(await fake.written.get())

    answering = asyncio.ensure_future(answer_all())
    loop = asyncio.get_running_loop()

    def timers() -> int:
        """The loop's timers that are still to run."""
        return sum(not t.cancelled() for t in loop._scheduled)  # type: ignore[attr-defined]

    timers_before = timers()
    for _ in range(100):
        batch = [stream.call("/p/M", b"", lambda b: b, 3600.0) for _ in range(50)]
        assert await asyncio.wait_for(asyncio.gather(*batch), 10) == [b""] * 50
        assert len(stream._deadlines) <= 2 * 50 + 64
        assert stream._deadlines.armed
    # The stream's one deadline timer, whatever the other timers of the loop.
    assert timers() - timers_before <= 1
    answering.cancel()
    stream.close()
    assert len(stream._deadlines) == 0 and not stream._deadlines.armed


async def test_deadlines_expire_only_calls_in_flight_and_stop_when_cleared() -> None:
    from mattermost_plugin._internal.deadlines import Deadlines

    loop = asyncio.get_running_loop()
    in_flight: dict[int, object] = {1: None, 2: None, 3: None, 4: None}
    expired: list[int] = []
    deadlines = Deadlines(expired.append, lambda: in_flight)
    deadlines.add(loop, 0.06, 1)
    deadlines.add(loop, 0.02, 2)  # earlier: the timer moves to it
    deadlines.add(loop, 0.04, 3)
    deadlines.add(loop, 3600.0, 4)
    del in_flight[3]  # ended before its deadline
    await asyncio.sleep(0.2)
    assert expired == [2, 1]
    assert deadlines.armed  # for call 4

    # An expiry that ends the stream leaves no timer behind.
    later: list[int] = []

    def end_stream(call_id: int) -> None:
        later.append(call_id)
        deadlines.clear()

    deadlines = Deadlines(end_stream, lambda: in_flight)
    deadlines.add(loop, 0.01, 1)
    deadlines.add(loop, 0.01, 2)
    deadlines.add(loop, 0.05, 4)
    await asyncio.sleep(0.15)
    assert later == [1]
    assert not deadlines.armed and len(deadlines) == 0
